import FlapJSON
import Foundation

/// One request as Envoy logged it: the status it answered and the response flags that say why, such as `NC`
/// (cluster_not_found: the route names a cluster Envoy does not have yet) or `NR` (no route). Only Envoy can
/// tell a 503 of its own from an upstream's, so the lab reads its access log rather than guessing from the status.
public struct EnvoyLoggedResponse: Sendable, Codable, Equatable {
    public var method: String
    public var path: String
    public var status: Int
    /// `%RESPONSE_FLAGS%`: `-` when Envoy had nothing to say.
    public var flags: String
    /// `%RESPONSE_CODE_DETAILS%`, e.g. `cluster_not_found`, `route_not_found`, `via_upstream`.
    public var details: String

    /// The Trino query a statement-protocol path belongs to (`/v1/statement/{queued|executing}/<id>/...`).
    public var queryID: String? {
        let parts = self.path.split(separator: "?").first?.split(separator: "/") ?? []
        guard parts.count >= 4, parts[0] == "v1", parts[1] == "statement", ["queued", "executing"].contains(parts[2]) else { return nil }
        return String(parts[3])
    }

    /// Envoy answered this itself (no upstream response): the flag names the reason.
    public var isLocalReply: Bool { self.flags != "-" && !self.flags.isEmpty }
}

/// The lab's Envoy access log: JSON lines written by Envoy's file logger, flushed every `flushMilliseconds`
/// (Envoy's default is 10 s, too late for a report written right after the run).
enum EnvoyAccessLog {
    static let flushMilliseconds = 100

    /// The access-log stanza for the HTTP connection manager.
    static func configuration(path: String) -> JSONValue {
        [[
            "name": "envoy.access_loggers.file",
            "typed_config": [
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": .string(path),
                "log_format": ["json_format": [
                    "method": "%REQ(:METHOD)%", "path": "%REQ(:PATH)%", "status": "%RESPONSE_CODE%",
                    "flags": "%RESPONSE_FLAGS%", "details": "%RESPONSE_CODE_DETAILS%",
                ]],
            ],
        ]]
    }

    /// Parses the log; lines that are not complete entries (a partial last line) are skipped.
    static func parse(_ text: String) -> [EnvoyLoggedResponse] {
        text.split(separator: "\n").compactMap { line in
            guard let entry = try? JSONValue.parse(String(line)),
                  let method = entry["method"]?.stringValue, let path = entry["path"]?.stringValue,
                  let status = entry["status"]?.int64Value ?? entry["status"]?.stringValue.flatMap({ Int64($0) })
            else { return nil }
            return EnvoyLoggedResponse(method: method, path: path, status: Int(status),
                                       flags: entry["flags"]?.stringValue ?? "-", details: entry["details"]?.stringValue ?? "")
        }
    }
}
