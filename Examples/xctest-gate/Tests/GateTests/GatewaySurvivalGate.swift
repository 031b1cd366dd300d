import FlapCore
import FlapLab
import Foundation
import XCTest

/// Runs Trino-style queries through the lab's Envoy gateway while its HTTPRoute changes, and fails when the
/// chosen arm's survival is below the threshold.
///
///     swift test                                                        # envoy-gateway-remove-readd-trino-b >= 0.99
///     FLAP_GATE_ARM=envoy-gateway-delete-recreate swift test            # fails: deleting the route drops queries
///     FLAP_GATE_MIN_SURVIVAL=0.95 FLAP_GATE_ARM=... swift test
final class GatewaySurvivalGate: XCTestCase {
    func testGatewaySurvivalDuringRouteChangesMeetsTheThreshold() async throws {
        let environment = ProcessInfo.processInfo.environment
        let arm = ArmID(environment["FLAP_GATE_ARM"] ?? "envoy-gateway-remove-readd-trino-b")
        let threshold = try XCTUnwrap(Double(environment["FLAP_GATE_MIN_SURVIVAL"] ?? "0.99"), "FLAP_GATE_MIN_SURVIVAL must be a number")

        // The Envoy Gateway profile only (arms are named `<profile>-<mutation>`).
        var labConfiguration = Lab.Configuration()
        labConfiguration.profiles = [.envoyGateway]
        let lab = try await Lab.start(labConfiguration)
        defer { lab.stop() }
        var options = LabExperiment.Options()
        options.slot = .seconds(3)
        var configuration = LabExperiment.configuration(lab: lab, options: options)
        configuration.arms = configuration.arms.filter { $0.id == "envoy-gateway-control" || $0.id == arm }
        XCTAssertEqual(configuration.arms.count, 2, "the lab has no arm \(arm)")

        // Cancelling this test's task (or a failure) restores every route the run changed before returning.
        let report = try await ExperimentRunner(configuration: configuration).run()
        print(TextRenderer.render(report))
        try report.expect(survival: 0.999, arm: "envoy-gateway-control")
        try report.expect(survival: threshold, arm: arm)
    }
}
