import FlapFakes
import FlapJSON
import FlapSystem
import Foundation
import HTTPWire
import TrinoClient
import XCTest

/// The fake's protocol semantics, checked at the HTTP level (not through our own client).
final class FakeTrinoServerTests: XCTestCase {
    private let http = SocketHTTPClient()

    private func send(_ method: String, _ url: String, headers: HTTPHeaders = ["X-Trino-User": "t"], body: String = "") async throws -> (Int, JSONValue?, HTTPHeaders) {
        let response = try await self.http.execute(HTTPClientRequest(method: method, url: URL(string: url)!, headers: headers, body: Array(body.utf8)),
                                                    deadline: .now + .seconds(5))
        return (response.status, try? JSONValue.parse(response.body), response.headers)
    }

    private func submit(_ server: FakeTrinoServer, sql: String = "SELECT sum_profit", headers: HTTPHeaders = ["X-Trino-User": "t"]) async throws -> JSONValue {
        let (status, body, _) = try await self.send("POST", server.url.absoluteString + "/v1/statement", headers: headers, body: sql)
        XCTAssertEqual(status, 200)
        return try XCTUnwrap(body)
    }

    func testPostRegistersAndTheFirstGetSubmits() async throws {
        let server = try FakeTrinoServer()
        defer { server.stop() }
        let posted = try await self.submit(server)
        XCTAssertEqual(posted["stats"]?["state"]?.stringValue, "QUEUED")
        XCTAssertNil(posted["columns"])
        let next = try XCTUnwrap(posted["nextUri"]?.stringValue)
        XCTAssertTrue(next.hasPrefix("\(server.url.absoluteString)/v1/statement/queued/"), next)
        XCTAssertTrue(next.hasSuffix("/1"))
        let id = try XCTUnwrap(posted["id"]?.stringValue)
        XCTAssertNotNil(id.wholeMatch(of: /20[0-9]{6}_[0-9]{6}_[0-9]{5}_[a-z0-9]+/), "Trino's query id form (UTC date, time, counter): \(id)")
        let today = ISO8601DateFormatter.string(from: Date(), timeZone: TimeZone(identifier: "UTC")!, formatOptions: [.withYear, .withMonth, .withDay])
        XCTAssertTrue(id.hasPrefix(today) || id < today, "dated today in UTC: \(id)")
        XCTAssertNotNil(posted["infoUri"]?.stringValue)
        XCTAssertEqual(server.record(for: id)?.outcome, .queued)
        XCTAssertNil(server.record(for: id)?.dispatchedAt, "nothing runs before the first GET")
        let (status, dispatched, _) = try await self.send("GET", next)
        XCTAssertEqual(status, 200)
        XCTAssertTrue(dispatched?["nextUri"]?.stringValue?.contains("/v1/statement/executing/") == true)
        XCTAssertEqual(server.record(for: id)?.outcome, .running)
    }

    func testTokensReplayCacheAndGoneAndNotFound() async throws {
        var configuration = FakeTrinoServer.Configuration()
        configuration.rowsPerPage = 50
        configuration.queryDuration = .zero
        let server = try FakeTrinoServer(configuration: configuration)
        defer { server.stop() }
        let posted = try await self.submit(server)
        let id = try XCTUnwrap(posted["id"]?.stringValue)
        var next = try XCTUnwrap(posted["nextUri"]?.stringValue)
        let dispatched = try await self.send("GET", next).1
        next = try XCTUnwrap(dispatched?["nextUri"]?.stringValue)   // executing/0
        let first = try await self.send("GET", next).1
        let page0 = try XCTUnwrap(first)
        XCTAssertEqual(page0["data"]?.arrayValue?.count, 50)
        let second = try await self.send("GET", next).1
        let again = try XCTUnwrap(second)
        XCTAssertEqual(again, page0, "the same token answers the same cached page")
        XCTAssertEqual(server.record(for: id)?.replays, 1)
        let token1 = try XCTUnwrap(page0["nextUri"]?.stringValue)
        _ = try await self.send("GET", token1)
        let (stale, _, _) = try await self.send("GET", next)
        XCTAssertEqual(stale, 410, "an older token is gone")
        XCTAssertEqual(server.record(for: id)?.goneAnswers, 1)
        let skipped = String(token1.dropLast()) + "5"
        do {
            let status = try await self.send("GET", skipped).0
            XCTAssertEqual(status, 404, "a token from the future is not found")
        }
        let wrongSlug = token1.replacingOccurrences(of: "/y", with: "/yx")
        do {
            let status = try await self.send("GET", wrongSlug).0
            XCTAssertEqual(status, 404)
        }
        do {
            let status = try await self.send("GET", server.url.absoluteString + "/v1/statement/executing/nope/yslug/0").0
            XCTAssertEqual(status, 404)
        }
    }

