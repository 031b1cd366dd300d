import FlapCore
import FlapJSON
import FlapTesting
import Foundation
import KubeClient
import TrinoClient
import XCTest

final class TempState {
    let path = NSTemporaryDirectory() + "flap-core-" + UUID().uuidString
    init() throws { try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}

final class EngineTests: XCTestCase {
    func testInterleavedArmsAttributeFailuresAndRestoreEverything() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        let before = lab.api.snapshot()
        let checkpoint = lab.api.checkpoint()
        let configuration = lab.configuration([
            .init(target: lab.gatewayTarget, mutator: ControlMutator()),
            .init(target: lab.ingressTarget, mutator: DeleteRecreateMutator()),
            .init(target: lab.gatewayTarget, mutator: RemoveReaddBackendMutator(backend: "trino-b")),
            .init(target: lab.gatewayTarget, mutator: HeaderFilterToggleMutator()),
        ])
        let report = try await ExperimentRunner(configuration: configuration).run()

        XCTAssertEqual(report.arms.map(\.name), ["gateway-control", "ingress-delete-recreate", "gateway-remove-readd-trino-b", "gateway-toggle-header"])
        let control = try XCTUnwrap(report.arm("gateway-control"))
        XCTAssertGreaterThan(control.queries, 10)
        XCTAssertEqual(control.survival.successes, control.queries, "nothing changes under the control arm: \(control.failures) \(report.queries.first { $0.arm == "gateway-control" }!.outcome)")
        let deleted = try XCTUnwrap(report.arm("ingress-delete-recreate"))
        XCTAssertGreaterThan(deleted.failures["http-404"] ?? 0, 0, "deleting the route fails in-flight queries with 404: \(deleted.failures)")
        XCTAssertLessThan(deleted.survival.estimate, 1)
        XCTAssertNil(deleted.versusControl, "the Ingress has no control arm: the Gateway's control says nothing about it")
        XCTAssertNotNil(try XCTUnwrap(report.arm("gateway-remove-readd-trino-b")).versusControl, "an arm is compared with its own route's control")
        let failedPhases = Set(report.queries.filter { $0.arm == "ingress-delete-recreate" && !$0.outcome.succeeded }.map(\.phase))
        XCTAssertEqual(failedPhases, [.during], "failures are attributed to the mutation window")
        for query in report.queries where query.arm == "ingress-delete-recreate" && !query.outcome.succeeded {
            XCTAssertNotNil(query.outcome.failedHop)
            let since = try XCTUnwrap(query.sinceMutation)
            XCTAssertTrue((0..<1.5).contains(since), "a 404 comes after the delete that caused it, counted from that write: \(since)")
        }
        XCTAssertEqual(report.arm("gateway-remove-readd-trino-b")?.survival.estimate, 1, "removing one of two backends of a shared coordinator breaks nothing here")
        let deleteSteps = report.mutations.filter { $0.arm == "ingress-delete-recreate" }
        XCTAssertEqual(deleteSteps.count, 4, "two rounds of delete + recreate")
        XCTAssertTrue(deleteSteps.allSatisfy { $0.error == nil && $0.propagatedAt != nil }, "every step was proven by the probe: \(deleteSteps)")
        let headerSteps = report.mutations.filter { $0.arm == "gateway-toggle-header" }
        XCTAssertEqual(headerSteps.first?.expectation, .header(name: "X-Flap-Marker", value: "\(report.runID)-3"))
        XCTAssertTrue(headerSteps.allSatisfy { $0.propagatedAt != nil })
        XCTAssertNotNil(report.propagation)
        XCTAssertEqual(report.arm("ingress-delete-recreate")?.profiles[ClientProfile.python.rawValue]?.upper.estimate, report.arm("ingress-delete-recreate")?.survival.estimate,
                       "no client retries a 404")

        // Everything is back, the journal is gone, and the event log holds every query.
        let after = lab.api.snapshot().mapValues { v -> JSONValue in var v = v; v.setValue(nil, at: "metadata.annotations"); return v }
        XCTAssertEqual(after, before.mapValues { v -> JSONValue in var v = v; v.setValue(nil, at: "metadata.annotations"); return v })
        XCTAssertFalse(lab.api.changes(since: checkpoint).isEmpty)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: configuration.journalDirectory).isEmpty)
        let lines = try String(contentsOfFile: configuration.eventLogPath!, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("\"type\":\"query\"") }.count, report.queries.count)
        let text = TextRenderer.render(report)
        XCTAssertTrue(text.contains("ingress-delete-recreate"), text)
    }
}
