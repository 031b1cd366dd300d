@testable import FlapCore
import FlapTesting
import Foundation
import KubeClient
import XCTest

/// A mutator whose `failingStep` throws after the earlier steps wrote: a flap that cannot be done or undone.
struct FailingStepMutator: RouteMutator {
    var failingStep: Int
    var name: String { "failing-step" }
    func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }
    func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        if step == self.failingStep { throw MutationError("step \(step) refused on purpose") }
        let object = try await context.kube.modify(context.target.resourceType, name: context.target.name, namespace: context.target.namespace) {
            (object: inout KubeObject) in
            var annotations = object.metadata.annotations
            annotations["flap.dev/failing-step"] = "\(step)"
            object.metadata.annotations = annotations
        }
        return MutationOutcome(description: "annotated step \(step)", resourceVersion: object.metadata.resourceVersion)
    }
}

final class IntegrityTests: XCTestCase {
    /// The issue's first observation: an Ingress arm removing a backend the Ingress does not have reported 15/15.
    func testAnImpossibleMutationIsRefusedBeforeAnyWrite() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        let checkpoint = lab.api.checkpoint()
        let configuration = lab.configuration([
            .init(target: lab.ingressTarget, mutator: ControlMutator()),
            .init(target: lab.ingressTarget, mutator: RemoveReaddBackendMutator(backend: "trino-worker-service")),
            .init(target: lab.gatewayTarget, mutator: NeighbourChangeMutator(neighbour: "no-such-route")),
        ])
        do {
            _ = try await ExperimentRunner(configuration: configuration).run()
            XCTFail("the run should have been refused")
        } catch let error as ExperimentError {
            XCTAssertEqual(error.code, .checkFailed)
            XCTAssertTrue(error.message.contains("nothing was written"), error.message)
            XCTAssertTrue(error.message.contains("arm ingress-remove-readd-trino-worker-service: Ingress default/trino has no backend named trino-worker-service (its backends: trino)"),
                          error.message)
            XCTAssertTrue(error.message.contains("arm gateway-neighbour-no-such-route: HTTPRoute default/no-such-route does not exist"), error.message)
        }
        XCTAssertTrue(lab.api.changes(since: checkpoint).isEmpty, "no write")
        XCTAssertFalse(FileManager.default.fileExists(atPath: configuration.journalDirectory + "/\(configuration.name)"), "no journal either")
    }

    /// A step that fails mid-run makes its arm invalid in every output, skips the rest of its slot, and the arm's
    /// route is put back before the next slot.
    func testAFailedStepMakesItsArmInvalidEverywhere() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        let failing = ArmID("ingress-failing-step")
        var configuration = lab.configuration([
            .init(target: lab.ingressTarget, mutator: ControlMutator()),
            .init(target: lab.ingressTarget, mutator: FailingStepMutator(failingStep: 1)),
        ])
        configuration.schedule.burst = 2
        configuration.gates = [try Gate.parse("survival(\(failing)) >= 0.5"), try Gate.parse("survival(ingress-control) >= 0.5")]
        let report = try await ExperimentRunner(configuration: configuration).run()

        let steps = report.mutations.filter { $0.arm == failing }
        XCTAssertEqual(steps.count, 8, "two rounds of four steps (burst 2): \(steps)")
        for round in 0..<2 {
            let slot = steps.filter { $0.round == round }.sorted { $0.step < $1.step }
            XCTAssertNil(slot[0].error, "step 0 wrote")
            XCTAssertEqual(slot[1].error, "step 1 refused on purpose")
            XCTAssertEqual(slot[2].error, "skipped: step 1 of this slot failed", "no step after a failed one: \(slot[2])")
            XCTAssertEqual(slot[3].error, "skipped: step 1 of this slot failed")
        }
        let arm = try XCTUnwrap(report.arm(failing))
        let reasons = try XCTUnwrap(arm.invalid)
        XCTAssertTrue(reasons[0].hasPrefix("round "), "\(reasons)")
        XCTAssertNil(arm.versusControl, "no comparison for an arm that did not get its mutation")
        XCTAssertNil(report.arm("ingress-control")?.invalid)
        XCTAssertEqual(report.verdict, .invalid)
        XCTAssertEqual(report.judged, .invalid)
        XCTAssertEqual(report.gates.map(\.passed), [false, true], "a gate over the invalid arm fails; the control's passes")
        XCTAssertTrue(report.gates[0].message.contains("not measured: arm ingress-failing-step is invalid"), report.gates[0].message)
        let ingress = try await lab.kube.get(Ingress.self, name: "trino", namespace: "default")
        XCTAssertNil(ingress.metadata.annotations["flap.dev/failing-step"], "the arm's write was put back")

        // Every output says it, and none shows a survival figure for it.
        let text = TextRenderer.render(report)
        XCTAssertTrue(text.contains("verdict: INVALID"), text)
        XCTAssertTrue(text.contains("INVALID arm ingress-failing-step: round "), text)
        let row = try XCTUnwrap(text.split(separator: "\n").first { $0.hasPrefix("ingress-failing-step ") })
        XCTAssertTrue(row.contains("INVALID"), String(row))
        XCTAssertFalse(row.contains("/\(arm.survival.trials)"), "no survival count: \(row)")
        // At 80 columns: no line longer, every arm still named in full.
        let narrow = TextRenderer.render(report, width: 80)
        XCTAssertEqual(narrow.split(separator: "\n").filter { $0.count > 80 }, [], narrow)
        XCTAssertTrue(narrow.hasPrefix("verdict: INVALID\n"), narrow)
        XCTAssertTrue(narrow.contains("ingress-failing-step") && narrow.contains("ingress-control"), narrow)
        XCTAssertGreaterThan(TextRenderer.render(report, width: .max).split(separator: "\n").map(\.count).max() ?? 0, 80, "the wide form is wider")
        let markdown = MarkdownRenderer.render(report)
        XCTAssertTrue(markdown.contains("**Verdict: invalid**"), markdown)
        XCTAssertTrue(markdown.contains("| ingress-failing-step | Ingress default/trino | invalid: the mutation failed |"), markdown)
        let html = HTMLRenderer.render(report)
        XCTAssertTrue(html.contains("<span class=\"verdict invalid\">INVALID</span>"), html)
        XCTAssertTrue(html.contains("<b>ingress-failing-step</b>: invalid, its mutation failed: round "), html)
        XCTAssertTrue(html.contains("invalid: the mutation failed (no survival figure)"))
        let csv = CSVRenderer.render(report).split(separator: "\n")
        XCTAssertTrue(csv[0].hasPrefix("run_id,id,arm,arm_status,"))
        XCTAssertTrue(csv.dropFirst().filter { $0.contains(",ingress-failing-step,") }.allSatisfy { $0.contains(",ingress-failing-step,invalid,") })
        XCTAssertTrue(csv.dropFirst().filter { $0.contains(",ingress-control,") }.allSatisfy { $0.contains(",ingress-control,valid,") })
        let mutations = CSVRenderer.mutations(report).split(separator: "\n")
        XCTAssertTrue(mutations.dropFirst().contains { $0.contains(",ingress-failing-step,invalid,") && !$0.hasSuffix(",") }, "the failed step's error is its last column")
        let junit = JUnitRenderer.render(report)
        XCTAssertTrue(junit.contains(#"<failure type="invalid" message="the arm's mutation failed, so its survival does not measure it: round "#), junit)
        let decoded = try ExperimentReport.decode(report.encoded())
        XCTAssertEqual(decoded.verdict, .invalid)
        XCTAssertEqual(decoded.arm(failing)?.invalid, reasons)
    }

    /// A run whose own tasks could not run (the process was not scheduled) is unreliable, with the arms it touched.
    func testAStalledInstrumentMakesTheRunUnreliable() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: ControlMutator())])
        configuration.schedule.rounds = 1
        configuration.schedule.slot = .seconds(3)
        let runner = ExperimentRunner(configuration: configuration)
        let run = Task { try await runner.run() }
        try await Task.sleep(for: .seconds(1))
        // The machine does not run flap for 1.2 s (as under CPU starvation or a paused VM): a helper process stops
        // this one and continues it.
        let pause = Process()
        pause.executableURL = URL(fileURLWithPath: "/bin/sh")
        pause.arguments = ["-c", "kill -STOP \(getpid()); sleep 1.2; kill -CONT \(getpid())"]
        try pause.run()
        pause.waitUntilExit()
        let report = try await run.value
        let stalls = try XCTUnwrap(report.schedule?.problems.filter { $0.kind == .stall })
        XCTAssertFalse(stalls.isEmpty, "the stall was seen: \(String(describing: report.schedule))")
        XCTAssertTrue(stalls.allSatisfy { $0.amount > configuration.scheduleBounds.stall })
        XCTAssertEqual(Set(stalls.flatMap(\.arms)), ["ingress-control"], "queries were in flight during it")
        XCTAssertEqual(report.judged, .unreliable)
        XCTAssertTrue(TextRenderer.render(report).contains("UNRELIABLE: the run's own tasks were paused for"), TextRenderer.render(report))
        XCTAssertTrue(JUnitRenderer.render(report).contains(#"type="unreliable""#))
    }
}


