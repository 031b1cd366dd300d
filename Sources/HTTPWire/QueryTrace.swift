import FlapSystem
import Foundation

/// Every HTTP hop of one query on the continuous clock: what the benchmark engine measures. Shared by the Trino
/// client and any other workload, so reports treat every workload's hops alike.
public struct QueryTrace: Sendable {
    /// Which transport carried the requests (`socket`, `urlsession`).
    public var transport: String
    public var queryID: String?
    public var start: ContinuousClock.Instant
    public var end: ContinuousClock.Instant?
    public var hops: [Hop]

    public init(transport: String, queryID: String?, start: ContinuousClock.Instant, end: ContinuousClock.Instant?, hops: [Hop]) {
        self.transport = transport
        self.queryID = queryID
        self.start = start
        self.end = end
        self.hops = hops
    }

    /// One logical request (submit, a poll of one nextUri, a cancel, a segment) and all its attempts.
    public struct Hop: Sendable {
        public enum Purpose: String, Sendable, Codable {
            case submit, poll, cancel, segment, acknowledge
            /// A request of a workload that is not Trino's protocol.
            case request
        }
        public var index: Int
        public var purpose: Purpose
        public var method: String
        public var uri: String
        public var attempts: [Attempt]

        public init(index: Int, purpose: Purpose, method: String, uri: String, attempts: [Attempt]) {
            self.index = index
            self.purpose = purpose
            self.method = method
            self.uri = uri
            self.attempts = attempts
        }

        public var start: ContinuousClock.Instant { self.attempts.first?.start ?? .now }
        public var end: ContinuousClock.Instant { self.attempts.last?.end ?? self.start }
        /// The status of the last attempt, if it got one.
        public var finalStatus: Int? { self.attempts.last?.status }
        public var succeeded: Bool { self.attempts.last?.failure == nil && self.attempts.last?.status != nil }
    }

    public struct Attempt: Sendable {
        public var start: ContinuousClock.Instant
        public var end: ContinuousClock.Instant
        public var status: Int?
        public var bytesSent: Int
        public var bytesReceived: Int
        public var connection: ConnectionUse?
        public var connectionEvents: [ConnectionEvent]
        /// Why this attempt was not accepted (nil for the attempt that answered the hop).
        public var failure: HopFailure?
        /// The pause taken before the next attempt, when the policy retried.
        public var retryDelay: Duration?

        public init(start: ContinuousClock.Instant, end: ContinuousClock.Instant, status: Int?, bytesSent: Int, bytesReceived: Int,
                    connection: ConnectionUse?, connectionEvents: [ConnectionEvent], failure: HopFailure?, retryDelay: Duration? = nil) {
            self.start = start
            self.end = end
            self.status = status
            self.bytesSent = bytesSent
            self.bytesReceived = bytesReceived
            self.connection = connection
            self.connectionEvents = connectionEvents
            self.failure = failure
            self.retryDelay = retryDelay
        }
    }

    /// Connections this query opened.
    public var connectionsOpened: Int {
        self.hops.flatMap(\.attempts).flatMap(\.connectionEvents).filter { $0.kind == .opened }.count
    }

    /// Connections this query opened because the peer had closed one it used (or was about to reuse). A shared
    /// pool that grows under concurrency also opens connections for a query; those are not reconnects.
    public var reconnects: Int {
        Reconnects.count(self.hops.flatMap(\.attempts).flatMap(\.connectionEvents).map(\.kind.rawValue))
    }
}

/// Collects a trace while a query runs; safe to read after the query threw. A custom workload records each
/// request with ``record(method:uri:purpose:start:status:bytesSent:bytesReceived:connection:connectionEvents:failure:)``.
public final class QueryTraceRecorder: Sendable {
    private let trace: Locked<QueryTrace>

    public init(transport: String = "unknown", start: ContinuousClock.Instant = .now) {
        self.trace = Locked(QueryTrace(transport: transport, queryID: nil, start: start, end: nil, hops: []))
    }

    /// The trace so far.
    public var snapshot: QueryTrace { self.trace.value }

    public func setTransport(_ name: String) { self.trace.withLock { $0.transport = name } }
    public func setQueryID(_ id: String) { self.trace.withLock { if $0.queryID == nil { $0.queryID = id } } }
    public func finish() { self.trace.withLock { $0.end = .now } }

    /// Records one request that ended now as a hop of a single attempt, and returns the hop's index.
    @discardableResult
    public func record(method: String, uri: String, purpose: QueryTrace.Hop.Purpose = .request, start: ContinuousClock.Instant,
                       status: Int?, bytesSent: Int = 0, bytesReceived: Int = 0, connection: ConnectionUse? = nil,
                       connectionEvents: [ConnectionEvent] = [], failure: HopFailure?) -> Int {
        let attempt = QueryTrace.Attempt(start: start, end: .now, status: status, bytesSent: bytesSent, bytesReceived: bytesReceived,
                                         connection: connection, connectionEvents: connectionEvents, failure: failure)
        let index = self.begin(purpose, method: method, uri: uri)
        self.record(attempt, hop: index)
        self.finish()
        return index
    }