    func testDeleteCancelsWithUserCanceled() async throws {
        var configuration = FakeTrinoServer.Configuration()
        configuration.queryDuration = .seconds(10)
        let server = try FakeTrinoServer(configuration: configuration)
        defer { server.stop() }
        let posted = try await self.submit(server)
        let fetched4705 = try await self.send("GET", posted["nextUri"]!.stringValue!).1?["nextUri"]?.stringValue
        let executing = try XCTUnwrap(fetched4705)
        do {
            let status = try await self.send("DELETE", executing).0
            XCTAssertEqual(status, 204)
        }
        let fetched4733 = try await self.send("GET", executing).1
        let after = try XCTUnwrap(fetched4733)
        XCTAssertEqual(after["error"]?["errorName"]?.stringValue, "USER_CANCELED")
        XCTAssertNil(after["nextUri"])
        XCTAssertEqual(server.ledger.first?.outcome, .cancelled)
    }

    func testQueriesNobodyPollsAreAbandoned() async throws {
        var configuration = FakeTrinoServer.Configuration()
        configuration.clientTimeout = .milliseconds(150)
        configuration.queryDuration = .seconds(10)
        let server = try FakeTrinoServer(configuration: configuration)
        defer { server.stop() }
        let posted = try await self.submit(server)
        _ = try await self.send("GET", posted["nextUri"]!.stringValue!)
        try await Task.sleep(for: .milliseconds(400))
        let record = try XCTUnwrap(server.ledger.first)
        XCTAssertEqual(record.outcome, .abandoned)
        let ended = try XCTUnwrap(record.endedAt)
        XCTAssertLessThan(ended - record.submittedAt, .milliseconds(390), "ended at last contact + client timeout, not when observed")
    }

    func testLongPollReturnsAnEmptyRunningPageWhenNothingIsReady() async throws {
        var configuration = FakeTrinoServer.Configuration()
        configuration.queryDuration = .seconds(5)
        configuration.maxWait = .milliseconds(200)
        let server = try FakeTrinoServer(configuration: configuration)
        defer { server.stop() }
        let posted = try await self.submit(server)
        let fetched4705 = try await self.send("GET", posted["nextUri"]!.stringValue!).1?["nextUri"]?.stringValue
        let executing = try XCTUnwrap(fetched4705)
        let start = ContinuousClock.now
        let fetched4733 = try await self.send("GET", executing).1
        let page = try XCTUnwrap(fetched4733)
        XCTAssertGreaterThanOrEqual(ContinuousClock.now - start, .milliseconds(190), "the GET long-polled")
        XCTAssertEqual(page["stats"]?["state"]?.stringValue, "RUNNING")
        XCTAssertNil(page["data"])
        XCTAssertTrue(page["nextUri"]?.stringValue?.hasSuffix("/1") == true)
        XCTAssertNotNil(page["columns"], "columns arrive with the executing phase")
    }

    func testNextUriFollowsHostWithPortOrForwardedHeaders() async throws {
        let server = try FakeTrinoServer()
        defer { server.stop() }
        let viaProxy = try await self.submit(server, headers: ["X-Trino-User": "t", "Host": "trino.example:8443"])
        XCTAssertTrue(viaProxy["nextUri"]?.stringValue?.hasPrefix("http://trino.example:8443/v1/statement/queued/") == true)
        let forwarded = try await self.submit(server, headers: ["X-Trino-User": "t", "X-Forwarded-Proto": "https",
                                                                "X-Forwarded-Host": "gw.example", "X-Forwarded-Port": "443"])
        XCTAssertTrue(forwarded["nextUri"]?.stringValue?.hasPrefix("https://gw.example:443/v1/statement/") == true)
        XCTAssertTrue(forwarded["infoUri"]?.stringValue?.hasPrefix("https://gw.example:443/ui/") == true)
    }

