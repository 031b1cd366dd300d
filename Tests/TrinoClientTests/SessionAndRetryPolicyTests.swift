import HTTPWire
import TrinoClient
import XCTest

final class SessionTests: XCTestCase {
    func testRequestHeadersCarryEverySessionField() throws {
        var session = TrinoSession(user: "alice", catalog: "hive", schema: "web")
        session.source = "flap-test"
        session.path = ["hive.web", "system.builtin"]
        session.timeZone = "Europe/Paris"
        session.language = "en-US"
        session.traceToken = "trace-1"
        session.properties = ["query_max_run_time": "1 h", "join_distribution_type": "BROADCAST"]
        session.roles = ["hive": "ROLE{admin}", "system": "ALL"]
        session.preparedStatements = ["q 1": "SELECT 'a b'"]
        session.clientInfo = "info"
        session.clientTags = ["etl", "nightly"]
        session.resourceEstimates = ["EXECUTION_TIME": "1h"]
        session.extraCredentials = ["token": "s=cret"]
        let h = try session.headers()
        XCTAssertEqual(h["X-Trino-User"], "alice")
        XCTAssertEqual(h["X-Trino-Source"], "flap-test")
        XCTAssertEqual(h["X-Trino-Catalog"], "hive")
        XCTAssertEqual(h["X-Trino-Schema"], "web")
        XCTAssertEqual(h["X-Trino-Path"], "hive.web,system.builtin")
        XCTAssertEqual(h["X-Trino-Time-Zone"], "Europe/Paris")
        XCTAssertEqual(h["X-Trino-Language"], "en-US")
        XCTAssertEqual(h["X-Trino-Trace-Token"], "trace-1")
        XCTAssertEqual(h.values(for: "X-Trino-Session"), ["join_distribution_type=BROADCAST", "query_max_run_time=1+h"])
        XCTAssertEqual(h.values(for: "X-Trino-Role"), ["hive=ROLE%7Badmin%7D", "system=ALL"])
        XCTAssertEqual(h["X-Trino-Prepared-Statement"], "q+1=SELECT+%27a+b%27")
        XCTAssertEqual(h["X-Trino-Transaction-Id"], "NONE")
        XCTAssertEqual(h["X-Trino-Client-Info"], "info")
        XCTAssertEqual(h["X-Trino-Client-Tags"], "etl,nightly")
        XCTAssertEqual(h["X-Trino-Client-Capabilities"], "PATH,PARAMETRIC_DATETIME,SESSION_AUTHORIZATION")
        XCTAssertEqual(h["X-Trino-Resource-Estimate"], "EXECUTION_TIME=1h")
        XCTAssertEqual(h["X-Trino-Extra-Credential"], "token=s%3Dcret")
    }

    func testExtraCredentialNamesTrinoRejectsAreRefused() {
        var session = TrinoSession(user: "u")
        session.extraCredentials = ["bad name": "x"]
        XCTAssertThrowsError(try session.headers()) { error in
            guard let error = error as? TrinoClientError, error.code == .invalidConfiguration else { return XCTFail("\(error)") }
            XCTAssertTrue(error.message.contains("bad name"))
        }
    }

    func testResponseHeadersUpdateTheSession() {
        var session = TrinoSession(user: "alice")
        session.properties = ["old": "1"]
        session.preparedStatements = ["gone": "SELECT 1"]
        let headers = HTTPHeaders([
            ("X-Trino-Set-Catalog", "iceberg"), ("X-Trino-Set-Schema", "sales"), ("X-Trino-Set-Path", "a.b,c.d"),
            ("X-Trino-Set-Session", "a=1+2, b=x%3Dy"), ("X-Trino-Set-Session", "c=3"), ("X-Trino-Clear-Session", "old"),
            ("X-Trino-Set-Role", "hive=ROLE%7Bx%7D"), ("X-Trino-Added-Prepare", "p1=SELECT+%3F"), ("X-Trino-Deallocated-Prepare", "gone"),
            ("X-Trino-Started-Transaction-Id", "tx-9"), ("X-Trino-Set-Authorization-User", "bob"),
        ])
        session.apply(headers)
        XCTAssertEqual(session.catalog, "iceberg")
        XCTAssertEqual(session.schema, "sales")
        XCTAssertEqual(session.path, ["a.b", "c.d"])
        XCTAssertEqual(session.properties, ["a": "1 2", "b": "x=y", "c": "3"])
        XCTAssertEqual(session.roles, ["hive": "ROLE{x}"])
        XCTAssertEqual(session.preparedStatements, ["p1": "SELECT ?"])
        XCTAssertEqual(session.transactionID, "tx-9")
        XCTAssertEqual(session.user, "bob")
        XCTAssertEqual(session.originalUser, "alice")
        session.apply(["X-Trino-Clear-Transaction-Id": "true", "X-Trino-Reset-Authorization-User": "true"])
        XCTAssertNil(session.transactionID)
        XCTAssertEqual(session.user, "alice")
        XCTAssertNil(session.originalUser)
    }