    /// Opens a hop whose attempts (retries) are added with ``record(_:hop:)``.
    public func begin(_ purpose: QueryTrace.Hop.Purpose, method: String, uri: String) -> Int {
        self.trace.withLock { trace in
            let index = trace.hops.count
            trace.hops.append(QueryTrace.Hop(index: index, purpose: purpose, method: method, uri: uri, attempts: []))
            return index
        }
    }

    public func record(_ attempt: QueryTrace.Attempt, hop: Int) {
        self.trace.withLock { $0.hops[hop].attempts.append(attempt) }
    }

    public func noteRetryDelay(_ delay: Duration, hop: Int) {
        self.trace.withLock { trace in
            guard !trace.hops[hop].attempts.isEmpty else { return }
            trace.hops[hop].attempts[trace.hops[hop].attempts.count - 1].retryDelay = delay
        }
    }
}

/// Why one attempt of a hop did not produce a usable response.
public enum HopFailure: Sendable, Equatable, Hashable, CustomStringConvertible {
    case status(Int, retryAfter: Duration?)
    case emptyBody
    case transport(HTTPWireError)

    public var description: String {
        switch self {
        case .status(let code, let retryAfter): "HTTP \(code)" + (retryAfter.map { " (Retry-After \($0))" } ?? "")
        case .emptyBody: "HTTP 200 with an empty body"
        case .transport(let error): error.description
        }
    }

    /// What a report keeps of this failure, and what a retry policy judges.
    public var code: FailureCode {
        switch self {
        case .status(let status, _): .status(status)
        case .emptyBody: .emptyBody
        case .transport(let error): .wire(WireFailure(error))
        }
    }
}

/// A failed attempt as reports store it: `status:502`, `empty`, `wire:connectionReset` in files.
public enum FailureCode: Sendable, Hashable, Codable, CustomStringConvertible {
    case status(Int)
    case emptyBody
    case wire(WireFailure)

    public var description: String {
        switch self {
        case .status(let status): "status:\(status)"
        case .emptyBody: "empty"
        case .wire(let failure): "wire:\(failure.rawValue)"
        }
    }

    public init?(_ text: String) {
        if text == "empty" {
            self = .emptyBody
        } else if text.hasPrefix("status:"), let status = Int(text.dropFirst(7)) {
            self = .status(status)
        } else if text.hasPrefix("wire:"), let failure = WireFailure(rawValue: String(text.dropFirst(5))) {
            self = .wire(failure)
        } else {
            return nil
        }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let code = FailureCode(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\"\(text)\" is not a failure code (status:N, empty, wire:KIND)"))
        }
        self = code
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(self.description)
    }
}

/// The kind of a transport failure, without its details.
public enum WireFailure: String, Sendable, Hashable, Codable, CaseIterable {
    case connectionReset, connectionRefused, closedBeforeComplete, readTimedOut, writeTimedOut, connectTimedOut, hostNotFound, other

    public init(_ error: HTTPWireError) {
        switch error {
        case .connectionReset: self = .connectionReset
        case .connectionRefused: self = .connectionRefused
        case .closedBeforeComplete: self = .closedBeforeComplete
        case .readTimedOut: self = .readTimedOut
        case .writeTimedOut: self = .writeTimedOut
        case .connectTimedOut: self = .connectTimedOut
        case .hostNotFound: self = .hostNotFound
        default: self = .other
        }
    }
}

/// The reconnect rule, over connection event kinds in order: an `opened` counts when a peer closure (`closedByPeer`,
/// `closedByPeerWhileIdle`, `reset`) came before it and no open has answered that closure yet.
public enum Reconnects {
    static let peerClosures: Set<String> = [ConnectionEvent.Kind.closedByPeer.rawValue, ConnectionEvent.Kind.closedByPeerWhileIdle.rawValue,
                                            ConnectionEvent.Kind.reset.rawValue]

    public static func count(_ kinds: [String]) -> Int { self.reconnecting(kinds).filter { $0 }.count }

    /// For each event, whether it is an open that counts as a reconnect.
    public static func reconnecting(_ kinds: [String]) -> [Bool] {
        var owed = false
        return kinds.map { kind in
            if self.peerClosures.contains(kind) { owed = true; return false }
            guard kind == ConnectionEvent.Kind.opened.rawValue, owed else { return false }
            owed = false
            return true
        }
    }
}
