import Foundation
import HTTPWire
import TrinoClient

/// The query registry and protocol state machine behind one or more fake listeners
/// (several listeners = several Services selecting the same coordinator pod).
final class FakeTrinoCoordinator: @unchecked Sendable {
    let configuration: FakeTrinoServer.Configuration
    // Everything below is guarded by `lock`; long polls wait on `changes` with the lock released.
    private let lock = NSLock()
    private let changes = ChangeSignal()
    private var queries: [String: FakeTrinoQuery] = [:]
    private var order: [String] = []
    private var segments: [String: (queryID: String, key: String, body: [UInt8])] = [:]
    private var faults: [FakeTrinoFault] = []
    private var counter = 0
    /// nextUri slugs: unguessable enough for a fake, and without Foundation's UUID, which opens /dev/urandom per call.
    private var slugs = SplitMix64(seed: UInt64.random(in: .min ... .max))
    private let suffix: String
    /// Queries not yet ended, so expiry does not scan finished ones.
    private var active: Set<String> = []
    private var nextExpiryScan = ContinuousClock.now
    private let pageCache = FakePageCache()

    init(configuration: FakeTrinoServer.Configuration) {
        self.configuration = configuration
        let letters = Array("abcdefghijklmnopqrstuvwxyz")
        self.suffix = String((0..<5).map { _ in letters.randomElement()! })
    }

    /// Generates the default shape's pages ahead of time.
    func warmPageCache() {
        let shape = self.configuration.shape
        let perPage = max(1, self.configuration.rowsPerPage)
        for start in stride(from: 0, to: shape.rowCount, by: perPage) {
            _ = self.pageCache.rowsJSON(shape, start..<min(shape.rowCount, start + perPage))
        }
    }

    func inject(_ fault: FakeTrinoFault) { self.locked { self.faults.append(fault) } }
    func clearFaults() { self.locked { self.faults.removeAll() } }

    var records: [FakeQueryRecord] {
        self.locked {
            self.expireAbandoned(force: true)
            return self.order.compactMap { self.queries[$0]?.record }
        }
    }

    func record(_ id: String) -> FakeQueryRecord? {
        self.locked {
            self.expireAbandoned(force: true)
            return self.queries[id]?.record
        }
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        self.lock.lock()
        defer { self.lock.unlock() }
        return try body()
    }

    // MARK: - Request handling

    func handle(_ request: HTTPServerRequest, port: Int) async -> HTTPServerResponse {
        let route = FakeTrinoRoute(request)
        var dropAfter: Int?
        if let action = self.takeFault(for: route.faultTarget) {
            switch action {
            case .status(let status, let body, let headers):
                return HTTPServerResponse(status: status, headers: HTTPHeaders(headers.map { ($0.key, $0.value) }), body: Array(body.utf8))
            case .closeWithoutResponse:
                return HTTPServerResponse(delivery: .closeWithoutResponse)
            case .delay(let duration):
                try? await Task.sleep(for: duration)
            case .dropMidBody(let bytes):
                dropAfter = bytes
            }
        }
        var response = await self.route(route, request: request, port: port)
        if let dropAfter { response.delivery = .dropAfterBodyBytes(dropAfter) }
        return response
    }

    private func takeFault(for target: FakeTrinoFault.Target?) -> FakeTrinoFault.Action? {
        guard let target else { return nil }
        return self.locked {
            guard let index = self.faults.firstIndex(where: { $0.remaining > 0 && ($0.target == .any || $0.target == target) }) else { return nil }
            self.faults[index].remaining -= 1
            let action = self.faults[index].action
            if self.faults[index].remaining == 0 { self.faults.remove(at: index) }
            return action
        }
    }

