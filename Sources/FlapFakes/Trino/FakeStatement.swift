import Foundation
import TrinoClient

/// How the fake interprets a statement: session statements answer with the headers the real server sends;
/// queries get a result shape.
struct FakeStatement {
    var updateType: String?
    var responseHeaders: [(String, String)] = []
    var shape: FakeResultShape

    init(sql: String, defaultShape: FakeResultShape) {
        let text = Self.trimmed(sql)
        self.shape = defaultShape
        // Only a session statement needs its words: splitting and upper-casing a thousand-byte query word by word
        // cost the fake more than answering it.
        guard Self.sessionKeywords.contains(text.prefix { !$0.isWhitespace }.uppercased()) else {
            self.shape = Self.queryShape(text, defaultShape: defaultShape)
            return
        }
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        let upper = words.map { $0.uppercased() }
        self.shape = defaultShape
        func rest(after count: Int) -> String { words.dropFirst(count).joined(separator: " ") }
        func unquote(_ s: String) -> String {
            s.hasPrefix("'") && s.hasSuffix("'") && s.count >= 2 ? String(s.dropFirst().dropLast()).replacingOccurrences(of: "''", with: "'") : s
        }
        switch Array(upper.prefix(3)) {
        case ["SET", "SESSION", "AUTHORIZATION"]:
            self.session("SET SESSION AUTHORIZATION", ("X-Trino-Set-Authorization-User", unquote(rest(after: 3))))
        case ["RESET", "SESSION", "AUTHORIZATION"]:
            self.session("RESET SESSION AUTHORIZATION", ("X-Trino-Reset-Authorization-User", "true"))
        case let p where p.starts(with: ["SET", "SESSION"]):
            let assignment = rest(after: 2)
            let parts = assignment.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if parts.count == 2 {
                self.session("SET SESSION", ("X-Trino-Set-Session", "\(parts[0])=\(FormEncoding.encode(unquote(parts[1])))"))
            }
        case let p where p.starts(with: ["RESET", "SESSION"]):
            self.session("RESET SESSION", ("X-Trino-Clear-Session", rest(after: 2)))
        case let p where p.starts(with: ["USE"]):
            let target = rest(after: 1).split(separator: ".").map(String.init)
            if target.count == 2 {
                self.session("USE", ("X-Trino-Set-Catalog", target[0]), ("X-Trino-Set-Schema", target[1]))
            } else {
                self.session("USE", ("X-Trino-Set-Schema", target.first ?? ""))
            }
        case let p where p.starts(with: ["PREPARE"]) && upper.count > 3 && upper[2] == "FROM":
            self.session("PREPARE", ("X-Trino-Added-Prepare", "\(FormEncoding.encode(words[1]))=\(FormEncoding.encode(rest(after: 3)))"))
        case let p where p.starts(with: ["DEALLOCATE", "PREPARE"]):
            self.session("DEALLOCATE", ("X-Trino-Deallocated-Prepare", FormEncoding.encode(rest(after: 2))))
        case let p where p.starts(with: ["START", "TRANSACTION"]):
            self.session("START TRANSACTION", ("X-Trino-Started-Transaction-Id", UUID().uuidString.lowercased()))
        case let p where p.starts(with: ["COMMIT"]) || p.starts(with: ["ROLLBACK"]):
            self.session(upper[0], ("X-Trino-Clear-Transaction-Id", "true"))
        case let p where p.starts(with: ["SET", "ROLE"]):
            let role = words.count > 2 ? words[2] : "NONE"
            let catalog = upper.count > 4 && upper[3] == "IN" ? words[4] : "system"
            let spec = ["ALL", "NONE"].contains(role.uppercased()) ? role.uppercased() : "ROLE{\(role)}"
            self.session("SET ROLE", ("X-Trino-Set-Role", "\(catalog)=\(FormEncoding.encode(spec))"))
        case let p where p.starts(with: ["SET", "PATH"]):
            let path = rest(after: 2).split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ",")
            self.session("SET PATH", ("X-Trino-Set-Path", path))
        default:
            self.shape = Self.queryShape(text, defaultShape: defaultShape)
        }
    }

    private static let sessionKeywords: Set<String> = ["SET", "RESET", "USE", "PREPARE", "DEALLOCATE", "START", "COMMIT", "ROLLBACK"]

    /// `SELECT <integer>`, or the shape a marker in the text names, or the server's default.
    private static func queryShape(_ text: Substring, defaultShape: FakeResultShape) -> FakeResultShape {
        let words = text.split(maxSplits: 2, whereSeparator: \.isWhitespace)
        if words.count == 2, words[0].uppercased() == "SELECT", let n = Int64(words[1]) {
            var shape = FakeResultShape(kind: .constant)
            shape.constant = n
            return shape
        }
        if self.mentions(text, "sum_profit") { return .q9 }
        if self.mentions(text, "fake_types") { return FakeResultShape(kind: .types) }
        if self.mentions(text, "fake_bench") { return FakeResultShape(kind: .bench, rowCount: nil, keeping: defaultShape) }
        if self.mentions(text, "fake_realistic") { return FakeResultShape(kind: .realistic, rowCount: nil, keeping: defaultShape) }
        return defaultShape
    }

    /// Whether `text` holds `marker` (lower-case ASCII) in any letter case, compared as bytes.
    private static func mentions(_ text: Substring, _ marker: StaticString) -> Bool {
        let needle = UnsafeBufferPointer(start: marker.utf8Start, count: marker.utf8CodeUnitCount)
        let haystack = Array(text.utf8)
        guard haystack.count >= needle.count else { return false }
        for start in 0...(haystack.count - needle.count) {
            var i = 0
            while i < needle.count, haystack[start + i] | (haystack[start + i] &- 65 < 26 ? 0x20 : 0) == needle[i] { i += 1 }
            if i == needle.count { return true }
        }
        return false
    }

    /// Without surrounding white space and semicolons.
    private static func trimmed(_ sql: String) -> Substring {
        let isPadding: (Character) -> Bool = { $0.isWhitespace || $0 == ";" }
        guard let first = sql.firstIndex(where: { !isPadding($0) }), let last = sql.lastIndex(where: { !isPadding($0) }) else { return "" }
        return sql[first...last]
    }

    private mutating func session(_ updateType: String, _ headers: (String, String)...) {
        self.updateType = updateType
        self.responseHeaders = headers
        self.shape = FakeResultShape(kind: .none)
    }
}
