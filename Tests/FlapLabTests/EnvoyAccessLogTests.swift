@testable import FlapLab
import FlapJSON
import HTTPWire
import XCTest

/// The lab's reading of Envoy's access log and its make-before-break cluster set (no Envoy needed).
final class EnvoyAccessLogTests: XCTestCase {
    func testParsesEntriesAndTheQueryOfAStatementPath() {
        let log = """
        {"method":"GET","path":"/v1/statement/executing/20261201_000001_00007_abcde/y1/3","status":503,"flags":"NC","details":"cluster_not_found"}
        {"method":"POST","path":"/v1/statement","status":404,"flags":"NR","details":"route_not_found"}
        {"method":"GET","path":"/v1/statement/queued/q2/s/1?x=1","status":200,"flags":"-","details":"via_upstream"}
        {"method":"GET","path":"/v1/info","stat
        """
        let entries = EnvoyAccessLog.parse(log)
        XCTAssertEqual(entries.count, 3, "the partial last line is skipped")
        XCTAssertEqual(entries.map(\.queryID), ["20261201_000001_00007_abcde", nil, "q2"])
        XCTAssertEqual(entries.map(\.isLocalReply), [true, true, false])
        XCTAssertEqual(entries[0].details, "cluster_not_found")
    }

    func testClustersAreAddedBeforeAndRemovedAfterTheRoutesThatNameThem() {
        func cluster(_ name: String, _ port: Int) -> JSONValue { ["name": .string(name), "port": .int(port)] }
        let old: JSONValue = [cluster("a", 1), cluster("b", 2)]
        let new: JSONValue = [cluster("b", 3), cluster("c", 4)]
        XCTAssertEqual(EnvoyDataPlane.merging(old, new), [cluster("a", 1), cluster("b", 3), cluster("c", 4)],
                       "the interim set keeps a (still named by the old routes), takes b's new definition, adds c")
    }

    /// What the socket client really throws when nginx closes an idle keep-alive connection under a request.
    func testTheKeepAliveRaceIsRecognisedAsTheSocketClientReportsIt() {
        XCTAssertTrue(SteadyLoad.isKeepAliveRace(HTTPRequestFailure(error: .connectionReset(reusedConnection: true))))
        XCTAssertTrue(SteadyLoad.isKeepAliveRace(HTTPRequestFailure(error: .closedBeforeComplete(received: 0, reusedConnection: true))))
        XCTAssertFalse(SteadyLoad.isKeepAliveRace(HTTPRequestFailure(error: .connectionReset(reusedConnection: false))), "a new connection's reset is a loss")
        XCTAssertFalse(SteadyLoad.isKeepAliveRace(HTTPRequestFailure(error: .closedBeforeComplete(received: 12, reusedConnection: true))),
                       "a response cut short is a loss")
        XCTAssertFalse(SteadyLoad.isKeepAliveRace(HTTPRequestFailure(error: .connectionRefused(host: "h", port: 1))))
    }
}
