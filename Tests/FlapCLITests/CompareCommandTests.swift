import FlapCore
import FlapJSON
import FlapTesting
import Foundation
import XCTest

/// `flap-cli compare`: no exit code means two things, and an arm in only one report is never silent.
final class CompareCommandTests: XCTestCase {
    func testExitCodesAreDistinctAndAMissingArmIsAReportedDifference() async throws {
        let environment = try await InProcessEnvironment()
        defer { environment.stop() }
        var configuration = environment.configuration([
            .init(target: environment.gatewayTarget, mutator: ControlMutator()),
            .init(target: environment.gatewayTarget, mutator: TouchMutator()),
        ])
        configuration.schedule.rounds = 1
        configuration.schedule.slot = .milliseconds(800)
        let report = try await ExperimentRunner(configuration: configuration).run()
        let both = environment.directory + "/both.json"
        try report.encoded().write(to: URL(fileURLWithPath: both))
        var fewer = report
        fewer.arms.removeAll { $0.name == "gateway-touch" }
        fewer.queries.removeAll { $0.arm == "gateway-touch" }
        fewer.mutations.removeAll { $0.arm == "gateway-touch" }
        fewer.comparisons = []
        let controlOnly = environment.directory + "/control-only.json"
        try fewer.encoded().write(to: URL(fileURLWithPath: controlOnly))
        let state = ["FLAP_STATE_DIR": environment.directory + "/state"]

        let equal = try CLI.run(["compare", both, both], environment: state)
        XCTAssertEqual(equal.status, 0, equal.stdout + equal.stderr)
        let dropped = try CLI.run(["compare", both, controlOnly], environment: state)
        XCTAssertEqual(dropped.status, 2, dropped.stdout + dropped.stderr)
        XCTAssertTrue(dropped.stdout.contains("MISSING ARM gateway-touch: in the old report only"), dropped.stdout)
        let added = try CLI.run(["compare", controlOnly, both], environment: state)
        XCTAssertEqual(added.status, 2, added.stdout)
        XCTAssertTrue(added.stdout.contains("NEW ARM     gateway-touch: in the new report only"), added.stdout)

        let missingFile = try CLI.run(["compare", both, environment.directory + "/absent.json"], environment: state)
        XCTAssertEqual(missingFile.status, 1, "an unreadable report is an error, not a regression: \(missingFile.stderr)")
        XCTAssertTrue(missingFile.stderr.contains("cannot read report"), missingFile.stderr)
        for usage in [["compare", both], ["compare", both, both, "--latency", "fast"], ["compare", both, both, "--colour"]] {
            let result = try CLI.run(usage, environment: state)
            XCTAssertEqual(result.status, 64, "\(usage): a usage error is not a regression: \(result.stderr)")
        }
    }
}