    private func route(_ route: FakeTrinoRoute, request: HTTPServerRequest, port: Int) async -> HTTPServerResponse {
        if route.needsAuthorization, let required = self.configuration.requiredAuthorization, request.headers["Authorization"] != required {
            return .text("Unauthorized\n", status: 401, headers: ["WWW-Authenticate": "Basic realm=\"Trino\""])
        }
        let base = Self.baseURL(request, port: port)
        switch route {
        case .submit: return self.submit(request, base: base, port: port)
        case .queued(let id, let slug, let token, let method):
            return await self.longPoll { self.queued(id: id, slug: slug, token: token, method: method, base: base, request: request, port: port) }
        case .executing(let id, let slug, let token, let method):
            return await self.longPoll { self.executing(id: id, slug: slug, token: token, method: method, base: base, request: request, port: port) }
        case .kill(let id):
            return self.locked {
                guard let query = self.queries[id] else { return .text("Query not found\n", status: 404) }
                self.cancel(query)
                return HTTPServerResponse(status: 204)
            }
        case .download(let id): return self.locked { self.download(id, request: request) }
        case .acknowledge(let id): return self.locked { self.acknowledge(id, request: request) }
        case .info:
            return .json(Array("{\"nodeVersion\":{\"version\":\"flap-fake\"},\"environment\":\"fake\",\"coordinator\":true,\"starting\":false,\"uptime\":\"1.00m\"}".utf8))
        case .queryPage: return .text("fake query page\n", status: 200)
        case .notFound: return .text("Not Found\n", status: 404)
        case .badRequest(let why): return .text(why + "\n", status: 400)
        }
    }

