import FlapCore
import Foundation
import HTTPWire
import XCTest

final class WorkloadTests: XCTestCase {
    func testHTTPWorkloadTracesEveryRequestAndClassifiesFailures() async throws {
        let server = try HTTPServer { request in
            request.path == "/broken" ? .text("nope", status: 503) : .text("ok", status: 200)
        }
        defer { server.stop() }
        let target = RouteTarget(kind: .ingress, name: "svc", url: URL(string: "http://svc.example.com")!, connectTo: "127.0.0.1:\(server.port)")
        let ok = await HTTPWorkload(path: "/health", requestsPerQuery: 3, interval: .milliseconds(10)).run(0, through: target, deadline: .now + .seconds(5))
        XCTAssertTrue(ok.outcome.succeeded)
        XCTAssertEqual(ok.trace.hops.count, 3)
        XCTAssertEqual(ok.trace.hops.map { $0.attempts.first?.connection?.reused }, [false, true, true], "one keep-alive connection")
        let broken = await HTTPWorkload(path: "/broken", requestsPerQuery: 3).run(1, through: target, deadline: .now + .seconds(5))
        XCTAssertEqual(broken.outcome.label, "http-503")
        XCTAssertEqual(broken.outcome.failedHop, 0)
        let impossible = await HTTPWorkload(path: "/health", requestsPerQuery: -1).run(2, through: target, deadline: .now + .seconds(5))
        XCTAssertFalse(impossible.outcome.succeeded, "a query that cannot run is not a success (and not a trap)")
        XCTAssertEqual(impossible.outcome.detail, "requestsPerQuery must be at least 1, not -1")
    }

    func testQueryFilesAndWeightedMixes() throws {
        let path = NSTemporaryDirectory() + "flap-queries-\(UUID().uuidString).sql"
        try """
        -- weight: 3
        SELECT 1;
        SELECT 2
        ;
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let queries = try TrinoQueryWorkload.queries(fromFile: path)
        XCTAssertEqual(queries.map(\.sql), ["SELECT 1", "SELECT 2"])
        XCTAssertEqual(queries.map(\.weight), [3, 1])
        XCTAssertThrowsError(try TrinoQueryWorkload.queries(fromFile: path + ".missing"))
        let empty = NSTemporaryDirectory() + "flap-empty-\(UUID().uuidString).sql"
        try "-- nothing\n".write(toFile: empty, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: empty) }
        XCTAssertThrowsError(try TrinoQueryWorkload.queries(fromFile: empty)) { error in
            XCTAssertEqual(error as? WorkloadInputError, WorkloadInputError(.empty, "query file \(empty) holds no query"))
        }
    }

    func testGatesParseAndMeasure() throws {
        XCTAssertEqual(try Gate.parse("p99(gateway) < 2s").threshold, 2)
        XCTAssertEqual(try Gate.parse("propagation.p99 < 500ms").threshold, 0.5)
        XCTAssertEqual(try Gate.parse("survival(gateway, python) >= 99.9%").metric, .profileSurvival(arm: "gateway", profile: .python))
        XCTAssertEqual(try Gate.parse("reconnects(gateway) == 0").comparison, .eq)
        for bad in ["survival(gateway)", "latency(gateway) < 1s", "p99() < 1s", "p99(x) < fast"] {
            XCTAssertThrowsError(try Gate.parse(bad), bad)
        }
    }
}
