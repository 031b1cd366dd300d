import FlapSystem
import Foundation
import HTTPWire

public typealias HTTPTransport = HTTPWire.HTTPTransport

/// A Trino client speaking the statement protocol: submit, follow `nextUri` to the end, apply session
/// headers, retry by policy, cancel with `DELETE nextUri`, and trace every hop.
///
/// ```swift
/// let client = TrinoClient(configuration: .init(server: URL(string: "http://trino:8080")!,
///                                               session: TrinoSession(user: "admin", catalog: "tpch", schema: "sf1")))
/// let result = try await client.execute(TrinoQuery("SELECT 1"))
/// ```
public final class TrinoClient: Sendable {
    public struct Configuration: Sendable {
        public var server: URL
        public var session: TrinoSession
        public var retryPolicy: RetryPolicy = .protocol
        /// Deadline of each HTTP request (sub-second values work on the socket transport).
        public var requestTimeout: Duration = .seconds(60)
        /// Deadline of a whole query unless the query sets its own; nil means none.
        public var queryTimeout: Duration?
        public var authentication: TrinoAuthentication?
        /// Send credentials over plain http (only when a proxy terminates TLS in front of Trino).
        public var allowInsecureCredentials = false
        /// Opt in to the spooling protocol with these encodings. Only `json` can be decoded here.
        public var spoolingEncodings: [String] = []
        public var userAgent = "flap-trino-client/0.1"
        /// How long a cancel (`DELETE nextUri`) may take once a query is cancelled or times out.
        public var cancelTimeout: Duration = .seconds(5)

        public init(server: URL, session: TrinoSession) {
            self.server = server
            self.session = session
        }
    }

    public let configuration: Configuration
    public let transport: any HTTPTransport
    private let sessionBox: Locked<TrinoSession>

    public init(configuration: Configuration, transport: any HTTPTransport = AutomaticTransport()) {
        self.configuration = configuration
        self.transport = transport
        self.sessionBox = Locked(configuration.session)
    }

    /// The session as the server last updated it.
    public var session: TrinoSession { self.sessionBox.value }

    /// Runs `query` to the end and returns every row.
    /// - Parameter trace: pass a recorder to keep the trace even when the query throws.
    /// - Throws: `TrinoQueryError`, `TrinoTransportError`, `TrinoProtocolError`, `TrinoClientError`, or `CancellationError`
    ///   (after sending `DELETE nextUri`).
    public func execute(_ query: TrinoQuery, trace: QueryTraceRecorder? = nil) async throws -> TrinoResult {
        let recorder = trace ?? QueryTraceRecorder()
        var rows = TrinoRows(pages: [])
        let final = try await self.run(query, recorder: recorder) { page in rows += page.rows }
        return TrinoResult(queryID: final.id, columns: final.columns ?? [], rows: rows, stats: final.stats,
                           updateType: final.updateType, updateCount: final.updateCount, warnings: final.warnings,
                           trace: recorder.snapshot)
    }

    public func execute(_ sql: String) async throws -> TrinoResult {
        try await self.execute(TrinoQuery(sql))
    }

