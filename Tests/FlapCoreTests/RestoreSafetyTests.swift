import FlapCore
import FlapFakes
import FlapJSON
import FlapTesting
import Foundation
import KubeClient
import XCTest

/// A restore writes nothing unless it is sure: a sound journal, the same cluster, the same objects.
final class RestoreSafetyTests: XCTestCase {
    /// A fake API server holding HTTPRoute default/trino with `backend`, and a client for it.
    static func cluster(backend: String) async throws -> (FakeKubeAPIServer, KubeClient) {
        let api = try FakeKubeAPIServer()
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        var route = HTTPRoute(name: "trino", namespace: "default")
        route.spec.parentRefs = [ParentReference(name: "gw")]
        route.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: backend, port: 8080)])]
        route.metadata.labels = ["owner": backend]
        try await kube.create(route)
        return (api, kube)
    }

    static let reference = ObjectReference(resource: .httpRoute, namespace: "default", name: "trino")

    func testAJournalFromAnotherClusterIsRefusedUnlessForced() async throws {
        let (apiA, kubeA) = try await Self.cluster(backend: "trino-a")
        let (apiB, kubeB) = try await Self.cluster(backend: "trino-b")
        defer { apiA.stop(); apiB.stop() }
        let journal = try await RestoreJournal.capture([Self.reference], runID: "flap-test-1", kube: kubeA)
        XCTAssertEqual(journal.server, apiA.url.absoluteString)
        let before = apiB.snapshot()
        do {
            try await Restorer(kube: kubeB).restore(journal)
            XCTFail("restored into another cluster")
        } catch let error as RestoreError {
            XCTAssertEqual(error.code, .differentCluster, "\(error)")
            XCTAssertTrue(error.description.contains("written against \(apiA.url.absoluteString), but the kubeconfig points at \(apiB.url.absoluteString)"),
                          error.description)
            XCTAssertTrue(error.description.contains("--force"), error.description)
        }
        XCTAssertEqual(apiB.snapshot(), before, "nothing was written to the other cluster")
        // Forced (the user named this journal): B's route is overwritten, which is exactly what force means.
        try await Restorer(kube: kubeB).restore(journal, force: true)
        let forced = try await kubeB.get(HTTPRoute.self, name: "trino", namespace: "default")
        XCTAssertEqual(forced.spec.rules.first?.backendRefs.map(\.name), ["trino-a"])
    }

    func testAnObjectWithAnotherUIDIsRefusedUnlessTheRunRecreatedIt() async throws {
        let (api, kube) = try await Self.cluster(backend: "trino")
        defer { api.stop() }
        let journal = try await RestoreJournal.capture([Self.reference], runID: "flap-test-2", kube: kube)
        // Someone else deletes the route and creates their own by the same name.
        try await kube.delete(.httpRoute, name: "trino", namespace: "default")
        var theirs = HTTPRoute(name: "trino", namespace: "default")
        theirs.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "theirs", port: 80)])]
        try await kube.create(theirs)
        let before = api.snapshot()
        do {
            try await Restorer(kube: kube).restore(journal)
            XCTFail("restored over another object")
        } catch let error as RestoreError {
            XCTAssertEqual(error.code, .differentObject, "\(error)")
            XCTAssertEqual(error.objects, [Self.reference])
            XCTAssertTrue(error.description.contains("uid"), error.description)
        }
        XCTAssertEqual(api.snapshot(), before)
        // The same situation, but the run recreated it (delete-recreate marks what it creates): restored.
        try await kube.delete(.httpRoute, name: "trino", namespace: "default")
        theirs.metadata.annotations = [MutationContext.runAnnotation: "flap-test-2"]
        try await kube.create(theirs)
        let actions = try await Restorer(kube: kube).restore(journal)
        XCTAssertEqual(actions, ["restored \(Self.reference)"])
        let restored = try await kube.get(HTTPRoute.self, name: "trino", namespace: "default")
        XCTAssertEqual(restored.spec.rules.first?.backendRefs.map(\.name), ["trino"])
    }

    func testJournalsAndKubeconfigsAreReadableByTheirOwnerOnly() async throws {
        let (api, kube) = try await Self.cluster(backend: "trino")
        defer { api.stop() }
        let directory = NSTemporaryDirectory() + "flap-modes-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let store = JournalStore(directory: directory + "/journals")
        try store.save(try await RestoreJournal.capture([Self.reference], runID: "flap-test-modes", kube: kube))
        func mode(_ path: String) throws -> Int { try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) }
        XCTAssertEqual(try mode(store.path(for: "flap-test-modes")), 0o600)
        XCTAssertEqual(try mode(store.directory), 0o700)
        let kubeconfig = try api.writeKubeconfig(to: directory + "/kubeconfig")
        XCTAssertEqual(try mode(kubeconfig), 0o600)
    }

    func testAnObjectTheRunDidNotCreateIsNotDeleted() async throws {
        let (api, kube) = try await Self.cluster(backend: "trino")
        defer { api.stop() }
        // The journal says the object did not exist before the run, but the one there now is not the run's.
        let journal = RestoreJournal(runID: "flap-test-3", server: api.url.absoluteString, entries: [.init(reference: Self.reference, original: nil)])
        do {
            try await Restorer(kube: kube).restore(journal)
            XCTFail("deleted an object the run did not create")
        } catch let error as RestoreError {
            XCTAssertEqual(error.code, .differentObject, "\(error)")
        }
        _ = try await kube.get(HTTPRoute.self, name: "trino", namespace: "default")
    }

    func testEveryDefectRefusesTheWholeJournalBeforeAnyWrite() async throws {
        let (api, kube) = try await Self.cluster(backend: "trino")
        defer { api.stop() }
        let good = try await RestoreJournal.capture([Self.reference], runID: "flap-test-4", kube: kube)
        // The run changed the route; a defective journal must leave it as it is now, not "restore" it.
        try await kube.modify(HTTPRoute.self, name: "trino", namespace: "default") { $0.spec.hostnames = ["changed.example"] }
        let original = try XCTUnwrap(good.entries.first?.original)
        var wrongName = original
        wrongName.setValue("other", at: "metadata.name")
        var wrongKind = original
        wrongKind[member: "kind"] = "Ingress"
        var specString = original
        specString[member: "spec"] = "x"
        let ingress = ObjectReference(resource: .ingress, namespace: "default", name: "trino")
        let cases: [(String, [RestoreJournal.Entry], String)] = [
            ("a string", [.init(reference: Self.reference, original: "just a string")], "original is a string, not an object"),
            ("another name", [.init(reference: Self.reference, original: wrongName)], "original names another object"),
            ("another kind", [.init(reference: Self.reference, original: wrongKind)], "original is a Ingress, not a HTTPRoute"),
            ("a spec string", [.init(reference: Self.reference, original: specString)], "original spec is a string"),
            ("twice", [.init(reference: Self.reference, original: original), .init(reference: Self.reference, original: original)], "appears twice"),
            ("good then bad", [.init(reference: ingress, original: nil), .init(reference: Self.reference, original: .array([]))], "entry 1"),
        ]
        let before = api.snapshot()
        let store = JournalStore(directory: NSTemporaryDirectory() + "flap-journals-" + UUID().uuidString)
        defer { try? FileManager.default.removeItem(atPath: store.directory) }
        for (name, entries, expected) in cases {
            var journal = good
            journal.entries = entries
            do {
                try await Restorer(kube: kube).restore(journal)
                XCTFail("\(name): restored from a defective journal")
            } catch let error as RestoreError {
                XCTAssertEqual(error.code, .invalidJournal, "\(name): \(error)")
                XCTAssertTrue(error.description.contains(expected), "\(name): \(error)")
            }
            // Loading the file refuses it too, naming the file.
            try store.save(journal)
            XCTAssertThrowsError(try store.load(runID: journal.runID), name) { error in
                XCTAssertTrue("\(error)".contains(store.path(for: journal.runID)) && "\(error)".contains(expected), "\(error)")
            }
        }
        XCTAssertEqual(api.snapshot(), before, "no defective journal wrote anything")
    }
}

