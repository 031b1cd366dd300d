import Foundation
import HTTPWire

/// Every HTTP hop of one query on the continuous clock: what the benchmark engine measures.
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
}

/// Collects a trace while a query runs; safe to read after the query threw.
public final class QueryTraceRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var trace: QueryTrace

    public init(transport: String = "unknown", start: ContinuousClock.Instant = .now) {
        self.trace = QueryTrace(transport: transport, queryID: nil, start: start, end: nil, hops: [])
    }

    public var snapshot: QueryTrace { self.lock.withLock { self.trace } }

    func setTransport(_ name: String) { self.lock.withLock { self.trace.transport = name } }
    func setQueryID(_ id: String) { self.lock.withLock { if self.trace.queryID == nil { self.trace.queryID = id } } }
    func finish() { self.lock.withLock { self.trace.end = .now } }

    func begin(_ purpose: QueryTrace.Hop.Purpose, method: String, uri: String) -> Int {
        self.lock.withLock {
            let index = self.trace.hops.count
            self.trace.hops.append(QueryTrace.Hop(index: index, purpose: purpose, method: method, uri: uri, attempts: []))
            return index
        }
    }

    func record(_ attempt: QueryTrace.Attempt, hop: Int) {
        self.lock.withLock { self.trace.hops[hop].attempts.append(attempt) }
    }

    func noteRetryDelay(_ delay: Duration, hop: Int) {
        self.lock.withLock {
            guard !self.trace.hops[hop].attempts.isEmpty else { return }
            self.trace.hops[hop].attempts[self.trace.hops[hop].attempts.count - 1].retryDelay = delay
        }
    }
}