    /// Pages of rows as they arrive. Stopping iteration (or cancelling the consumer) cancels the query on the server.
    public func pages(_ query: TrinoQuery, trace: QueryTraceRecorder? = nil) -> AsyncThrowingStream<TrinoPage, any Error> {
        let recorder = trace ?? QueryTraceRecorder()
        let (stream, continuation) = AsyncThrowingStream<TrinoPage, any Error>.makeStream(bufferingPolicy: .bufferingOldest(1))
        let producer = Task {
            do {
                _ = try await self.run(query, recorder: recorder) { page in
                    while case .dropped = continuation.yield(page) {
                        try await Task.sleep(for: .milliseconds(1))
                    }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { @Sendable _ in producer.cancel() }
        return stream
    }

    // MARK: - The statement protocol

    private func run(_ query: TrinoQuery, recorder: QueryTraceRecorder,
                     onPage: (TrinoPage) async throws -> Void) async throws -> QueryResults {
        // Stops at the first visible character (trimming a copy of a long statement cost every query start).
        guard query.sql.contains(where: { !$0.isWhitespace }) else { throw TrinoClientError.emptyStatement }
        if self.configuration.authentication != nil, !self.configuration.allowInsecureCredentials,
           self.configuration.server.scheme?.lowercased() != "https" {
            throw TrinoClientError.insecureCredentials(server: self.configuration.server.absoluteString)
        }
        recorder.setTransport(self.transportName(for: self.configuration.server))
        let timeout = query.timeout ?? self.configuration.queryTimeout
        let deadline = timeout.map { ContinuousClock.now + $0 } ?? .now + .seconds(86_400 * 365)
        var session = self.session
        for (name, value) in query.sessionProperties { session.properties[name] = value }
        var headers = try session.headers()
        for field in query.headers { headers.set(field.name, field.value) }
        if !self.configuration.spoolingEncodings.isEmpty {
            headers.set("X-Trino-Query-Data-Encoding", self.configuration.spoolingEncodings.joined(separator: ","))
        }
        let submitURL = self.configuration.server.appending(path: "v1/statement")
        var current: QueryResults?
        do {
            var results = try await self.statementRequest(.submit, method: "POST", url: submitURL, headers: headers,
                                                          body: Array(query.sql.utf8), deadline: deadline, recorder: recorder, columns: nil)
            recorder.setQueryID(results.id)
            var columns = results.columns
            var sizes: PageSizes?
            while true {
                current = results
                columns = results.columns ?? columns
                var rows = results.rows
                sizes = rows.lastPageSizes ?? sizes
                if let spooled = results.spooled {
                    guard let columns else { throw TrinoProtocolError.missingField("columns (spooled data arrived without columns)") }
                    rows += try await SegmentFetcher(client: self, recorder: recorder, deadline: deadline)
                        .rows(of: spooled, columns: columns)
                }
                if !rows.isEmpty, let columns {
                    try await onPage(TrinoPage(queryID: results.id, columns: columns, rows: rows, stats: results.stats))
                }
                guard let next = results.nextURI else { break }
                guard let nextURL = URL(string: next), let scheme = nextURL.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
                    throw TrinoProtocolError.invalidNextURI(next)
                }
                try Task.checkCancellation()
                results = try await self.statementRequest(.poll, method: "GET", url: nextURL, headers: try self.followHeaders(),
                                                          body: [], deadline: deadline, recorder: recorder, columns: columns, sizes: sizes)
                if results.columns == nil { results.columns = columns }
            }
            recorder.finish()
            if let error = results.error { throw error }
            return results
        } catch {
            recorder.finish()
            let cancelled = error is CancellationError || Task.isCancelled
            let timedOut = ContinuousClock.now >= deadline
            if cancelled || timedOut, let next = current?.nextURI, let url = URL(string: next) {
                await self.cancel(url, recorder: recorder)
            }
            if cancelled { throw CancellationError() }
            if timedOut, let timeout { throw TrinoClientError.deadlineExceeded(after: timeout, queryID: current?.id) }
            throw error
        }
    }

    /// Headers for following nextUri: the protocol needs only the user; Java sends user and original user.
    private func followHeaders() throws -> HTTPHeaders {
        var headers = HTTPHeaders()
        let session = self.session
        headers.add("X-Trino-User", session.user)
        if let original = session.originalUser { headers.add("X-Trino-Original-User", original) }
        return headers
    }

    /// `DELETE nextUri` in a task of its own, so a cancelled caller still tells the server.
    private func cancel(_ url: URL, recorder: QueryTraceRecorder) async {
        let timeout = self.configuration.cancelTimeout
        let task = Task.detached { [self] in
            let hop = recorder.begin(.cancel, method: "DELETE", uri: url.absoluteString)
            var request = HTTPClientRequest(method: "DELETE", url: url, headers: (try? self.followHeaders()) ?? [:])
            self.decorate(&request)
            let start = ContinuousClock.now
            do {
                let response = try await self.transport(for: url).send(request, deadline: .now + timeout)
                recorder.record(.init(start: start, end: .now, status: response.status, bytesSent: 0, bytesReceived: response.body.count,
                                      connection: response.connection, connectionEvents: response.connectionEvents,
                                      failure: response.status == 204 || response.status == 200 ? nil : .status(response.status, retryAfter: nil)), hop: hop)
            } catch let failure as HTTPRequestFailure {
                recorder.record(.init(start: start, end: .now, status: nil, bytesSent: 0, bytesReceived: 0, connection: failure.connection,
                                      connectionEvents: failure.connectionEvents, failure: .transport(failure.error)), hop: hop)
            } catch {}
        }
        await task.value
    }

    /// One protocol request with retries; returns the decoded results and applies session headers.
    private func statementRequest(_ purpose: QueryTrace.Hop.Purpose, method: String, url: URL, headers: HTTPHeaders, body: [UInt8],
                                  deadline: ContinuousClock.Instant, recorder: QueryTraceRecorder,
                                  columns: [TrinoColumn]?, sizes: PageSizes? = nil) async throws -> QueryResults {
        var request = HTTPClientRequest(method: method, url: url, headers: headers, body: body)
        if method == "POST" { request.headers.set("Content-Type", "text/plain; charset=utf-8") }
        self.decorate(&request)
        let response = try await self.send(request, purpose: purpose, deadline: deadline, recorder: recorder, expecting: [200])
        let results = try Self.decodeResults(response, url: url, columns: columns, sizes: sizes)
        self.applySessionHeaders(response.headers)
        return results
    }

    /// The page in `response`; a body that is not JSON is reported with the answer's status, type and start.
    /// (Synchronous on purpose: a typed catch inside the async caller crashes Swift 6.3's SIL ownership verifier.)
    private static func decodeResults(_ response: HTTPClientResponse, url: URL, columns: [TrinoColumn]?,
                                      sizes: PageSizes?) throws(TrinoProtocolError) -> QueryResults {
        do {
            return try QueryResults.decode(response.body, knownColumns: columns, sizes: sizes)
        } catch {
            guard error.code == .notJSON else { throw error }
            throw .notJSON(status: response.status, contentType: response.headers["Content-Type"], uri: url.absoluteString,
                           bodyExcerpt: Self.excerpt(response.body), parseError: error.detail ?? "")
        }
    }

    /// Session changes the coordinator asked for (`X-Trino-Set-*`, `X-Trino-Clear-*`).
    private func applySessionHeaders(_ headers: HTTPHeaders) {
        self.sessionBox.withLock { $0.apply(headers) }
    }

    func decorate(_ request: inout HTTPClientRequest) {
        request.headers.set("User-Agent", self.configuration.userAgent)
        if let auth = self.configuration.authentication { request.headers.set("Authorization", auth.headerValue) }
    }

    func transport(for url: URL) -> any HTTPTransport {
        if let automatic = self.transport as? AutomaticTransport { return automatic.transport(for: url) }
        return self.transport
    }

    private func transportName(for url: URL) -> String { self.transport(for: url).name }

    /// Sends with the retry policy, recording every attempt. Returns a response whose status is in `expecting`.
    func send(_ request: HTTPClientRequest, purpose: QueryTrace.Hop.Purpose, deadline: ContinuousClock.Instant,
              recorder: QueryTraceRecorder, expecting: Set<Int>) async throws -> HTTPClientResponse {
        let policy = self.configuration.retryPolicy
        let hop = recorder.begin(purpose, method: request.method, uri: request.url.absoluteString)
        let transport = self.transport(for: request.url)
        let first = ContinuousClock.now
        var attempts = 0
        var random = SystemRandomNumberGenerator()
        while true {
            attempts += 1
            let start = ContinuousClock.now
            let requestDeadline = min(deadline, start + self.configuration.requestTimeout)
            let failure: HopFailure
            var lastResponse: HTTPClientResponse?
            do {
                let response = try await transport.send(request, deadline: requestDeadline)
                lastResponse = response
                let answer = Self.classify(response, expecting: expecting, method: request.method)
                recorder.record(.init(start: start, end: .now, status: response.status, bytesSent: request.body.count,
                                      bytesReceived: response.body.count, connection: response.connection,
                                      connectionEvents: response.connectionEvents, failure: answer), hop: hop)
                guard let answer else { return response }
                failure = answer
            } catch let wire as HTTPRequestFailure {
                recorder.record(.init(start: start, end: .now, status: nil, bytesSent: request.body.count, bytesReceived: 0,
                                      connection: wire.connection, connectionEvents: wire.connectionEvents,
                                      failure: .transport(wire.error)), hop: hop)
                failure = .transport(wire.error)
            }
            let retry = policy.shouldRetry(failure, method: request.method, attemptsMade: attempts, elapsed: .now - first)
            let delay = retry ? policy.delay(afterAttempt: attempts, failure: failure, using: &random) : .zero
            guard retry, ContinuousClock.now + delay < deadline else {
                throw Self.finalError(failure, request: request, response: lastResponse, attempts: attempts)
            }
            recorder.noteRetryDelay(delay, hop: hop)
            try await Task.sleep(for: delay)
        }
    }

    /// Nil when the response is acceptable; otherwise the failure to judge for a retry.
    private static func classify(_ response: HTTPClientResponse, expecting: Set<Int>, method: String) -> HopFailure? {
        if expecting.contains(response.status) {
            if response.status == 200, response.body.isEmpty, method != "DELETE" { return .emptyBody }
            return nil
        }
        return .status(response.status, retryAfter: Self.retryAfter(response.headers["Retry-After"]))
    }

    /// `Retry-After` as seconds or an HTTP date.
    static func retryAfter(_ value: String?) -> Duration? {
        guard let value = value?.trimmingCharacters(in: .whitespaces), !value.isEmpty else { return nil }
        if let seconds = Double(value), seconds >= 0 { return .milliseconds(Int64(seconds * 1000)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: value) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSinceNow) * 1000))
    }

    private static func finalError(_ failure: HopFailure, request: HTTPClientRequest, response: HTTPClientResponse?, attempts: Int) -> any Error {
        switch failure {
        case .transport(let error):
            return TrinoTransportError(method: request.method, uri: request.url.absoluteString, attempts: attempts, underlying: error)
        case .status, .emptyBody:
            return TrinoProtocolError.unexpectedStatus(status: response?.status ?? 0, method: request.method,
                                                       uri: request.url.absoluteString, bodyExcerpt: Self.excerpt(response?.body ?? []))
        }
    }

    static func excerpt(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(300), as: UTF8.self)
        return text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
    }
}