/// Toggles a header, then makes the API refuse every later update and patch: the end-of-run restore fails.
struct SabotagedAPIMutator: RouteMutator {
    let api: FakeKubeAPIServer
    let base = HeaderFilterToggleMutator()
    var name: String { "sabotaged-toggle" }
    var stepsPerFlap: Int { self.base.stepsPerFlap }
    func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { try await self.base.touchedObjects(in: context) }
    func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let outcome = try await self.base.apply(step: step, in: context)
        if step == 0 {
            for verb in [FakeKubeFault.Verb.update, .patch] { self.api.inject(FakeKubeFault(.internalError, verb: verb, count: 1000)) }
        }
        return outcome
    }
}

final class NotRestoredReportTests: XCTestCase {
    func testAFailedEndOfRunRestoreStillGivesTheReportMarkedNotRestored() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.gatewayTarget, mutator: SabotagedAPIMutator(api: lab.api))])
        configuration.schedule.rounds = 1
        configuration.timeouts.restore = .seconds(5)
        do {
            _ = try await ExperimentRunner(configuration: configuration).run()
            XCTFail("the restore cannot have succeeded")
        } catch let error as ExperimentError where error.code == .notRestored {
            let report = try XCTUnwrap(error.report)
            XCTAssertTrue(error.description.contains(report.notRestored ?? "-"), error.description)
            XCTAssertFalse(report.queries.isEmpty, "the run's measurements are kept")
            XCTAssertTrue(TextRenderer.render(report).contains("NOT RESTORED"), TextRenderer.render(report))
            XCTAssertTrue(HTMLRenderer.render(report).contains("NOT RESTORED"))
            XCTAssertTrue(MarkdownRenderer.render(report).contains("NOT RESTORED"))
            XCTAssertTrue(JUnitRenderer.render(report).contains("<failure type=\"not-restored\""), JUnitRenderer.render(report))
            let decoded = try ExperimentReport.decode(try report.encoded())
            XCTAssertEqual(decoded.notRestored, report.notRestored, "report.json keeps it")
        }
        let journals = try FileManager.default.contentsOfDirectory(atPath: configuration.journalDirectory)
        XCTAssertEqual(journals.count, 1, "the journal is kept for flap-cli restore")
    }
}

