import FlapCore
import FlapJSON
import FlapSystem
import FlapFakes
import Foundation
import KubeClient

/// The local lab: a fake API server, fake Trino "pods" (coordinators and workers on loopback, published as Pod
/// objects), an EndpointSlice controller deriving each Service's endpoints from its selector, and real data planes
/// programmed by lab controllers that watch every namespace: nginx as ingress-nginx, Envoy (file-based xDS) as a
/// Gateway API implementation. Everything listens on loopback, ephemeral ports. `stop()` (or the process dying)
/// ends nginx and Envoy and removes the lab's directory. docs/lab.md says what it models and what it does not.
public final class Lab: @unchecked Sendable {
    public struct Configuration: Sendable {
        /// ingress-nginx batches syncs; this is the lab controller's period.
        public var syncPeriod: Duration = .milliseconds(250)
        /// How long each fake Trino query runs (pages spread over it).
        public var queryDuration: Duration = .milliseconds(1800)
        public var rowsPerPage = 25
        /// Where the lab's own Services, routes and Gateway live.
        public var namespace = "default"
        /// Coordinators per namespace, each an independent query registry (a query's polls that reach another one
        /// get 404, as with two real coordinators). With two or more, Service `trino-other` selects the second.
        public var coordinators = 1
        /// Workers per namespace: they answer the statement API with 404, as real workers do.
        public var workers = 1
        /// More namespaces that get their own pods (the lab's namespace always has them).
        public var podNamespaces: [String] = []
        /// A directory (or file) of manifests to apply once the lab's own objects exist.
        public var manifests: String?
        /// Create the lab's own Ingresses and HTTPRoutes (`trino`, `neighbour`); without them only Services, pods
        /// and the Gateway exist, for users who bring their own routes.
        public var seedRoutes = true
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
    /// The first coordinator in the lab's namespace (Services `trino` and `trino-b`).
    public var trino: FakeTrinoServer { self.processes.coordinators[0] }
    /// The second coordinator in the lab's namespace (Service `trino-other`), when there is one.
    public var otherTrino: FakeTrinoServer? {
        self.configuration.coordinators > 1 ? self.processes.coordinators[1] : nil
    }
    /// The pods, with the labels and ports Services select and target.
    public var pods: [LabPod] { self.processes.pods }
    let processes: LabPods
    let endpointSlices: LabEndpointSliceController
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

    private init(configuration: Configuration, directory: String, api: FakeKubeAPIServer, processes: LabPods, endpointSlices: LabEndpointSliceController,
                 kube: KubeClient, kubeconfigPath: String, binaries: LabBinaries, nginx: NginxDataPlane?, envoy: EnvoyDataPlane?,
                 ingressController: LabIngressController?, gatewayController: LabGatewayController?, unavailable: [String]) {
        self.configuration = configuration
        self.directory = directory
        self.api = api
        self.processes = processes
        self.endpointSlices = endpointSlices
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
            + (await self.endpointSlices.loop.failures)
    }

