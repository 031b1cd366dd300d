import FlapFakes
import HTTPWire
import TrinoClient
import XCTest

final class TrinoClientProtocolTests: XCTestCase {
    func testRunsTheOriginalExperimentsQueryToTheEnd() async throws {
        let harness = try TrinoHarness { $0.rowsPerPage = 50 }
        defer { harness.stop() }
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.columns.map(\.name), ["nation", "o_year", "sum_profit"])
        XCTAssertEqual(result.rows.count, 175)
        XCTAssertEqual(result.rows.first?[0], .varchar("ALGERIA"))
        XCTAssertEqual(result.rows.first?[1], .integer(1998))
        XCTAssertEqual(result.stats.state, "FINISHED")
        let record = try XCTUnwrap(harness.server.record(for: result.queryID))
        XCTAssertEqual(record.outcome, .finished)
        XCTAssertEqual(record.rowsServed, 175)
        XCTAssertEqual(record.pagesServed, 4)
        let trace = result.trace
        XCTAssertEqual(trace.transport, "socket")
        XCTAssertEqual(trace.queryID, result.queryID)
        XCTAssertEqual(trace.hops.first?.purpose, .submit)
        XCTAssertEqual(trace.hops.first?.method, "POST")
        XCTAssertTrue(trace.hops.dropFirst().allSatisfy { $0.purpose == .poll && $0.method == "GET" && $0.finalStatus == 200 })
        XCTAssertEqual(trace.connectionsOpened, 1, "one keep-alive connection for the whole query")
        XCTAssertTrue(trace.hops.dropFirst().allSatisfy { $0.attempts.first?.connection?.reused == true })
        XCTAssertTrue(zip(trace.hops, trace.hops.dropFirst()).allSatisfy { $0.end <= $1.start }, "hops are ordered on one clock")
    }

    func testProtocolPresetRetriesAProxys502Page() async throws {
        let harness = try TrinoHarness()
        defer { harness.stop() }
        harness.server.inject(FakeTrinoFault(FakeTrinoFault.proxyErrorPage(502), on: .poll, count: 2))
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.rows.count, 175)
        let retried = try XCTUnwrap(result.trace.hops.first { $0.attempts.count > 1 })
        XCTAssertEqual(retried.attempts.map(\.status), [502, 502, 200])
        XCTAssertEqual(retried.attempts.first?.failure, .status(502, retryAfter: nil))
        XCTAssertTrue(retried.attempts.dropLast().allSatisfy { ($0.retryDelay ?? .zero) >= .milliseconds(50) })
    }

    func testWithoutRetriesA502IsAProtocolErrorShowingTheProxyPage() async throws {
        let harness = try TrinoHarness(client: { $0.retryPolicy = .none })
        defer { harness.stop() }
        harness.server.inject(FakeTrinoFault(FakeTrinoFault.proxyErrorPage(502), on: .poll))
        let recorder = QueryTraceRecorder()
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL), trace: recorder) }
        let failure = try XCTUnwrap(error as? TrinoProtocolError, "\(String(describing: error))")
        XCTAssertEqual(failure.code, .unexpectedStatus)
        XCTAssertEqual(failure.status, 502)
        XCTAssertEqual(failure.method, "GET")
        XCTAssertTrue(failure.uri?.contains("/v1/statement/queued/") == true)
        XCTAssertTrue(failure.bodyExcerpt?.contains("502 Bad Gateway") == true, failure.description)
        XCTAssertEqual(recorder.snapshot.hops.last?.finalStatus, 502, "the trace survives the error")
    }

    func testTooManyRequestsHonoursRetryAfterUnderTheProtocolButNotJava() async throws {
        let harness = try TrinoHarness()
        defer { harness.stop() }
        harness.server.inject(FakeTrinoFault(.status(429, body: "slow down", headers: ["Retry-After": "0.2"]), on: .submit))
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.trace.hops[0].attempts.map(\.status), [429, 200])
        XCTAssertEqual(result.trace.hops[0].attempts[0].retryDelay, .milliseconds(200))

        let java = try TrinoHarness(client: { $0.retryPolicy = .javaClient })
        defer { java.stop() }
        java.server.inject(FakeTrinoFault(.status(429, body: "slow down", headers: ["Retry-After": "1"]), on: .submit))
        let error = await self.expectError { try await java.client.execute(TrinoQuery(q9SQL)) }
        let failure = try XCTUnwrap(error as? TrinoProtocolError, "\(String(describing: error))")
        XCTAssertEqual(failure.code, .unexpectedStatus)
        XCTAssertEqual(failure.status, 429)
        XCTAssertEqual(failure.method, "POST")
        XCTAssertEqual(failure.bodyExcerpt, "slow down")
    }

    func testPythonPresetGivesUpAfterThreeAttempts() async throws {
        let harness = try TrinoHarness(client: { $0.retryPolicy = .pythonClient })
        defer { harness.stop() }
        harness.server.inject(FakeTrinoFault(.status(503, body: "unavailable"), on: .poll, count: 3))
        let recorder = QueryTraceRecorder()
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL), trace: recorder) }
        XCTAssertEqual((error as? TrinoProtocolError)?.status, 503, "\(String(describing: error))")
        XCTAssertEqual(recorder.snapshot.hops.last?.attempts.count, 3)
    }

    func testDroppedResponseIsReFetchedWithTheSameTokenAndLosesNoRows() async throws {
        let harness = try TrinoHarness(server: { $0.rowsPerPage = 50 }, client: { $0.retryPolicy = .javaClient })
        defer { harness.stop() }
        // Let submit and the queued poll pass, then drop the first data page mid-body.
        harness.server.inject(FakeTrinoFault(.delay(.zero), on: .poll, count: 1))
        harness.server.inject(FakeTrinoFault(.dropMidBody(afterBytes: 100), on: .poll, count: 1))
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.rows.count, 175)
        XCTAssertEqual(Set(result.rows.map { "\($0[0])\($0[1])" }).count, 175, "no row lost or duplicated")
        let record = try XCTUnwrap(harness.server.record(for: result.queryID))
        XCTAssertEqual(record.replays, 1, "the server answered the re-GET from its cache")
        let broken = try XCTUnwrap(result.trace.hops.first { $0.attempts.count == 2 })
        guard case .transport(.closedBeforeComplete(_, true))? = broken.attempts[0].failure else { return XCTFail("\(broken.attempts[0])") }
        XCTAssertEqual(broken.attempts[1].connection?.reused, false, "the retry needed a new connection")
    }

    func testGoPresetFailsOnAConnectionErrorThatJavaRetries() async throws {
        let harness = try TrinoHarness(client: { $0.retryPolicy = .goClient })
        defer { harness.stop() }
        harness.server.inject(FakeTrinoFault(.closeWithoutResponse, on: .poll))
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL)) }
        let transport = try XCTUnwrap(error as? TrinoTransportError, "\(String(describing: error))")
        XCTAssertEqual(transport.attempts, 1)
        XCTAssertEqual(transport.method, "GET")
        guard case .closedBeforeComplete(0, true) = transport.underlying else { return XCTFail("\(transport)") }
    }

    func testCancellingTheTaskSendsDeleteAndTheServerRecordsUserCanceled() async throws {
        let harness = try TrinoHarness(server: { $0.queryDuration = .seconds(10); $0.rowsPerPage = 50 })
        defer { harness.stop() }
        let recorder = QueryTraceRecorder()
        let client = harness.client
        let task = Task { try await client.execute(TrinoQuery(q9SQL), trace: recorder) }
        let started = await self.eventually { recorder.snapshot.hops.count >= 3 }
        XCTAssertTrue(started)
        task.cancel()
        let error = await self.expectError { try await task.value }
        XCTAssertTrue(error is CancellationError, "\(String(describing: error))")
        let trace = recorder.snapshot
        XCTAssertEqual(trace.hops.last?.purpose, .cancel)
        XCTAssertEqual(trace.hops.last?.method, "DELETE")
        XCTAssertEqual(trace.hops.last?.finalStatus, 204)
        let record = try XCTUnwrap(harness.server.ledger.first)
        XCTAssertEqual(record.outcome, .cancelled)
        XCTAssertEqual(record.cancelRequests, 1)
    }

    func testQueryDeadlineCancelsOnTheServer() async throws {
        let harness = try TrinoHarness(server: { $0.queryDuration = .seconds(10) }, client: { $0.queryTimeout = .milliseconds(400) })
        defer { harness.stop() }
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL)) }
        guard let failure = error as? TrinoClientError, failure.code == .deadlineExceeded, let id = failure.queryID else {
            return XCTFail("\(String(describing: error))")
        }
        XCTAssertTrue(failure.message.hasSuffix("exceeded its deadline of 0.4 seconds"), failure.message)
        XCTAssertEqual(harness.server.record(for: id)?.outcome, .cancelled)
    }

    func testAbandonedQueryFailsWithTrinosError() async throws {
        let harness = try TrinoHarness(server: { $0.queryDuration = .seconds(5); $0.clientTimeout = .milliseconds(200); $0.maxWait = .milliseconds(50) })
        defer { harness.stop() }
        // The client stalls longer than the coordinator's client timeout before one poll.
        harness.server.inject(FakeTrinoFault(.delay(.zero), on: .poll, count: 2))
        harness.server.inject(FakeTrinoFault(.delay(.milliseconds(400)), on: .poll, count: 1))
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL)) }
        let queryError = try XCTUnwrap(error as? TrinoQueryError, "\(String(describing: error))")
        XCTAssertEqual(queryError.errorName, "ABANDONED_QUERY")
        XCTAssertEqual(queryError.errorCode, 2)
        XCTAssertEqual(harness.server.ledger.first?.outcome, .abandoned)
    }

    func testServerSideFailureBecomesTrinoQueryError() async throws {
        let harness = try TrinoHarness()
        defer { harness.stop() }
        var query = TrinoQuery("SELECT broken")
        query.sessionProperties["fake_error"] = "SYNTAX_ERROR"
        let error = await self.expectError { try await harness.client.execute(query) }
        let queryError = try XCTUnwrap(error as? TrinoQueryError)
        XCTAssertEqual(queryError.errorName, "SYNTAX_ERROR")
        XCTAssertEqual(queryError.errorType, "USER_ERROR")
        XCTAssertEqual(harness.server.record(for: queryError.queryID)?.outcome, .failed(errorName: "SYNTAX_ERROR"))
    }

    func testBadServerAnswersGiveSpecificErrors() async throws {
        let cases: [(FakeTrinoFault, (any Error) -> Bool)] = [
            (FakeTrinoFault(.status(200, body: "<html>oops</html>", headers: ["Content-Type": "text/html"]), on: .poll), { error in
                guard let error = error as? TrinoProtocolError else { return false }
                return error.code == .notJSON && error.status == 200 && error.bodyExcerpt == "<html>oops</html>" && error.message.contains("(text/html;")
            }),
            (FakeTrinoFault(.status(200, body: #"{"id":"x","infoUri":"#), on: .poll), { error in
                guard let error = error as? TrinoProtocolError, error.code == .notJSON, error.status == 200 else { return false }
                return error.detail?.contains("unexpected end of input") == true
            }),
            (FakeTrinoFault(.status(200, body: #"{"id":"x","infoUri":"u","stats":{},"nextUri":[]}"#), on: .poll), { error in
                (error as? TrinoProtocolError) == .wrongType(field: "nextUri", expected: "a string")
            }),
            (FakeTrinoFault(.status(200, body: #"{"id":"x","infoUri":"u","stats":{},"nextUri":"ftp://elsewhere/x"}"#), on: .poll), { error in
                (error as? TrinoProtocolError) == .invalidNextURI("ftp://elsewhere/x")
            }),
            (FakeTrinoFault(.status(404, body: "Query not found"), on: .poll), { error in
                guard let error = error as? TrinoProtocolError else { return false }
                return error.code == .unexpectedStatus && error.status == 404 && error.bodyExcerpt == "Query not found"
            }),
            (FakeTrinoFault(.status(410, body: "Invalid token"), on: .poll), { error in
                (error as? TrinoProtocolError).map { $0.code == .unexpectedStatus && $0.status == 410 } ?? false
            }),
            (FakeTrinoFault(.status(200, body: "", headers: ["X-Big": String(repeating: "b", count: 70_000)]), on: .poll), { error in
                (error as? TrinoTransportError)?.underlying == .headerTooLarge(limit: 64 * 1024)
            }),
            (FakeTrinoFault(.dropMidBody(afterBytes: 20), on: .poll), { error in
                guard case .closedBeforeComplete? = (error as? TrinoTransportError)?.underlying else { return false }
                return true
            }),
        ]
        for (fault, matches) in cases {
            let harness = try TrinoHarness(client: { $0.retryPolicy = .protocol })
            harness.server.inject(fault)
            let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL)) }
            XCTAssertTrue(error.map(matches) ?? false, "\(fault.action): \(String(describing: error))")
            harness.stop()
        }
    }

    func testAServerThatNeverAnswersHitsTheSubSecondRequestTimeout() async throws {
        let harness = try TrinoHarness(client: { $0.requestTimeout = .milliseconds(250); $0.retryPolicy = .none })
        defer { harness.stop() }
        harness.server.inject(FakeTrinoFault(.delay(.seconds(2)), on: .submit))
        let start = ContinuousClock.now
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL)) }
        XCTAssertEqual((error as? TrinoTransportError)?.underlying, .readTimedOut(received: 0))
        XCTAssertLessThan(ContinuousClock.now - start, .milliseconds(1500))
    }

    func testCredentialsAreRefusedOverPlainHTTPAndNeverPrinted() async throws {
        let harness = try TrinoHarness(client: { $0.authentication = .basic(user: "alice", password: "hunter2") })
        defer { harness.stop() }
        let error = await self.expectError { try await harness.client.execute(TrinoQuery(q9SQL)) }
        XCTAssertEqual((error as? TrinoClientError)?.code, .insecureCredentials, "\(String(describing: error))")
        XCTAssertFalse("\(String(describing: error))".contains("hunter2"))
        XCTAssertFalse(TrinoAuthentication.basic(user: "a", password: "hunter2").description.contains("hunter2"))
        XCTAssertFalse(TrinoAuthentication.bearer(token: "tok3n").description.contains("tok3n"))
        XCTAssertTrue(harness.server.ledger.isEmpty, "nothing was sent")
    }

    func testBasicAndBearerAuthWhenAllowed() async throws {
        let basic = "Basic " + Data("alice:hunter2".utf8).base64EncodedString()
        let harness = try TrinoHarness(server: { $0.requiredAuthorization = basic }, client: {
            $0.authentication = .basic(user: "alice", password: "hunter2")
            $0.allowInsecureCredentials = true
        })
        defer { harness.stop() }
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.rows.count, 175)
        XCTAssertEqual(harness.server.record(for: result.queryID)?.submitHeader("Authorization"), [basic])

        let bearer = try TrinoHarness(server: { $0.requiredAuthorization = "Bearer right" }, client: {
            $0.authentication = .bearer(token: "wrong")
            $0.allowInsecureCredentials = true
        })
        defer { bearer.stop() }
        let error = await self.expectError { try await bearer.client.execute(TrinoQuery(q9SQL)) }
        let failure = error as? TrinoProtocolError
        XCTAssertEqual(failure?.status, 401, "\(String(describing: error))")
        XCTAssertEqual(failure?.method, "POST")
    }

    func testSpoolingFetchesSegmentsWithTheirOwnHeadersAndAcknowledges() async throws {
        let harness = try TrinoHarness(server: { $0.spooling = true; $0.rowsPerPage = 50 }, client: {
            $0.spoolingEncodings = ["json"]
            $0.authentication = .bearer(token: "t")
            $0.allowInsecureCredentials = true
        })
        defer { harness.stop() }
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.rows.count, 175)
        XCTAssertEqual(result.rows[174][0], .varchar("VIETNAM"))
        let record = try XCTUnwrap(harness.server.record(for: result.queryID))
        XCTAssertEqual(record.segmentsDownloaded, 3, "the first page came inline")
        XCTAssertEqual(record.segmentsAcknowledged, 3)
        XCTAssertEqual(record.submitHeader("X-Trino-Query-Data-Encoding"), ["json"])
        XCTAssertEqual(result.trace.hops.filter { $0.purpose == .segment }.count, 3)
        XCTAssertEqual(result.trace.hops.filter { $0.purpose == .acknowledge }.count, 3)
    }

    func testWithoutOptingInTheClassicProtocolIsUsed() async throws {
        let harness = try TrinoHarness(server: { $0.spooling = true })
        defer { harness.stop() }
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.rows.count, 175)
        XCTAssertEqual(harness.server.record(for: result.queryID)?.segmentsDownloaded, 0)
    }

    func testPagesStreamAndStoppingEarlyCancelsTheQuery() async throws {
        let harness = try TrinoHarness(server: { $0.rowsPerPage = 25; $0.queryDuration = .seconds(3) })
        defer { harness.stop() }
        var seen = 0
        for try await page in harness.client.pages(TrinoQuery(q9SQL)) {
            seen += page.rows.count
            break
        }
        XCTAssertEqual(seen, 25)
        let cancelled = await self.eventually { harness.server.ledger.first?.outcome == .cancelled }
        XCTAssertTrue(cancelled, "\(String(describing: harness.server.ledger.first?.outcome))")
    }

    func testURLSessionTransportIsRecordedInTheTrace() async throws {
        let harness = try TrinoHarness(transport: URLSessionTransport())
        defer { harness.stop() }
        let result = try await harness.client.execute(TrinoQuery(q9SQL))
        XCTAssertEqual(result.rows.count, 175)
        XCTAssertEqual(result.trace.transport, "urlsession")
        XCTAssertNil(result.trace.hops.first?.attempts.first?.connection)
    }

    func testEmptyStatementIsRefusedLocally() async throws {
        let harness = try TrinoHarness()
        defer { harness.stop() }
        let error = await self.expectError { try await harness.client.execute(TrinoQuery("  \n")) }
        XCTAssertEqual(error as? TrinoClientError, .emptyStatement)
    }
}