final class UnresponsiveAPITests: XCTestCase {
    /// The API stalls (every write waits 4 s) in the middle of a run: no step lands outside its own arm's slot;
    /// the stalled ones are recorded as errors, and the routes are back at the end.
    func testStepsThatMissTheirSlotAreRecordedNotReplayedIntoAnotherArmsSlot() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        let before = lab.api.snapshot()
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: HeaderFilterToggleMutator()),
                                               .init(target: lab.gatewayTarget, mutator: HeaderFilterToggleMutator())])
        configuration.schedule.rounds = 3
        let runner = ExperimentRunner(configuration: configuration)
        let api = lab.api
        let stall = Task {
            try await Task.sleep(for: .milliseconds(2000))
            for verb in [FakeKubeFault.Verb.update, .patch] { api.inject(FakeKubeFault(.latency(.seconds(4)), verb: verb, count: 4)) }
        }
        defer { stall.cancel() }
        let report = try await runner.run()
        var slots: [String: (Double, Double)] = [:]
        let slot = 1.5
        for line in try String(contentsOfFile: try XCTUnwrap(configuration.eventLogPath), encoding: .utf8).split(separator: "\n") {
            let event = try JSONValue.parse(String(line))
            guard event["type"]?.stringValue == "slot", let arm = event["arm"]?.stringValue, let round = event["round"]?.int64Value,
                  let start = event["t"]?.doubleValue else { continue }
            slots["\(arm)/\(round)"] = (start, start + slot)
        }
        let written = report.mutations.filter { $0.error == nil }
        XCTAssertFalse(written.isEmpty)
        for record in report.mutations {
            let window = try XCTUnwrap(slots["\(record.arm)/\(record.round)"])
            XCTAssertGreaterThanOrEqual(record.writeStart, window.0, "\(record.arm) round \(record.round) step \(record.step)")
            if record.error == nil {
                XCTAssertLessThanOrEqual(record.writeEnd, window.1, "a completed write ended inside its own slot: \(record.arm) round \(record.round) step \(record.step)")
            }
        }
        let missed = report.mutations.filter { $0.error != nil }
        XCTAssertFalse(missed.isEmpty, "the stall cost some steps")
        XCTAssertTrue(missed.allSatisfy { $0.error!.contains("within its slot") || $0.error!.hasPrefix("skipped") }, "\(missed.map(\.error))")
        let events = try String(contentsOfFile: try XCTUnwrap(configuration.eventLogPath), encoding: .utf8)
        XCTAssertTrue(events.contains("\"type\":\"arm-restored\""), "an arm that missed a step was put back at once, not only at the end")
        XCTAssertEqual(lab.api.snapshot().mapValues(Self.spec), before.mapValues(Self.spec), "every route is back")
    }

    static func spec(_ object: JSONValue) -> JSONValue { object["spec"] ?? .null }
}
