import Foundation
import HTTPWire
import XCTest

/// Failed attempts are stored as typed codes whose file form is the text reports have always held.
final class FailureCodeTests: XCTestCase {
    func testCodesRoundTripThroughTheirTextAndRejectUnknownText() throws {
        let codes: [FailureCode] = [.status(502), .emptyBody, .wire(.connectionReset), .wire(.other)]
        let data = try JSONEncoder().encode(codes)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), #"["status:502","empty","wire:connectionReset","wire:other"]"#)
        XCTAssertEqual(try JSONDecoder().decode([FailureCode].self, from: data), codes)
        XCTAssertThrowsError(try JSONDecoder().decode([FailureCode].self, from: Data(#"["wire:gremlins"]"#.utf8))) { error in
            XCTAssertTrue("\(error)".contains("is not a failure code"), "\(error)")
        }
    }

    func testAFailureKeepsItsKindNotItsDetails() {
        XCTAssertEqual(HopFailure.transport(.connectionRefused(host: "h", port: 1)).code, .wire(.connectionRefused))
        XCTAssertEqual(HopFailure.status(429, retryAfter: .seconds(3)).code, .status(429))
        XCTAssertEqual(HopFailure.transport(.socketError(operation: "read", errno: 9)).code, .wire(.other))
    }

    func testARecorderKeepsEveryRequestAsAHopInOrder() {
        let recorder = QueryTraceRecorder(transport: "test")
        let start = ContinuousClock.now
        recorder.record(method: "PUT", uri: "http://h/kv/a", start: start, status: 201, failure: nil)
        recorder.record(method: "GET", uri: "http://h/kv/a", start: start, status: 503, failure: .status(503, retryAfter: nil))
        let trace = recorder.snapshot
        XCTAssertEqual(trace.hops.map(\.index), [0, 1])
        XCTAssertEqual(trace.hops.map(\.method), ["PUT", "GET"])
        XCTAssertEqual(trace.hops.map(\.purpose), [.request, .request])
        XCTAssertEqual(trace.hops.map(\.succeeded), [true, false])
        XCTAssertNotNil(trace.end)
    }
}

final class ReconnectRuleTests: XCTestCase {
    /// A reconnect answers a peer closure; a shared pool opening another connection under concurrency is not one.
    func testOnlyOpensAfterAPeerClosureCount() {
        XCTAssertEqual(Reconnects.count(["opened", "reused", "opened", "opened"]), 0, "the pool grew")
        XCTAssertEqual(Reconnects.count(["opened", "closedByPeerWhileIdle", "opened"]), 1, "an idle connection the proxy closed")
        XCTAssertEqual(Reconnects.count(["opened", "closedByPeer", "closedByPeerWhileIdle", "opened", "opened"]), 1, "one open answers both closures")
        XCTAssertEqual(Reconnects.count(["opened", "reset", "opened", "reused", "closedByPeer", "opened"]), 2)
        XCTAssertEqual(Reconnects.count(["opened", "closed", "opened"]), 0, "we closed it ourselves")
    }
}
