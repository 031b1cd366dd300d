import FlapCore
import FlapTesting
import Foundation
import KubeClient
import TrinoClient
import XCTest

/// A whole environment in-process: fake Trino (one coordinator, two listeners = two Services), fake API server,
/// and two test proxies routing by the Ingress and the HTTPRoute objects.
final class LabInProcess {
    let trino: FakeTrinoServer
    let api: FakeKubeAPIServer
    let ingressProxy: FakeRouteProxy
    let gatewayProxy: FakeRouteProxy
    let kube: KubeClient
    let state: TempState

    init(queryDuration: Duration = .milliseconds(600)) async throws {
        var trinoConfiguration = FakeTrinoServer.Configuration()
        trinoConfiguration.listeners = 2
        trinoConfiguration.queryDuration = queryDuration
        trinoConfiguration.rowsPerPage = 25
        trinoConfiguration.maxWait = .milliseconds(100)
        self.trino = try FakeTrinoServer(configuration: trinoConfiguration)
        self.api = try FakeKubeAPIServer()
        let services = ["trino": self.trino.urls[0], "trino-b": self.trino.urls[1]]
        self.ingressProxy = try FakeRouteProxy(mode: .ingress, api: self.api, services: services)
        self.gatewayProxy = try FakeRouteProxy(mode: .httpRoute, api: self.api, services: services)
        var configuration = KubeClient.Configuration(server: self.api.url)
        configuration.userAgent = "flap-test"
        self.kube = KubeClient(configuration: configuration)
        self.state = try TempState()
        var ingress = Ingress(name: "trino", namespace: "default")
        ingress.spec.rules = [Ingress.Rule(host: "trino.example.com", paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
        try await self.kube.create(ingress)
        for name in ["trino", "neighbour"] {
            var route = HTTPRoute(name: name, namespace: "default")
            route.spec.parentRefs = [ParentReference(name: "gw")]
            route.spec.hostnames = ["\(name).example.com"]
            route.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080), HTTPRoute.BackendRef(name: "trino-b", port: 8080)])]
            try await self.kube.create(route)
        }
    }

    var ingressTarget: RouteTarget {
        RouteTarget(kind: .ingress, name: "trino", url: URL(string: "http://trino.example.com")!, connectTo: "127.0.0.1:\(self.ingressProxy.port)")
    }
    var gatewayTarget: RouteTarget {
        RouteTarget(kind: .httpRoute, name: "trino", url: URL(string: "http://trino.example.com")!, connectTo: "127.0.0.1:\(self.gatewayProxy.port)")
    }

    func configuration(_ arms: [ExperimentConfiguration.Arm]) -> ExperimentConfiguration {
        var configuration = ExperimentConfiguration(arms: arms, workload: TrinoQueryWorkload(requestTimeout: .seconds(5)), kube: self.kube)
        configuration.load.arrival = .fixed(perSecond: 8)
        configuration.schedule.slot = .milliseconds(1500)
        configuration.schedule.rounds = 2
        configuration.timeouts.accepted = .milliseconds(50)
        configuration.timeouts.propagation = .seconds(3)
        configuration.timeouts.drain = .seconds(10)
        configuration.journalDirectory = self.state.path + "/journals"
        configuration.eventLogPath = self.state.path + "/events.jsonl"
        return configuration
    }

    func stop() {
        self.ingressProxy.stop()
        self.gatewayProxy.stop()
        self.api.stop()
        self.trino.stop()
    }
}

final class TempState {
    let path = NSTemporaryDirectory() + "flap-core-" + UUID().uuidString
    init() throws { try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true) }
    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}

final class EngineTests: XCTestCase {
    func testInterleavedArmsAttributeFailuresAndRestoreEverything() async throws {
        let lab = try await LabInProcess()
        defer { lab.stop() }
        let before = lab.api.snapshot()
        let checkpoint = lab.api.checkpoint()
        let configuration = lab.configuration([
            .init(name: "control", target: lab.gatewayTarget, mutator: ControlMutator()),
            .init(name: "ingress-delete", target: lab.ingressTarget, mutator: DeleteRecreateMutator()),
            .init(name: "gateway-backend", target: lab.gatewayTarget, mutator: RemoveReaddBackendMutator(backend: "trino-b")),
            .init(name: "gateway-header", target: lab.gatewayTarget, mutator: HeaderFilterToggleMutator()),
        ])
        let report = try await ExperimentRunner(configuration: configuration).run()

        XCTAssertEqual(report.arms.map(\.name), ["control", "ingress-delete", "gateway-backend", "gateway-header"])
        let control = try XCTUnwrap(report.arm("control"))
        XCTAssertGreaterThan(control.queries, 10)
        XCTAssertEqual(control.survival.successes, control.queries, "nothing changes under the control arm: \(control.failures) \(report.queries.first { $0.arm == "control" }!.outcome)")
        let deleted = try XCTUnwrap(report.arm("ingress-delete"))
        XCTAssertGreaterThan(deleted.failures["http-404"] ?? 0, 0, "deleting the route fails in-flight queries with 404: \(deleted.failures)")
        XCTAssertLessThan(deleted.survival.estimate, 1)
        XCTAssertNotNil(deleted.versusControl)
        let failedPhases = Set(report.queries.filter { $0.arm == "ingress-delete" && !$0.outcome.succeeded }.map(\.phase))
        XCTAssertEqual(failedPhases, [.during], "failures are attributed to the mutation window")
        for query in report.queries where query.arm == "ingress-delete" && !query.outcome.succeeded {
            XCTAssertNotNil(query.outcome.failedHop)
            XCTAssertLessThan(abs(query.sinceNearestMutation ?? 99), 1.5)
        }
        XCTAssertEqual(report.arm("gateway-backend")?.survival.estimate, 1, "removing one of two backends of a shared coordinator breaks nothing here")
        let deleteSteps = report.mutations.filter { $0.arm == "ingress-delete" }
        XCTAssertEqual(deleteSteps.count, 4, "two rounds of delete + recreate")
        XCTAssertTrue(deleteSteps.allSatisfy { $0.error == nil && $0.propagatedAt != nil }, "every step was proven by the probe: \(deleteSteps)")
        let headerSteps = report.mutations.filter { $0.arm == "gateway-header" }
        XCTAssertEqual(headerSteps.first?.expectation, .header(name: "X-Flap-Marker", value: "\(report.runID)-3"))
        XCTAssertTrue(headerSteps.allSatisfy { $0.propagatedAt != nil })
        XCTAssertNotNil(report.propagation)
        XCTAssertEqual(report.arm("ingress-delete")?.profiles["python"]?.estimate, report.arm("ingress-delete")?.survival.estimate,
                       "no client retries a 404")

        // Everything is back, the journal is gone, and the event log holds every query.
        let after = lab.api.snapshot().mapValues { v -> JSONValue in var v = v; v.setValue(nil, at: "metadata.annotations"); return v }
        XCTAssertEqual(after, before.mapValues { v -> JSONValue in var v = v; v.setValue(nil, at: "metadata.annotations"); return v })
        XCTAssertFalse(lab.api.changes(since: checkpoint).isEmpty)
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: configuration.journalDirectory).isEmpty)
        let lines = try String(contentsOfFile: configuration.eventLogPath!, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.contains("\"type\":\"query\"") }.count, report.queries.count)
        let text = TextRenderer.render(report)
        XCTAssertTrue(text.contains("ingress-delete"), text)
    }
}
