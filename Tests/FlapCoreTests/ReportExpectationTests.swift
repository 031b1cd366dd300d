import FlapCore
import Foundation
import Testing

/// The `report.expect` helpers from Swift Testing (XCTest use is in Examples/custom-workload and xctest-gate):
/// one in-process run with a control arm and an arm whose route is deleted under its queries.
@Suite struct ReportExpectationTests {
    @Test func expectationsPassOnWhatTheRunShowedAndNameArmValueAndIntervalWhenNot() async throws {
        let lab = try await LabInProcess()
        defer { lab.stop() }
        let configuration = lab.configuration([
            .init(name: "control", target: lab.gatewayTarget, mutator: ControlMutator()),
            .init(name: "ingress-delete", target: lab.ingressTarget, mutator: DeleteRecreateMutator()),
        ])
        let report = try await ExperimentRunner(configuration: configuration).run()

        try report.expect(survival: 0.99, arm: "control")
        try report.expect(survival: 0.99, arm: "control", profile: "python")
        try report.expect(latency: "p99", below: .seconds(30), arm: "control")
        try report.expect(reconnects: 1000, arm: "control")

        let deleted = try #require(report.arm("ingress-delete"))
        let survival = #expect(throws: ReportExpectationError.self) { try report.expect(survival: 1, arm: "ingress-delete") }
        let message = survival?.message ?? ""
        #expect(message.hasPrefix("survival of arm ingress-delete is "))
        #expect(message.contains("(\(deleted.survival.successes)/\(deleted.survival.trials), 95% CI "))
        #expect(message.contains("expected at least 1.0000; failures: http-404×"))

        let latency = #expect(throws: ReportExpectationError.self) { try report.expect(latency: "p50", below: .microseconds(1), arm: "control") }
        #expect(latency?.message.hasPrefix("p50 latency of arm control (all) is ") == true)
        #expect(latency?.message.hasSuffix("expected below 0.0 ms") == true)

        let unknownArm = #expect(throws: ReportExpectationError.self) { try report.expect(survival: 0.5, arm: "gateway") }
        #expect(unknownArm?.message == "the report has no arm gateway; arms: control, ingress-delete")
        let unknownProfile = #expect(throws: ReportExpectationError.self) { try report.expect(survival: 0.5, arm: "control", profile: "rust") }
        #expect(unknownProfile?.message.contains("has no client profile rust; profiles: go, java, none, protocol, python") == true)
    }
}
