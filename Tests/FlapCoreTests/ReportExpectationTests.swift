import FlapCore
import FlapTesting
import Foundation
import Testing

/// The `report.expect` helpers from Swift Testing (XCTest use is in Examples/custom-workload and xctest-gate):
/// one in-process run with a control arm and an arm whose route is deleted under its queries.
@Suite struct ReportExpectationTests {
    @Test func expectationsPassOnWhatTheRunShowedAndNameArmValueAndIntervalWhenNot() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        let configuration = lab.configuration([
            .init(target: lab.gatewayTarget, mutator: ControlMutator()),
            .init(target: lab.ingressTarget, mutator: DeleteRecreateMutator()),
        ])
        let report = try await ExperimentRunner(configuration: configuration).run()

        try report.expect(survival: 0.99, arm: "gateway-control")
        try report.expect(survival: 0.99, arm: "gateway-control", profile: .python)
        try report.expect(latency: .p99, below: .seconds(30), arm: "gateway-control")
        try report.expect(reconnects: 1000, arm: "gateway-control")

        let deleted = try #require(report.arm("ingress-delete-recreate"))
        let survival = #expect(throws: ReportExpectationError.self) { try report.expect(survival: 1, arm: "ingress-delete-recreate") }
        let message = survival?.message ?? ""
        #expect(message.hasPrefix("survival of arm ingress-delete-recreate is "))
        #expect(message.contains("(\(deleted.survival.successes)/\(deleted.survival.trials), 95% CI "))
        #expect(message.contains("expected at least 1.0000; failures: http-404×"))

        let latency = #expect(throws: ReportExpectationError.self) { try report.expect(latency: .p50, below: .microseconds(1), arm: "gateway-control") }
        #expect(latency?.message.hasPrefix("p50 latency of arm gateway-control (all) is ") == true)
        #expect(latency?.message.hasSuffix("expected below 0.0 ms") == true)

        let unknownArm = #expect(throws: ReportExpectationError.self) { try report.expect(survival: 0.5, arm: "gateway") }
        #expect(unknownArm?.message == "the report has no arm gateway; arms: gateway-control, ingress-delete-recreate")

        // Gates built from typed values read back as the text a scenario would hold, and fail naming what they measured.
        let typed = Gate(.latency(arm: "gateway-control", percentile: .p99), .lt, 30)
        #expect(typed.expression == "p99(gateway-control) < 30.0")
        #expect(try Gate.parse(typed.expression).metric == typed.metric)
        try report.expect(typed, Gate(.profileSurvival(arm: "gateway-control", profile: .java), .ge, 0.99))
        let gate = #expect(throws: ReportExpectationError.self) {
            try report.expect(Gate(.survival(arm: "ingress-delete-recreate"), .ge, 1), Gate(.reconnects(arm: "gateway-control"), .ge, 0))
        }
        #expect(gate?.message.hasPrefix("survival(ingress-delete-recreate) >= 1.0: measured ") == true)
        #expect(gate?.message.contains("reconnects") == false, "only the failed gate is named")
    }
}