    /// Where the client reached us: X-Forwarded-* when a proxy says so, else the Host header with its port.
    static func baseURL(_ request: HTTPServerRequest, port: Int) -> String {
        let proto = request.headers["X-Forwarded-Proto"]?.split(separator: ",").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "http"
        if var host = request.headers["X-Forwarded-Host"]?.split(separator: ",").first.map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if let forwardedPort = request.headers["X-Forwarded-Port"], !host.contains(":") { host += ":\(forwardedPort)" }
            return "\(proto)://\(host)"
        }
        return "\(proto)://\(request.headers["Host"] ?? "127.0.0.1:\(port)")"
    }

    // MARK: - Submit

    private func submit(_ request: HTTPServerRequest, base: String, port: Int) -> HTTPServerResponse {
        let sql = String(decoding: request.body, as: UTF8.self)
        guard !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return .text("SQL statement is empty\n", status: 400) }
        guard let user = request.headers["X-Trino-User"], !user.isEmpty else { return .text("User must be set\n", status: 400) }
        let properties = Self.sessionProperties(request.headers)
        var shape = self.configuration.shape
        if let kind = properties["fake_shape"].flatMap(FakeResultShape.Kind.init(rawValue:)) { shape = FakeResultShape(kind: kind) }
        if let rows = properties["fake_rows"].flatMap(Int.init), shape.hasRowCount { shape.rowCount = rows }
        let statement = FakeStatement(sql: sql, defaultShape: shape)
        var statementWithShape = statement
        if properties["fake_shape"] != nil { statementWithShape.shape = shape }
        let duration = properties["fake_duration_ms"].flatMap(Int64.init).map { Duration.milliseconds($0) } ?? self.configuration.queryDuration
        let rowsPerPage = properties["fake_rows_per_page"].flatMap(Int.init) ?? self.configuration.rowsPerPage
        let failure = properties["fake_error"].map(FakeTrinoQuery.QueryFailure.named)
        let encodings = request.headers.splitValues(for: "X-Trino-Query-Data-Encoding")
        let spooling = self.configuration.spooling && encodings.contains("json")
        var headerMap: [String: [String]] = [:]
        for field in request.headers { headerMap[field.name.lowercased(), default: []].append(field.value) }
        return self.locked {
            self.expireAbandoned()
            self.counter += 1
            let id = Self.queryID(self.counter, suffix: self.suffix)
            let record = FakeQueryRecord(queryID: id, sql: sql, user: user, submitHeaders: headerMap, outcome: .queued,
                                         submittedAt: .now, dispatchedAt: nil, endedAt: nil, pagesServed: 0, rowsServed: 0,
                                         totalRows: statementWithShape.shape.rowCount, replays: 0, goneAnswers: 0,
                                         segmentsDownloaded: 0, segmentsAcknowledged: 0, cancelRequests: 0, requestsByPort: [port: 1])
            let query = FakeTrinoQuery(id: id, slug: self.nextSlug(), statement: statementWithShape, record: record, duration: duration,
                                       queuedTime: self.configuration.queuedTime, rowsPerPage: rowsPerPage, failure: failure, spooling: spooling)
            self.queries[id] = query
            self.order.append(id)
            self.active.insert(id)
            let body = FakeTrinoResponse.json(query, base: base, nextURI: "\(base)/v1/statement/queued/\(id)/\(query.slug)/1",
                                               state: "QUEUED", data: nil, error: nil, includeColumns: false)
            query.cachedBody = nil
            var headers: HTTPHeaders = ["Content-Type": "application/json"]
            if spooling { headers.add("X-Trino-Query-Data-Encoding", "json") }
            return HTTPServerResponse(status: 200, headers: headers, body: body)
        }
    }

    static func sessionProperties(_ headers: HTTPHeaders) -> [String: String] {
        var properties: [String: String] = [:]
        for entry in headers.splitValues(for: "X-Trino-Session") {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { properties[parts[0]] = FormEncoding.decode(parts[1]) }
        }
        return properties
    }

    /// Trino's query id form, `20240102_030405_00007_abcde` (UTC). A DateFormatter per submit cost the fake more
    /// than the submit itself at thousands of queries a second.
    private static func queryID(_ n: Int, suffix: String) -> String {
        var seconds = time_t(Date().timeIntervalSince1970)
        var utc = tm()
        gmtime_r(&seconds, &utc)
        func padded(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let day = padded(utc.tm_year + 1900, 4) + padded(utc.tm_mon + 1, 2) + padded(utc.tm_mday, 2)
        let time = padded(utc.tm_hour, 2) + padded(utc.tm_min, 2) + padded(utc.tm_sec, 2)
        return "\(day)_\(time)_\(padded(Int32(clamping: n), 5))_\(suffix)"
    }

    // MARK: - Queued and executing

    /// "y" and 32 hex digits, the form of Trino's slugs. Called under the lock.
    private func nextSlug() -> String {
        let high = String(self.slugs.next(), radix: 16), low = String(self.slugs.next(), radix: 16)
        return "y" + String(repeating: "0", count: 16 - high.count) + high + String(repeating: "0", count: 16 - low.count) + low
    }

    private func lookup(_ id: String, slug: String, port: Int) -> FakeTrinoQuery? {
        self.expireAbandoned()
        guard let query = self.queries[id], query.slug == slug else { return nil }
        query.record.requestsByPort[port, default: 0] += 1
        return query
    }

    private func queued(id: String, slug: String, token: Int, method: String, base: String, request: HTTPServerRequest, port: Int) -> LongPoll {
        guard let query = self.lookup(id, slug: slug, port: port) else { return .answer(.text("Query not found\n", status: 404)) }
        if method == "DELETE" {
            self.cancel(query)
            return .answer(HTTPServerResponse(status: 204))
        }
        query.lastContact = .now
        if query.phase == .queued, token == query.lastToken, let cached = query.cachedBody {
            query.record.replays += 1
            return .answer(.json(cached))
        }
        if query.phase == .executing, token == query.queuedTokenAtDispatch, let cached = query.queuedCacheAtDispatch {
            query.record.replays += 1
            return .answer(.json(cached))
        }
        guard query.phase == .queued, token == query.lastToken + 1 else {
            query.record.goneAnswers += 1
            return .answer(.text("Invalid token\n", status: 410))
        }
        if query.record.dispatchedAt == nil {
            query.record.dispatchedAt = .now
            query.record.outcome = query.isTerminal ? query.record.outcome : .running
        }
        let pollDeadline = ContinuousClock.now + self.maxWait(request)
        let dispatched = query.record.dispatchedAt! + query.queuedTime
        return .poll { self.queuedAnswer(query, id: id, slug: slug, token: token, base: base, dispatched: dispatched, pollDeadline: pollDeadline) }
    }

    /// The queued poll's answer once the query is dispatched, ends or the poll's time is up.
    private func queuedAnswer(_ query: FakeTrinoQuery, id: String, slug: String, token: Int, base: String,
                              dispatched: ContinuousClock.Instant, pollDeadline: ContinuousClock.Instant) -> PollStep {
        if !query.isTerminal, ContinuousClock.now < dispatched, ContinuousClock.now < pollDeadline {
            return .wait(until: min(dispatched, pollDeadline))
        }
        query.lastContact = .now
        let body: [UInt8]
        if query.isTerminal {
            body = FakeTrinoResponse.json(query, base: base, nextURI: nil, state: "FAILED", data: nil, error: query.terminalError, includeColumns: false)
        } else if ContinuousClock.now >= dispatched {
            body = FakeTrinoResponse.json(query, base: base, nextURI: "\(base)/v1/statement/executing/\(id)/\(slug)/0",
                                          state: "RUNNING", data: nil, error: nil, includeColumns: false)
            query.queuedTokenAtDispatch = token
            query.queuedCacheAtDispatch = body
            query.phase = .executing
            query.lastToken = -1
            query.cachedBody = nil
            return .answer(.json(body))
        } else {
            body = FakeTrinoResponse.json(query, base: base, nextURI: "\(base)/v1/statement/queued/\(id)/\(slug)/\(token + 1)",
                                          state: "QUEUED", data: nil, error: nil, includeColumns: false)
        }
        query.lastToken = token
        query.cachedBody = body
        return .answer(.json(body))
    }

    private func executing(id: String, slug: String, token: Int, method: String, base: String, request: HTTPServerRequest, port: Int) -> LongPoll {
        guard let query = self.lookup(id, slug: slug, port: port), query.phase == .executing else { return .answer(.text("Query not found\n", status: 404)) }
        switch method {
        case "DELETE":
            self.cancel(query)
            return .answer(HTTPServerResponse(status: 204))
        case "HEAD":
            query.lastContact = .now
            return .answer(HTTPServerResponse(status: 200))
        default: break
        }
        query.lastContact = .now
        if token == query.lastToken, let cached = query.cachedBody {
            query.record.replays += 1
            return .answer(HTTPServerResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")] + query.cachedHeaders), body: cached))
        }
        if token < query.lastToken {
            query.record.goneAnswers += 1
            return .answer(.text("Invalid token\n", status: 410))
        }
        guard token == query.lastToken + 1, !query.finalServed else { return .answer(.text("Query not found\n", status: 404)) }
        let pollDeadline = ContinuousClock.now + self.maxWait(request)
        let nextURI = "\(base)/v1/statement/executing/\(id)/\(slug)/\(token + 1)"
        return .poll { self.executingAnswer(query, token: token, base: base, nextURI: nextURI, pollDeadline: pollDeadline) }
    }

    /// The executing poll's answer once a page is ready, the query ends or the poll's time is up.
    private func executingAnswer(_ query: FakeTrinoQuery, token: Int, base: String, nextURI: String, pollDeadline: ContinuousClock.Instant) -> PollStep {
        var headers: [(String, String)] = []
        var body: [UInt8]
        while true {
            let now = ContinuousClock.now
            if query.isTerminal {
                body = FakeTrinoResponse.json(query, base: base, nextURI: nil, state: "FAILED", data: nil, error: query.terminalError, includeColumns: true)
                query.finalServed = true
                break
            }
            if let failure = query.failure, now >= query.finishTime {
                query.end(.failed(errorName: failure.name), failure: failure)
                continue
            }
            if query.nextPage < query.pageCount, now >= query.readyTime(ofPage: query.nextPage) {
                let rows = query.rows(ofPage: query.nextPage)
                let data = self.pageData(query, rows: rows, base: base)
                query.nextPage += 1
                query.record.pagesServed += 1
                query.record.rowsServed += rows.count
                body = FakeTrinoResponse.json(query, base: base, nextURI: nextURI, state: "RUNNING", data: data, error: nil, includeColumns: true)
                break
            }
            if query.nextPage >= query.pageCount, now >= query.finishTime, query.failure == nil {
                query.end(.finished, failure: nil)
                headers = query.statement.responseHeaders
                body = FakeTrinoResponse.json(query, base: base, nextURI: nil, state: "FINISHED", data: nil, error: nil, includeColumns: true)
                query.finalServed = true
                break
            }
            if now >= pollDeadline {
                body = FakeTrinoResponse.json(query, base: base, nextURI: nextURI, state: "RUNNING", data: nil, error: nil, includeColumns: true)
                break
            }
            let ready = query.nextPage < query.pageCount ? query.readyTime(ofPage: query.nextPage) : query.finishTime
            return .wait(until: min(ready, pollDeadline))
        }
        query.lastContact = .now
        query.lastToken = token
        query.cachedBody = body
        query.cachedHeaders = headers
        return .answer(HTTPServerResponse(status: 200, headers: HTTPHeaders([("Content-Type", "application/json")] + headers), body: body))
    }

    /// The `data` member for a page: classic rows, or a spooled segment (inline for the first page).
    private func pageData(_ query: FakeTrinoQuery, rows: Range<Int>, base: String) -> String {
        let json = self.pageCache.rowsJSON(query.shape, rows)
        guard query.spooling else { return "[" + json + "]" }
        let segmentBody = Array(("[" + json + "]").utf8)
        let metadata = "{\"rowOffset\":\(rows.lowerBound),\"rowsCount\":\(rows.count),\"segmentSize\":\(segmentBody.count)}"
        if rows.lowerBound == 0 {
            let inline = Data(segmentBody).base64EncodedString()
            return "{\"encoding\":\"json\",\"segments\":[{\"type\":\"inline\",\"data\":\"\(inline)\",\"metadata\":\(metadata)}]}"
        }
        let segmentID = UUID().uuidString.lowercased()
        let key = UUID().uuidString
        self.segments[segmentID] = (query.id, key, segmentBody)
        return "{\"encoding\":\"json\",\"segments\":[{\"type\":\"spooled\",\"uri\":\"\(base)/v1/spooled/download/\(segmentID)\","
            + "\"ackUri\":\"\(base)/v1/spooled/ack/\(segmentID)\",\"metadata\":\(metadata),"
            + "\"headers\":{\"X-Trino-Segment-Key\":[\"\(key)\"]}}]}"
    }

    private func download(_ id: String, request: HTTPServerRequest) -> HTTPServerResponse {
        guard let segment = self.segments[id] else { return .text("Segment not found\n", status: 404) }
        guard request.headers["X-Trino-Segment-Key"] == segment.key else { return .text("Missing or wrong segment key\n", status: 403) }
        guard request.headers["Authorization"] == nil else { return .text("Credentials must not be sent to segment storage\n", status: 400) }
        self.queries[segment.queryID]?.record.segmentsDownloaded += 1
        self.queries[segment.queryID]?.lastContact = .now
        return HTTPServerResponse(status: 200, headers: ["Content-Type": "application/octet-stream"], body: segment.body)
    }

    private func acknowledge(_ id: String, request: HTTPServerRequest) -> HTTPServerResponse {
        guard let segment = self.segments[id], request.headers["X-Trino-Segment-Key"] == segment.key else {
            return .text("Segment not found\n", status: 404)
        }
        self.segments[id] = nil
        self.queries[segment.queryID]?.record.segmentsAcknowledged += 1
        return HTTPServerResponse(status: 200)
    }

    private func cancel(_ query: FakeTrinoQuery) {
        query.record.cancelRequests += 1
        query.end(.cancelled, failure: .userCanceled)
        self.changes.broadcast()
    }

    private func maxWait(_ request: HTTPServerRequest) -> Duration {
        var wait = self.configuration.maxWait
        if let text = request.query["maxWait"], let parsed = FakeTrinoRoute.duration(text) { wait = min(wait, parsed) }
        return wait
    }

    /// A poll's first look: an answer now, or a step to repeat until it answers.
    private enum LongPoll {
        case answer(HTTPServerResponse)
        case poll(() -> PollStep)
    }

    private enum PollStep {
        case answer(HTTPServerResponse)
        case wait(until: ContinuousClock.Instant)
    }

    /// Runs `start`, then its poll step, under the lock until it answers; between steps waits for a change (a cancel)
    /// or the step's instant without holding a thread, so thousands of long polls cost no thread each.
    private func longPoll(_ start: () -> LongPoll) async -> HTTPServerResponse {
        let step: () -> PollStep
        switch self.locked(start) {
        case .answer(let response): return response
        case .poll(let next): step = next
        }
        while true {
            let (next, generation) = self.locked { (step(), self.changes.generation) }
            switch next {
            case .answer(let response): return response
            case .wait(let instant): await self.changes.wait(until: instant, unchangedSince: generation)
            }
        }
    }

    /// Queries whose client stopped polling for longer than the client timeout end `ABANDONED_QUERY`.
    /// Scans only running queries, and on the request path only once one of them may have expired (the ending time
    /// is computed exactly, so scanning later changes nothing but when it is noticed).
    private func expireAbandoned(force: Bool = false) {
        let now = ContinuousClock.now
        guard force || now >= self.nextExpiryScan else { return }
        let timeout = self.configuration.clientTimeout
        // Contacts only move a query's expiry later and a new query expires after every older one, so until the
        // earliest expiry seen now nothing can be abandoned: the next scan waits for it (10,000 polling queries
        // scanned every 20 ms took 40% of the server).
        var earliest = now + timeout
        for id in self.active {
            guard let query = self.queries[id] else { continue }
            if query.isTerminal {
                self.active.remove(id)
            } else if now - query.lastContact > timeout {
                query.end(.abandoned, failure: .abandoned, at: query.lastContact + timeout)
                self.active.remove(id)
            } else {
                earliest = min(earliest, query.lastContact + timeout)
            }
        }
        self.nextExpiryScan = earliest
    }
}
