import FlapCore
import FlapJSON
import FlapSystem
import FlapFakes
import Foundation
import KubeClient

/// The local lab: a fake API server and a fake Trino coordinator (two listeners = two Services selecting one
/// pod), with real data planes programmed by lab controllers: nginx as ingress-nginx, Envoy (file-based xDS) as a
/// Gateway API implementation. Everything listens on loopback, ephemeral ports. `stop()` (or the process dying)
/// ends nginx and Envoy and removes the lab's directory.
public final class Lab: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// ingress-nginx batches syncs; this is the lab controller's period.
        public var syncPeriod: Duration = .milliseconds(250)
        /// How long each fake Trino query runs (pages spread over it).
        public var queryDuration: Duration = .milliseconds(1800)
        public var rowsPerPage = 25
        public var namespace = "default"
        /// Also start a second, independent coordinator behind Service `trino-other` (its own query registry:
        /// a query's polls that reach it get 404, as with two real coordinators).
        public var secondCoordinator = false
        public init() {}
    }

    /// The routes serve Trino on `localhost` (each data plane on its own port), so any client reaches them by
    /// URL alone — kubectl-style tools, the Trino CLI, the Python client — and nextUri stays reachable.
    public static let ingressHost = "localhost"
    public static let gatewayHost = "localhost"
    public static let gatewayName = "lab-gateway"

    public let configuration: Configuration
    public let directory: String
    public let api: FakeKubeAPIServer
    public let trino: FakeTrinoServer
    /// The independent second coordinator, when configured.
    public let otherTrino: FakeTrinoServer?
    public let kube: KubeClient
    public let kubeconfigPath: String
    public let binaries: LabBinaries
    let nginx: NginxDataPlane?
    let envoy: EnvoyDataPlane?
    let ingressController: LabIngressController?
    let gatewayController: LabGatewayController?
    private let stopped = NSLock()
    private var isStopped = false

    /// Data planes that could not start, and why (the others run).
    public private(set) var unavailable: [String]

    private init(configuration: Configuration, directory: String, api: FakeKubeAPIServer, trino: FakeTrinoServer, otherTrino: FakeTrinoServer?, kube: KubeClient,
                 kubeconfigPath: String, binaries: LabBinaries, nginx: NginxDataPlane?, envoy: EnvoyDataPlane?,
                 ingressController: LabIngressController?, gatewayController: LabGatewayController?, unavailable: [String]) {
        self.configuration = configuration
        self.directory = directory
        self.api = api
        self.trino = trino
        self.otherTrino = otherTrino
        self.kube = kube
        self.kubeconfigPath = kubeconfigPath
        self.binaries = binaries
        self.nginx = nginx
        self.envoy = envoy
        self.ingressController = ingressController
        self.gatewayController = gatewayController
        self.unavailable = unavailable
    }

    /// The Ingress route through nginx, when nginx runs.
    public var ingressTarget: RouteTarget? {
        self.nginx.map { RouteTarget(kind: .ingress, name: "trino", namespace: self.configuration.namespace,
                                     url: URL(string: "http://\(Self.ingressHost):\($0.port)")!, connectTo: "127.0.0.1:\($0.port)") }
    }

    /// The HTTPRoute through Envoy, when Envoy runs.
    public var gatewayTarget: RouteTarget? {
        self.envoy.map { RouteTarget(kind: .httpRoute, name: "trino", namespace: self.configuration.namespace,
                                     url: URL(string: "http://\(Self.gatewayHost):\($0.port)")!, connectTo: "127.0.0.1:\($0.port)") }
    }

    public var nginxPort: Int? { self.nginx?.port }
    public var envoyPort: Int? { self.envoy?.port }

    /// When each controller applied each generation of each route.
    public func appliedGenerations() async -> (ingress: [AppliedGeneration], gateway: [AppliedGeneration]) {
        (await self.ingressController?.loop.applied ?? [], await self.gatewayController?.loop.applied ?? [])
    }

    /// Every request Envoy logged, with its response flags (empty without Envoy).
    public func envoyResponses() async -> [EnvoyLoggedResponse] {
        guard let envoy = self.envoy else { return [] }
        return await Blocking.run { envoy.loggedResponses() }
    }

    /// Data planes whose process ended while the lab runs (killed or crashed), with their last log lines.
    public var deadDataPlanes: [String] {
        var dead: [String] = []
        if let nginx = self.nginx, nginx.exitedUnexpectedly { dead.append("nginx exited unexpectedly: \(nginx.logTail)") }
        if let envoy = self.envoy, envoy.exitedUnexpectedly { dead.append("envoy exited unexpectedly: \(envoy.logTail)") }
        return dead
    }

    /// When nginx began serving each new configuration (its reloads, as served), in order.
    public func nginxReloads() async -> [ContinuousClock.Instant] {
        await self.ingressController?.loop.servedConfigurations ?? []
    }

    public func controllerErrors() async -> [String] {
        (await self.ingressController?.loop.failures ?? []) + (await self.gatewayController?.loop.failures ?? [])
    }

    public static func start(_ configuration: Configuration = Configuration()) async throws -> Lab {
        let binaries = LabBinaries.find()
        guard binaries.nginx != nil || binaries.envoy != nil else { throw LabError.missing(binaries.missing) }
        let directory = NSTemporaryDirectory() + "flap-lab-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var trinoConfiguration = FakeTrinoServer.Configuration()
        trinoConfiguration.listeners = 2
        trinoConfiguration.queryDuration = configuration.queryDuration
        trinoConfiguration.rowsPerPage = configuration.rowsPerPage
        let trino = try FakeTrinoServer(configuration: trinoConfiguration)
        var otherConfiguration = trinoConfiguration
        otherConfiguration.listeners = 1
        let otherTrino = configuration.secondCoordinator ? try FakeTrinoServer(configuration: otherConfiguration) : nil
        let api = try FakeKubeAPIServer()
        let kubeconfig = try api.writeKubeconfig(to: "\(directory)/kubeconfig", namespace: configuration.namespace)
        var kubeConfiguration = KubeClient.Configuration(server: api.url)
        kubeConfiguration.defaultNamespace = configuration.namespace
        kubeConfiguration.userAgent = "flap-lab"
        let kube = KubeClient(configuration: kubeConfiguration)
        var endpoints = ["trino": "127.0.0.1:\(trino.ports[0])", "trino-b": "127.0.0.1:\(trino.ports[1])"]
        if let otherTrino { endpoints["trino-other"] = "127.0.0.1:\(otherTrino.ports[0])" }
        try await Self.seed(kube: kube, endpoints: endpoints, namespace: configuration.namespace)
        var unavailable = binaries.missing
        var nginx: NginxDataPlane?
        var envoy: EnvoyDataPlane?
        var ingressController: LabIngressController?
        var gatewayController: LabGatewayController?
        do {
            if let binary = binaries.nginx {
                let plane = try NginxDataPlane(binary: binary, directory: "\(directory)/nginx", port: try FreePort.pick())
                let ingresses = try await kube.list(.ingress, namespace: configuration.namespace).typed(Ingress.self)
                let initial = NginxConfigRenderer(prefix: plane.prefix, port: plane.port).render(ingresses: ingresses, endpoints: endpoints)
                try await Blocking.run { try plane.start(initial: initial, labDirectory: directory) }
                nginx = plane
                ingressController = LabIngressController(kube: kube, namespace: configuration.namespace, nginx: plane, endpoints: endpoints,
                                                         syncPeriod: configuration.syncPeriod)
            }
            if let binary = binaries.envoy {
                let plane = try EnvoyDataPlane(binary: binary, directory: "\(directory)/envoy", port: try FreePort.pick(), adminPort: try FreePort.pick())
                let routes = try await kube.list(.httpRoute, namespace: configuration.namespace).typed(HTTPRoute.self)
                let rendered = EnvoyConfigRenderer().render(routes: routes, endpoints: endpoints)
                try await Blocking.run { try plane.start(routes: rendered.routes, clusters: rendered.clusters, labDirectory: directory) }
                envoy = plane
                gatewayController = LabGatewayController(kube: kube, namespace: configuration.namespace, gateway: gatewayName, envoy: plane, endpoints: endpoints)
                try await Self.programGateway(kube: kube, port: plane.port, namespace: configuration.namespace)
            }
        } catch {
            nginx?.stop()
            envoy?.stop()
            api.stop()
            trino.stop()
            otherTrino?.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        if nginx == nil && envoy == nil { unavailable.append("no data plane started") }
        let lab = Lab(configuration: configuration, directory: directory, api: api, trino: trino, otherTrino: otherTrino, kube: kube, kubeconfigPath: kubeconfig,
                      binaries: binaries, nginx: nginx, envoy: envoy, ingressController: ingressController,
                      gatewayController: gatewayController, unavailable: unavailable)
        try await lab.waitUntilServing()
        return lab
    }

    /// Services (with the lab's endpoint annotation), the Ingresses, the Gateway and the HTTPRoutes.
    static func seed(kube: KubeClient, endpoints: [String: String], namespace: String) async throws {
        for (name, endpoint) in endpoints.sorted(by: { $0.key < $1.key }) {
            var service = KubeObject(json: ["apiVersion": "v1", "kind": "Service",
                                            "metadata": ["name": .string(name), "namespace": .string(namespace),
                                                         "annotations": ["lab.flap.dev/endpoint": .string(endpoint)]],
                                            "spec": ["selector": ["app": "trino-coordinator"], "ports": [["port": 8080, "targetPort": 8080]]]])
            service.metadata.labels = ["app.kubernetes.io/part-of": "flap-lab"]
            try await kube.create(service)
        }
        for (name, host) in [("trino", Self.ingressHost), ("neighbour", "neighbour.ingress.lab")] {
            var ingress = Ingress(name: name, namespace: namespace)
            ingress.spec.ingressClassName = "nginx"
            ingress.spec.rules = [Ingress.Rule(host: host, paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
            try await kube.create(ingress)
        }
        var gateway = Gateway(name: Self.gatewayName, namespace: namespace)
        gateway.spec.gatewayClassName = "flap-lab"
        gateway.spec.listeners = [Gateway.Listener(name: "http", port: 80)]
        try await kube.create(gateway)
        for (name, host, backends) in [("trino", Self.gatewayHost, ["trino", "trino-b"]), ("neighbour", "neighbour.gateway.lab", ["trino"])] {
            var route = HTTPRoute(name: name, namespace: namespace)
            route.spec.parentRefs = [ParentReference(name: Self.gatewayName)]
            route.spec.hostnames = [host]
            route.spec.rules = [HTTPRoute.Rule(backendRefs: backends.map { HTTPRoute.BackendRef(name: $0, port: 8080) })]
            try await kube.create(route)
        }
    }

    /// Sets the Gateway's Accepted and Programmed for its generation (retried on conflict: the controller's
    /// watch may write the same status concurrently).
    static func programGateway(kube: KubeClient, port: Int, namespace: String) async throws {
        for attempt in 1...5 {
            do {
                try await self.writeGatewayStatus(kube: kube, port: port, namespace: namespace)
                return
            } catch let error as KubeStatusError where error.isConflict && attempt < 5 {
                try await Task.sleep(for: .milliseconds(10 * attempt))
            }
        }
    }

    private static func writeGatewayStatus(kube: KubeClient, port: Int, namespace: String) async throws {
        var gateway = try await kube.get(Gateway.self, name: gatewayName, namespace: namespace)
        if gateway.isProgrammed { return }
        let now = ISO8601DateFormatter().string(from: Date())
        let generation = gateway.metadata.generation
        gateway.status.conditions = [
            Condition(type: "Accepted", status: "True", reason: "Accepted", observedGeneration: generation, lastTransitionTime: now),
            Condition(type: "Programmed", status: "True", reason: "Programmed", message: "Envoy listens on 127.0.0.1:\(port)",
                      observedGeneration: generation, lastTransitionTime: now),
        ]
        gateway.status.json[member: "addresses"] = [["type": "IPAddress", "value": "127.0.0.1"]]
        try await kube.replaceStatus(gateway)
    }

    /// Both routes answer Trino's /v1/info before the lab is handed out.
    func waitUntilServing(timeout: Duration = .seconds(20)) async throws {
        let probe = HTTPDataPlaneProbe()
        for target in [self.ingressTarget, self.gatewayTarget].compactMap({ $0 }) {
            guard await probe.awaitProof(.status(200), target: target, timeout: timeout) != nil else {
                throw LabError.setup("\(target) is not served through 127.0.0.1 (\(target.connectTo ?? "")) after \(timeout)")
            }
        }
    }

    public func stop() {
        let first = self.stopped.withLock { () -> Bool in defer { self.isStopped = true }; return !self.isStopped }
        guard first else { return }
        self.ingressController?.stop()
        self.gatewayController?.stop()
        self.nginx?.stop()
        self.envoy?.stop()
        self.api.stop()
        self.trino.stop()
        self.otherTrino?.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    deinit { self.stop() }
}
