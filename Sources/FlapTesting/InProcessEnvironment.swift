import FlapCore
import FlapFakes
import Foundation
import KubeClient
import TrinoClient

/// A whole flap environment in this process, for an embedder's unit tests: a fake Trino (one coordinator behind
/// two listeners, the Services `trino` and `trino-b`), a fake API server holding an Ingress `trino` and the
/// HTTPRoutes `trino` and `neighbour`, and two route proxies that serve those objects as they change (one per
/// route kind). No nginx or Envoy: an experiment runs in seconds.
///
/// ```swift
/// let environment = try await InProcessEnvironment()
/// defer { environment.stop() }
/// let configuration = environment.configuration([
///     .init(target: environment.gatewayTarget, mutator: ControlMutator()),
///     .init(target: environment.gatewayTarget, mutator: DeleteRecreateMutator()),
/// ])
/// let report = try await ExperimentRunner(configuration: configuration).run()
/// try report.expect(survival: 0.9, arm: "gateway-control")
/// ```
public final class InProcessEnvironment: Sendable {
    public let trino: FakeTrinoServer
    public let api: FakeKubeAPIServer
    public let ingressProxy: FakeRouteProxy
    public let gatewayProxy: FakeRouteProxy
    public let kube: KubeClient
    /// A private directory for journals and the event log, removed by `stop()`.
    public let directory: String

    /// - Parameter queryDuration: how long each fake query runs (its pages are spread over it).
    public init(queryDuration: Duration = .milliseconds(600)) async throws {
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
        self.directory = NSTemporaryDirectory() + "flap-in-process-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
        try await self.createRoutes()
    }

    private func createRoutes() async throws {
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

    /// The Ingress `trino`, reached through the Ingress proxy.
    public var ingressTarget: RouteTarget {
        RouteTarget(kind: .ingress, name: "trino", url: URL(string: "http://trino.example.com")!, connectTo: "127.0.0.1:\(self.ingressProxy.port)")
    }

    /// The HTTPRoute `trino`, reached through the Gateway API proxy.
    public var gatewayTarget: RouteTarget {
        RouteTarget(kind: .httpRoute, name: "trino", url: URL(string: "http://trino.example.com")!, connectTo: "127.0.0.1:\(self.gatewayProxy.port)")
    }

    /// A short experiment over `arms` (two rounds of 1.5 s slots at 8 queries/s), with its journal and event log
    /// in `directory`. Change any setting on the result.
    public func configuration(_ arms: [ExperimentConfiguration.Arm]) -> ExperimentConfiguration {
        var configuration = ExperimentConfiguration(arms: arms, workload: TrinoQueryWorkload(requestTimeout: .seconds(5)), kube: self.kube)
        configuration.load.arrival = .fixed(perSecond: 8)
        configuration.schedule.slot = .milliseconds(1500)
        configuration.schedule.rounds = 2
        // The fakes acknowledge at once: short waits keep a failed proof from stretching the run.
        configuration.timeouts.accepted = .milliseconds(50)
        configuration.timeouts.propagation = .seconds(3)
        configuration.timeouts.drain = .seconds(10)
        configuration.journalDirectory = self.directory + "/journals"
        configuration.eventLogPath = self.directory + "/events.jsonl"
        return configuration
    }

    /// Stops the servers and removes `directory`.
    public func stop() {
        self.ingressProxy.stop()
        self.gatewayProxy.stop()
        self.api.stop()
        self.trino.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }
}
