import FlapJSON
import FlapSystem
import HTTPWire

/// The endpoints of the statement protocol the fake serves.
enum FakeTrinoRoute {
    case submit
    case queued(id: String, slug: String, token: Int, method: String)
    case executing(id: String, slug: String, token: Int, method: String)
    case kill(id: String)
    case download(String)
    case acknowledge(String)
    case info
    case queryPage
    case notFound
    case badRequest(String)

    init(_ request: HTTPServerRequest) {
        // Split as bytes: Character-wise splitting was the costliest part of answering a poll.
        let parts = request.path.utf8.split(separator: UInt8(ascii: "/")).map { String(Substring($0)) }
        let method = request.method
        switch (method, parts.count, parts.first == "v1" ? Array(parts.dropFirst()) : []) {
        case ("POST", 2, ["statement"]): self = .submit
        case ("GET", 2, ["info"]): self = .info
        case ("DELETE", 3, let p) where p.first == "query": self = .kill(id: p[1])
        case ("GET", 4, let p) where p.starts(with: ["spooled", "download"]): self = .download(p[2])
        case ("GET", 4, let p) where p.starts(with: ["spooled", "ack"]): self = .acknowledge(p[2])
        case (_, 6, let p) where p.first == "statement" && (p[1] == "queued" || p[1] == "executing"):
            guard ["GET", "DELETE", "HEAD"].contains(method) else { self = .badRequest("method \(method) not allowed"); return }
            guard let token = Int(p[4]) else { self = .notFound; return }
            self = p[1] == "queued" ? .queued(id: p[2], slug: p[3], token: token, method: method)
                                    : .executing(id: p[2], slug: p[3], token: token, method: method)
        default:
            self = parts.first == "ui" ? .queryPage : .notFound
        }
    }

    var faultTarget: FakeTrinoFault.Target? {
        switch self {
        case .submit: .submit
        case .queued(_, _, _, let method), .executing(_, _, _, let method): method == "DELETE" ? .cancel : .poll
        case .kill: .cancel
        case .download: .segment
        default: nil
        }
    }

    var needsAuthorization: Bool {
        switch self {
        case .submit, .queued, .executing, .kill: true
        default: false
        }
    }

    /// Airlift duration text such as `1s`, `250ms`, `1.5s`.
    static func duration(_ text: String) -> Duration? { DurationText.parse(text) }
}

/// Writes `QueryResults` JSON with the fields the official clients require.
enum FakeTrinoResponse {
    static func json(_ query: FakeTrinoQuery, base: String, nextURI: String?, state: String, data: String?,
                     error: FakeTrinoQuery.QueryFailure?, includeColumns: Bool) -> [UInt8] {
        // Appended as bytes: interpolating one String per field cost a busy fake a tenth of its time.
        var out = Bytes(capacity: 1024 + (data?.utf8.count ?? 0))
        out.add("{\"id\":\"", query.id, "\",\"infoUri\":\"", base, "/ui/query.html?", query.id, "\"")
        if let nextURI {
            out.add(",\"partialCancelUri\":\"", base, "/v1/statement/executing/partialCancel/", query.id, "/0/", query.slug, "/0\"")
            out.add(",\"nextUri\":\"", nextURI, "\"")
        }
        if includeColumns, query.shape.kind != .none { out.add(",\"columns\":", query.shape.columnsJSON) }
        if let data { out.add(",\"data\":", data) }
        let elapsed = Self.millis(ContinuousClock.now - query.record.submittedAt)
        let total = max(1, query.pageCount)
        let progress = state == "FINISHED" ? 100.0 : Double(query.nextPage) * 100 / Double(total)
        out.add(",\"stats\":{\"state\":\"", state, "\",\"queued\":", state == "QUEUED" ? "true" : "false")
        out.add(",\"scheduled\":", state != "QUEUED" ? "true" : "false", ",\"progressPercentage\":", String(progress))
        out.add(",\"runningPercentage\":0.0,\"nodes\":1,\"totalSplits\":", String(total), ",\"queuedSplits\":0,")
        out.add("\"runningSplits\":", state == "RUNNING" ? "1" : "0", ",\"completedSplits\":", String(query.nextPage))
        out.add(",\"cpuTimeMillis\":", String(elapsed / 2), ",\"wallTimeMillis\":", String(elapsed), ",\"queuedTimeMillis\":0")
        out.add(",\"elapsedTimeMillis\":", String(elapsed), ",\"processedRows\":", String(query.record.rowsServed))
        out.add(",\"processedBytes\":", String(query.record.rowsServed * 48), ",\"physicalInputBytes\":0,")
        out.add("\"physicalWrittenBytes\":0,\"peakMemoryBytes\":0,\"spilledBytes\":0,\"rootStage\":null}")
        if let error {
            let message = JSONWriterBridge.quoted(error.message)
            out.add(",\"error\":{\"message\":", message, ",\"errorCode\":", String(error.code), ",\"errorName\":\"", error.name)
            out.add("\",\"errorType\":\"", error.type, "\",\"failureInfo\":{\"type\":\"io.trino.spi.TrinoException\",\"message\":")
            out.add(message, ",\"suppressed\":[],\"stack\":[]}}")
        }
        out.add(",\"warnings\":[]")
        if let updateType = query.statement.updateType, state == "FINISHED" { out.add(",\"updateType\":\"", updateType, "\"") }
        out.add("}")
        return out.bytes
    }

    /// A byte buffer written piece by piece.
    private struct Bytes {
        var bytes: [UInt8] = []

        init(capacity: Int) { self.bytes.reserveCapacity(capacity) }

        mutating func add(_ a: String, _ b: String = "", _ c: String = "", _ d: String = "", _ e: String = "", _ f: String = "",
                          _ g: String = "") {
            self.bytes.append(contentsOf: a.utf8)
            self.bytes.append(contentsOf: b.utf8)
            self.bytes.append(contentsOf: c.utf8)
            self.bytes.append(contentsOf: d.utf8)
            self.bytes.append(contentsOf: e.utf8)
            self.bytes.append(contentsOf: f.utf8)
            self.bytes.append(contentsOf: g.utf8)
        }
    }

    private static func millis(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}

import TrinoClient
enum JSONWriterBridge {
    static func quoted(_ s: String) -> String { JSONWriter.quoted(s) }
}