final class ScheduleAuditTests: XCTestCase {
    func testLateWritesAndLateArrivalsNameTheirArms() {
        var bounds = ScheduleBounds()
        bounds.writeLateness = 0.5
        bounds.arrivalLatenessP99 = 0.25
        let onTime = Self.write("a", intended: 10, start: 10.1)
        let late = Self.write("b", intended: 20, start: 20.9)
        var failed = Self.write("c", intended: 30, start: 35)
        failed.error = "skipped"   // an error makes the arm invalid; it is not counted twice as lateness
        let integrity = ScheduleAudit(bounds: bounds).integrity(queries: [], mutations: [onTime, late, failed], stalls: [Stall(start: 5, duration: 0.4)])
        XCTAssertEqual(integrity.problems.map(\.kind), [.lateWrite], "a 0.4 s stall is within the 0.5 s bound")
        XCTAssertEqual(integrity.problems.first?.arms, ["b"])
        XCTAssertEqual(integrity.problems.first?.detail, "b round 0 step 0 was written 900 ms after its scheduled time (bound 500 ms)")
        XCTAssertFalse(integrity.reliable)
    }

    static func write(_ arm: ArmID, intended: Double, start: Double) -> MutationRecord {
        var record = MutationRecord(arm: arm, mutator: "m", round: 0, step: 0, description: "", writeStart: start, writeEnd: start + 0.01, expectation: .none)
        record.intendedAt = intended
        return record
    }
}

final class StopMidSlotTests: XCTestCase {
    /// The issue saw a `CancellationError` on the last un-flap of a run, reported nowhere but the JSON: a stop in
    /// the middle of a slot now lets the slot's steps finish in their slot, so nothing is cancelled half-way.
    func testAStopBetweenFlapAndUnflapStillUnflapsInTheSlot() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: DeleteRecreateMutator())])
        configuration.schedule.rounds = 3
        let runner = ExperimentRunner(configuration: configuration)
        let checkpoint = lab.api.checkpoint()
        let run = Task { try await runner.run() }
        while !lab.api.changes(since: checkpoint).contains(where: { $0.kind == .deleted }) { try await Task.sleep(for: .milliseconds(5)) }
        await runner.requestStop()   // after the delete, before the recreate
        let report = try await run.value
        XCTAssertTrue(report.partial)
        XCTAssertEqual(report.mutations.map(\.step), [0, 1], "the slot's recreate was still written: \(report.mutations)")
        XCTAssertTrue(report.mutations.allSatisfy { $0.error == nil }, "\(report.mutations.map(\.error))")
        XCTAssertNil(report.arm("ingress-delete-recreate")?.invalid)
    }
}