    func testSessionStatementsRoundTripThroughTheServer() async throws {
        let harness = try TrinoHarness()
        defer { harness.stop() }
        let client = harness.client
        for sql in ["SET SESSION query_max_run_time = '2h'", "USE hive.web", "PREPARE q1 FROM SELECT * FROM t WHERE a = ?",
                    "START TRANSACTION", "SET ROLE admin IN hive", "SET PATH hive.web, system.builtin", "SET SESSION AUTHORIZATION bob"] {
            let result = try await client.execute(TrinoQuery(sql))
            XCTAssertNotNil(result.updateType, sql)
        }
        let session = client.session
        XCTAssertEqual(session.properties["query_max_run_time"], "2h")
        XCTAssertEqual(session.catalog, "hive")
        XCTAssertEqual(session.schema, "web")
        XCTAssertEqual(session.preparedStatements["q1"], "SELECT * FROM t WHERE a = ?")
        XCTAssertNotNil(session.transactionID)
        XCTAssertEqual(session.roles["hive"], "ROLE{admin}")
        XCTAssertEqual(session.path, ["hive.web", "system.builtin"])
        XCTAssertEqual(session.user, "bob")
        // The next query sends all of it back.
        let probe = try await client.execute(TrinoQuery("SELECT 1"))
        let sent = try XCTUnwrap(harness.server.record(for: probe.queryID))
        XCTAssertEqual(sent.submitHeader("X-Trino-Session"), ["query_max_run_time=2h"])
        XCTAssertEqual(sent.submitHeader("X-Trino-Catalog"), ["hive"])
        XCTAssertEqual(sent.submitHeader("X-Trino-User"), ["bob"])
        XCTAssertEqual(sent.submitHeader("X-Trino-Original-User"), ["alice"])
        XCTAssertEqual(sent.submitHeader("X-Trino-Transaction-Id"), [session.transactionID!])
        XCTAssertEqual(sent.submitHeader("X-Trino-Prepared-Statement"), ["q1=SELECT+*+FROM+t+WHERE+a+%3D+%3F"])
        XCTAssertEqual(probe.rows, [[.integer(1)]])
        _ = try await client.execute(TrinoQuery("COMMIT"))
        _ = try await client.execute(TrinoQuery("DEALLOCATE PREPARE q1"))
        _ = try await client.execute(TrinoQuery("RESET SESSION AUTHORIZATION"))
        _ = try await client.execute(TrinoQuery("RESET SESSION query_max_run_time"))
        XCTAssertNil(client.session.transactionID)
        XCTAssertTrue(client.session.preparedStatements.isEmpty)
        XCTAssertEqual(client.session.user, "alice")
        XCTAssertTrue(client.session.properties.isEmpty)
    }
}

final class RetryPolicyTests: XCTestCase {
    private let reset = HopFailure.transport(.connectionReset(reusedConnection: true))
    private let refused = HopFailure.transport(.connectionRefused(host: "h", port: 1))
    private let timeout = HopFailure.transport(.readTimedOut(received: 0))

    func testWhatEachPresetRetries() {
        let s502 = HopFailure.status(502, retryAfter: nil)
        let s429 = HopFailure.status(429, retryAfter: .seconds(1))
        let s404 = HopFailure.status(404, retryAfter: nil)
        func retries(_ p: RetryPolicy, _ f: HopFailure, _ method: String = "GET") -> Bool {
            p.shouldRetry(f, method: method, attemptsMade: 1, elapsed: .zero)
        }
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, s502) }, [false, true, true, true, true])
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, s429) }, [false, true, false, true, false])
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, s404) }, [false, false, false, false, false])
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, self.reset) }, [false, false, true, true, false])
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, self.reset, "POST") }, [false, false, false, true, false])
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, self.timeout, "POST") }, [false, false, true, true, false])
        XCTAssertEqual(RetryPolicy.presets.map { retries($0, .emptyBody) }, [false, false, false, true, false])
        XCTAssertEqual(RetryPolicy.presets.map(\.name), ["none", "protocol", "java", "python", "go"])
    }

    func testEveryPresetIsBounded() {
        for policy in RetryPolicy.presets {
            XCTAssertTrue(policy.maxAttempts != nil || policy.maxRetryDuration != nil, policy.name)
        }
        XCTAssertFalse(RetryPolicy.pythonClient.shouldRetry(self.reset, method: "GET", attemptsMade: 3, elapsed: .zero), "3 attempts in total")
        XCTAssertTrue(RetryPolicy.pythonClient.shouldRetry(self.reset, method: "GET", attemptsMade: 2, elapsed: .zero))
        XCTAssertFalse(RetryPolicy.javaClient.shouldRetry(self.reset, method: "GET", attemptsMade: 50, elapsed: .seconds(121)), "clientRequestTimeout 2 min")
        XCTAssertTrue(RetryPolicy.javaClient.shouldRetry(self.reset, method: "GET", attemptsMade: 50, elapsed: .seconds(119)))
        XCTAssertEqual(RetryPolicy.preset(named: "Python"), .pythonClient)
        XCTAssertNil(RetryPolicy.preset(named: "perl"))
    }

    func testBackoffShapes() {
        var random = SystemRandomNumberGenerator()
        let s503 = HopFailure.status(503, retryAfter: nil)
        for _ in 0..<100 {
            let d = RetryPolicy.protocol.delay(afterAttempt: 1, failure: s503, using: &random)
            XCTAssertTrue(d >= .milliseconds(50) && d <= .milliseconds(100), "\(d)")
            let p = RetryPolicy.pythonClient.delay(afterAttempt: 2, failure: s503, using: &random)
            XCTAssertTrue(p >= .zero && p < .milliseconds(400), "\(p)")
        }
        XCTAssertEqual(RetryPolicy.javaClient.delay(afterAttempt: 3, failure: s503, using: &random), .milliseconds(300))
        XCTAssertEqual(RetryPolicy.goClient.delay(afterAttempt: 1, failure: s503, using: &random), .milliseconds(100))
        XCTAssertEqual(RetryPolicy.goClient.delay(afterAttempt: 3, failure: s503, using: &random), .milliseconds(100) * (1.618 * 1.618))
        XCTAssertEqual(RetryPolicy.goClient.delay(afterAttempt: 30, failure: s503, using: &random), .seconds(15), "capped")
        XCTAssertEqual(RetryPolicy.protocol.delay(afterAttempt: 1, failure: .status(429, retryAfter: .seconds(2)), using: &random), .seconds(2))
    }
}
