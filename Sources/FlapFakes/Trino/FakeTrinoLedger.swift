/// What really happened to one query on the fake server: the truth a client's verdict is checked against.
public struct FakeQueryRecord: Sendable, Equatable {
    public enum Outcome: Sendable, Equatable {
        case queued
        case running
        case finished
        case failed(errorName: String)
        /// `DELETE nextUri` (or `DELETE /v1/query/{id}`) arrived: the query ended `USER_CANCELED`.
        case cancelled
        /// The client stopped polling for longer than the client timeout: `ABANDONED_QUERY`.
        case abandoned
    }

    public var queryID: String
    public var sql: String
    public var user: String
    /// Headers of the submit request, names lower-cased.
    public var submitHeaders: [String: [String]]
    public var outcome: Outcome
    public var submittedAt: ContinuousClock.Instant
    public var dispatchedAt: ContinuousClock.Instant?
    public var endedAt: ContinuousClock.Instant?
    /// Pages with data served for the first time.
    public var pagesServed: Int
    public var rowsServed: Int
    public var totalRows: Int
    /// GETs of the current token answered from the cache (a client re-fetching after a dropped response).
    public var replays: Int
    /// 410 Gone answers for stale tokens.
    public var goneAnswers: Int
    public var segmentsDownloaded: Int
    public var segmentsAcknowledged: Int
    public var cancelRequests: Int
    /// Requests per listener port, to tell which Service a client went through.
    public var requestsByPort: [Int: Int]

    public func submitHeader(_ name: String) -> [String] { self.submitHeaders[name.lowercased()] ?? [] }
}

/// A misbehaviour the fake applies to the next matching requests.
public struct FakeTrinoFault: Sendable {
    public enum Target: Sendable, Equatable {
        case submit, poll, cancel, segment, any
    }

    public enum Action: Sendable, Equatable {
        /// Answer with this status, body and headers without touching the query (as a proxy in front would).
        case status(Int, body: String = "", headers: [String: String] = [:])
        /// Serve the real response but close the connection after this many body bytes (the query advances).
        case dropMidBody(afterBytes: Int)
        /// Close the connection without answering (the query does not advance).
        case closeWithoutResponse
        /// Wait, then serve normally.
        case delay(Duration)
    }

    public var target: Target
    public var action: Action
    public var remaining: Int

    public init(_ action: Action, on target: Target = .any, count: Int = 1) {
        self.action = action
        self.target = target
        self.remaining = count
    }

    /// An nginx-style HTML error page, as a proxy sends it.
    public static func proxyErrorPage(_ status: Int) -> Action {
        let title = status == 502 ? "502 Bad Gateway" : status == 503 ? "503 Service Temporarily Unavailable" : "\(status) Error"
        return .status(status, body: "<html>\r\n<head><title>\(title)</title></head>\r\n<body>\r\n<center><h1>\(title)</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
                       headers: ["Content-Type": "text/html"])
    }
}