    public static func start(_ configuration: Configuration = Configuration()) async throws -> Lab {
        let binaries = LabBinaries.find()
        guard binaries.nginx != nil || binaries.envoy != nil else { throw LabError.missing(binaries.missing) }
        guard configuration.coordinators >= 1, configuration.workers >= 0 else {
            throw LabError.setup("the lab needs at least one coordinator and no negative number of workers")
        }
        let directory = NSTemporaryDirectory() + "flap-lab-" + UUID().uuidString.prefix(8).lowercased()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var trinoConfiguration = FakeTrinoServer.Configuration()
        trinoConfiguration.queryDuration = configuration.queryDuration
        trinoConfiguration.rowsPerPage = configuration.rowsPerPage
        var namespaces = [configuration.namespace]
        for namespace in configuration.podNamespaces where !namespaces.contains(namespace) { namespaces.append(namespace) }
        let processes = try LabPods(namespaces: namespaces, coordinators: configuration.coordinators, workers: configuration.workers, trino: trinoConfiguration)
        let api: FakeKubeAPIServer
        do { api = try FakeKubeAPIServer() } catch { processes.stop(); throw error }
        var nginx: NginxDataPlane?
        var envoy: EnvoyDataPlane?
        var ingressController: LabIngressController?
        var gatewayController: LabGatewayController?
        var endpointSlices: LabEndpointSliceController?
        func abandon() {
            ingressController?.stop()
            gatewayController?.stop()
            endpointSlices?.stop()
            nginx?.stop()
            envoy?.stop()
            api.stop()
            processes.stop()
            try? FileManager.default.removeItem(atPath: directory)
        }
        do {
            let kubeconfig = try api.writeKubeconfig(to: "\(directory)/kubeconfig", namespace: configuration.namespace)
            var kubeConfiguration = KubeClient.Configuration(server: api.url)
            kubeConfiguration.defaultNamespace = configuration.namespace
            kubeConfiguration.userAgent = "flap-lab"
            let kube = KubeClient(configuration: kubeConfiguration)
            try await processes.publish(to: kube)
            try await Self.seed(kube: kube, configuration: configuration)
            if let manifests = configuration.manifests { _ = try await LabManifests.apply(manifests, kube: kube) }
            // The data planes' first configurations already see every Service's endpoints.
            try await LabEndpointSliceController.sync(kube)
            endpointSlices = LabEndpointSliceController(kube: kube)
            var unavailable = binaries.missing
            if let binary = binaries.nginx {
                let plane = try NginxDataPlane(binary: binary, directory: "\(directory)/nginx", port: try FreePort.pick())
                let ingresses = try await kube.listAll(.ingress, namespace: KubeClient.allNamespaces).typed(Ingress.self)
                let initial = NginxConfigRenderer(prefix: plane.prefix, port: plane.port).render(ingresses: ingresses, backends: try await LabBackends.load(kube))
                try await Blocking.run { try plane.start(initial: initial, labDirectory: directory) }
                nginx = plane
                ingressController = LabIngressController(kube: kube, nginx: plane, syncPeriod: configuration.syncPeriod)
            }
            if let binary = binaries.envoy {
                let plane = try EnvoyDataPlane(binary: binary, directory: "\(directory)/envoy", port: try FreePort.pick(), adminPort: try FreePort.pick())
                let routes = try await kube.listAll(.httpRoute, namespace: KubeClient.allNamespaces).typed(HTTPRoute.self)
                    .filter { route in route.spec.parentRefs.contains { $0.name == gatewayName && ($0.namespace ?? route.namespace) == configuration.namespace } }
                let rendered = EnvoyConfigRenderer().render(routes: routes, backends: try await LabBackends.load(kube))
                try await Blocking.run { try plane.start(routes: rendered.routes, clusters: rendered.clusters, labDirectory: directory) }
                envoy = plane
                gatewayController = LabGatewayController(kube: kube, namespace: configuration.namespace, gateway: gatewayName, envoy: plane)
                try await Self.programGateway(kube: kube, port: plane.port, namespace: configuration.namespace)
            }
            if nginx == nil && envoy == nil { unavailable.append("no data plane started") }
            let lab = Lab(configuration: configuration, directory: directory, api: api, processes: processes, endpointSlices: endpointSlices!,
                          kube: kube, kubeconfigPath: kubeconfig, binaries: binaries, nginx: nginx, envoy: envoy,
                          ingressController: ingressController, gatewayController: gatewayController, unavailable: unavailable)
            if configuration.seedRoutes { try await lab.waitUntilServing() }
            return lab
        } catch {
            abandon()
            throw error
        }
    }

    /// The Services the lab's routes use, the Gateway (admitting routes from every namespace) and, unless told
    /// otherwise, the Ingresses and HTTPRoutes. Services select pods by label and target their named ports.
    static func seed(kube: KubeClient, configuration: Configuration) async throws {
        let namespace = configuration.namespace
        var services: [(name: String, port: Int, target: String, selector: [String: String])] = [
            ("trino", 8080, "http", ["app.kubernetes.io/component": "coordinator", "apps.kubernetes.io/pod-index": "0"]),
            ("trino-b", 8080, "http-alt", ["app.kubernetes.io/component": "coordinator", "apps.kubernetes.io/pod-index": "0"]),
        ]
        if configuration.coordinators > 1 {
            services.append(("trino-other", 8080, "http", ["app.kubernetes.io/component": "coordinator", "apps.kubernetes.io/pod-index": "1"]))
        }
        if configuration.workers > 0 { services.append(("trino-worker-service", 8081, "http", ["app.kubernetes.io/component": "worker"])) }
        for service in services {
            var selector: [String: JSONValue] = ["app.kubernetes.io/name": "trino"]
            for (key, value) in service.selector { selector[key] = .string(value) }
            let object = KubeObject(json: ["apiVersion": "v1", "kind": "Service",
                                           "metadata": ["name": .string(service.name), "namespace": .string(namespace),
                                                        "labels": ["app.kubernetes.io/part-of": "flap-lab"]],
                                           "spec": ["selector": .object(selector),
                                                    "ports": [["name": "http", "port": .int(service.port), "targetPort": .string(service.target)]]]])
            try await kube.create(object)
        }
        var gateway = Gateway(name: Self.gatewayName, namespace: namespace)
        gateway.spec.gatewayClassName = "flap-lab"
        var listener = Gateway.Listener(name: "http", port: 80)
        listener.json[member: "allowedRoutes"] = ["namespaces": ["from": "All"]]
        gateway.spec.listeners = [listener]
        try await kube.create(gateway)
        guard configuration.seedRoutes else { return }
        for (name, host) in [("trino", Self.ingressHost), ("neighbour", "neighbour.ingress.lab")] {
            var ingress = Ingress(name: name, namespace: namespace)
            ingress.spec.ingressClassName = "nginx"
            ingress.spec.rules = [Ingress.Rule(host: host, paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
            try await kube.create(ingress)
        }
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
        self.endpointSlices.stop()
        self.nginx?.stop()
        self.envoy?.stop()
        self.api.stop()
        self.processes.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    deinit { self.stop() }
}