    func testListenersShareOneRegistryWhileCoordinatorsDoNot() async throws {
        var configuration = FakeTrinoServer.Configuration()
        configuration.listeners = 2
        let pod = try FakeTrinoServer(configuration: configuration)
        let other = try FakeTrinoServer()
        defer { pod.stop(); other.stop() }
        XCTAssertEqual(pod.urls.count, 2)
        let posted = try await self.submit(pod)
        let next = try XCTUnwrap(posted["nextUri"]?.stringValue)
        let viaSecondService = next.replacingOccurrences(of: ":\(pod.ports[0])/", with: ":\(pod.ports[1])/")
        do {
            let status = try await self.send("GET", viaSecondService).0
            XCTAssertEqual(status, 200, "the second Service reaches the same coordinator")
        }
        XCTAssertEqual(pod.ledger.first?.requestsByPort[pod.ports[1]], 1)
        let viaOtherCoordinator = next.replacingOccurrences(of: ":\(pod.ports[0])/", with: ":\(other.ports[0])/")
        do {
            let status = try await self.send("GET", viaOtherCoordinator).0
            XCTAssertEqual(status, 404, "another coordinator does not know the query")
        }
    }

    func testRequestsWithoutUserOrSQLAreRejectedLikeTrino() async throws {
        let server = try FakeTrinoServer()
        defer { server.stop() }
        do {
            let status = try await self.send("POST", server.url.absoluteString + "/v1/statement", headers: [:], body: "SELECT 1").0
            XCTAssertEqual(status, 400)
        }
        do {
            let status = try await self.send("POST", server.url.absoluteString + "/v1/statement", body: "  ").0
            XCTAssertEqual(status, 400)
        }
        do {
            let status = try await self.send("GET", server.url.absoluteString + "/nowhere").0
            XCTAssertEqual(status, 404)
        }
        do {
            let status = try await self.send("GET", server.url.absoluteString + "/v1/info").0
            XCTAssertEqual(status, 200)
        }
    }

    func testFaultsApplyToMatchingRequestsOnly() async throws {
        let server = try FakeTrinoServer()
        defer { server.stop() }
        server.inject(FakeTrinoFault(.status(503, body: "busy"), on: .poll, count: 2))
        let posted = try await self.submit(server)
        let next = try XCTUnwrap(posted["nextUri"]?.stringValue)
        do {
            let status = try await self.send("GET", next).0
            XCTAssertEqual(status, 503)
        }
        do {
            let status = try await self.send("GET", next).0
            XCTAssertEqual(status, 503)
        }
        do {
            let status = try await self.send("GET", next).0
            XCTAssertEqual(status, 200)
        }
        XCTAssertNotNil(server.ledger.first?.dispatchedAt, "status faults never touched the query until the third GET")
    }

    func testTheOfficialPythonClientRunsQueriesUnmodified() throws {
        let onPath = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        guard let python = (onPath + ["/usr/bin/python3"]).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw XCTSkip("python3 is not installed")
        }
        let check = try PythonRunner.run(python, ["-c", "import trino"])
        guard check.status == 0 else {
            XCTFail("the official Trino Python client is not installed: run scripts/test-deps (pip install trino)")
            return
        }
        var configuration = FakeTrinoServer.Configuration()
        configuration.rowsPerPage = 40
        let server = try FakeTrinoServer(configuration: configuration)
        defer { server.stop() }
        let script = """
        from trino.dbapi import connect
        conn = connect(host="127.0.0.1", port=\(server.ports[0]), user="py", catalog="tpch", schema="sf1", http_scheme="http")
        cur = conn.cursor()
        cur.execute("SELECT nation, o_year, sum(amount) AS sum_profit FROM profit")
        rows = cur.fetchall()
        print(len(rows), rows[0][0], rows[0][1], [d[0] for d in cur.description])
        cur.execute("SELECT * FROM fake_types")
        row = cur.fetchall()[0]
        print(row[2], row[5], row[10], row[22])
        cur.execute("SET SESSION query_max_run_time = '1h'")
        cur.fetchall()
        print(conn._client_session.properties)
        """
        let result = try PythonRunner.run(python, ["-c", script])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.first, "175 ALGERIA 1998 ['nation', 'o_year', 'sum_profit']")
        XCTAssertEqual(lines.dropFirst().first, "9223372036854775807 12345678901234567890.0123456789 2024-02-29 (a: 42, b: 'z')")
        XCTAssertEqual(lines.last, "{'query_max_run_time': '1h'}")
        XCTAssertEqual(server.ledger.filter { $0.outcome == .finished }.count, 3)
        XCTAssertEqual(server.ledger.first?.rowsServed, 175)
    }
}

enum PythonRunner {
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try ProcessLauncher.run(executable, arguments)
        return (output.status, output.stdout, output.stderr)
    }
}
