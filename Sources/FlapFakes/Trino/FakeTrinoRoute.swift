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
        let parts = request.path.split(separator: "/").map(String.init)
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
        var out = "{\"id\":\"\(query.id)\",\"infoUri\":\"\(base)/ui/query.html?\(query.id)\""
        if let nextURI {
            out += ",\"partialCancelUri\":\"\(base)/v1/statement/executing/partialCancel/\(query.id)/0/\(query.slug)/0\""
            out += ",\"nextUri\":\"\(nextURI)\""
        }
        if includeColumns, query.shape.kind != .none { out += ",\"columns\":" + query.shape.columnsJSON }
        if let data { out += ",\"data\":" + data }
        let elapsed = Self.millis(ContinuousClock.now - query.record.submittedAt)
        let total = max(1, query.pageCount)
        let progress = state == "FINISHED" ? 100.0 : Double(query.nextPage) * 100 / Double(total)
        out += ",\"stats\":{\"state\":\"\(state)\",\"queued\":\(state == "QUEUED"),\"scheduled\":\(state != "QUEUED"),"
        out += "\"progressPercentage\":\(progress),\"runningPercentage\":0.0,\"nodes\":1,\"totalSplits\":\(total),\"queuedSplits\":0,"
        out += "\"runningSplits\":\(state == "RUNNING" ? 1 : 0),\"completedSplits\":\(query.nextPage),\"cpuTimeMillis\":\(elapsed / 2),"
        out += "\"wallTimeMillis\":\(elapsed),\"queuedTimeMillis\":0,\"elapsedTimeMillis\":\(elapsed),"
        out += "\"processedRows\":\(query.record.rowsServed),\"processedBytes\":\(query.record.rowsServed * 48),\"physicalInputBytes\":0,"
        out += "\"physicalWrittenBytes\":0,\"peakMemoryBytes\":0,\"spilledBytes\":0,\"rootStage\":null}"
        if let error {
            let message = JSONWriterBridge.quoted(error.message)
            out += ",\"error\":{\"message\":\(message),\"errorCode\":\(error.code),\"errorName\":\"\(error.name)\",\"errorType\":\"\(error.type)\","
            out += "\"failureInfo\":{\"type\":\"io.trino.spi.TrinoException\",\"message\":\(message),\"suppressed\":[],\"stack\":[]}}"
        }
        out += ",\"warnings\":[]"
        if let updateType = query.statement.updateType, state == "FINISHED" { out += ",\"updateType\":\"\(updateType)\"" }
        out += "}"
        return Array(out.utf8)
    }

    private static func millis(_ d: Duration) -> Int64 {
        d.components.seconds * 1000 + d.components.attoseconds / 1_000_000_000_000_000
    }
}

import TrinoClient
enum JSONWriterBridge {
    static func quoted(_ s: String) -> String { JSONWriter.quoted(s) }
}
