import FlapCore
import FlapTesting
import XCTest

/// What a team's unit test looks like: a two-arm experiment on `InProcessEnvironment` (no cluster, no nginx or
/// Envoy), judged with typed expectations and a gate. It is the example in the README.
final class RouteChangeTests: XCTestCase {
    func testDeletingTheRouteFailsInFlightQueriesAndNothingElse() async throws {
        let environment = try await InProcessEnvironment()
        defer { environment.stop() }
        let configuration = environment.configuration([
            .init(target: environment.gatewayTarget, mutator: ControlMutator()),          // arm gateway-control
            .init(target: environment.gatewayTarget, mutator: DeleteRecreateMutator()),   // arm gateway-delete-recreate
        ])
        let report = try await ExperimentRunner(configuration: configuration).run()
        try report.expect(survival: 0.99, arm: "gateway-control", profile: .python)
        try report.expect(latency: .p99, below: .seconds(3), arm: "gateway-control")
        try report.expect(Gate(.failures(arm: "gateway-delete-recreate"), .gt, 0))

        // A failing expectation says which arm, what was measured and what was expected.
        XCTAssertThrowsError(try report.expect(survival: 0.99, arm: "gateway-delete-recreate")) { error in
            XCTAssertTrue("\(error)".hasPrefix("survival of arm gateway-delete-recreate is "), "\(error)")
        }
    }
}
