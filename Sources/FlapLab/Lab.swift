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
        /// The data planes, each mirroring a named product on a port of its own (default: each API through an
        /// nginx profile and an Envoy profile).
        public var profiles: [LabProfile] = LabProfile.factorial
        public init() {}
    }

    /// The routes serve Trino on `localhost` (each data plane on its own port), so any client reaches them by
    /// URL alone — kubectl-style tools, the Trino CLI, the Python client — and nextUri stays reachable.
    public static let ingressHost = "localhost"
    public static let gatewayHost = "localhost"
    /// Envoy Gateway's Gateway (each Gateway API profile has its own: `LabProfile.gatewayName`).
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
    /// The running data planes by profile (a profile whose proxy is missing is in `unavailable`).
    let planes: [LabProfile: ProfileDataPlane]
    private let stopped = NSLock()
    private var isStopped = false

    /// Data planes that could not start, and why (the others run).
    public private(set) var unavailable: [String]

    private init(configuration: Configuration, directory: String, api: FakeKubeAPIServer, processes: LabPods, endpointSlices: LabEndpointSliceController,
                 kube: KubeClient, kubeconfigPath: String, binaries: LabBinaries, planes: [LabProfile: ProfileDataPlane], unavailable: [String]) {
        self.configuration = configuration
        self.directory = directory
        self.api = api
        self.processes = processes
        self.endpointSlices = endpointSlices
        self.kube = kube
        self.kubeconfigPath = kubeconfigPath
        self.binaries = binaries
        self.planes = planes
        self.unavailable = unavailable
    }

    /// The profiles that run, in the factorial's order.
    public var profiles: [LabProfile] { self.planes.keys.sorted() }

    /// The lab's route `trino` through a profile's data plane.
    public func target(_ profile: LabProfile) -> RouteTarget? {
        self.planes[profile].map { plane in
            RouteTarget(kind: profile.api, name: "trino", namespace: self.configuration.namespace,
                        url: URL(string: "http://\(profile.api == .ingress ? Self.ingressHost : Self.gatewayHost):\(plane.port)")!,
                        connectTo: "127.0.0.1:\(plane.port)")
        }
    }

    public func port(_ profile: LabProfile) -> Int? { self.planes[profile]?.port }

    /// The Ingress through ingress-nginx (else the first Ingress profile).
    public var ingressTarget: RouteTarget? {
        self.target(.ingressNginx) ?? self.profiles.first { $0.api == .ingress }.flatMap(self.target)
    }

    /// The HTTPRoute through Envoy Gateway (else the first HTTPRoute profile).
    public var gatewayTarget: RouteTarget? {
        self.target(.envoyGateway) ?? self.profiles.first { $0.api == .httpRoute }.flatMap(self.target)
    }

    public var nginxPort: Int? { self.port(.ingressNginx) }
    public var envoyPort: Int? { self.port(.envoyGateway) }

    /// When a profile's data plane served each version of each route.
    public func appliedGenerations(_ profile: LabProfile) async -> [AppliedGeneration] {
        await self.planes[profile]?.loop.applied ?? []
    }

    /// Every request an Envoy profile logged, with its response flags (empty for other profiles).
    public func envoyResponses(_ profile: LabProfile = .envoyGateway) async -> [EnvoyLoggedResponse] {
        guard let envoy = self.planes[profile]?.envoy else { return [] }
        return await Blocking.run { envoy.loggedResponses() }
    }

    /// Data planes whose process ended while the lab runs (killed or crashed), with their last log lines.
    public var deadDataPlanes: [String] {
        self.profiles.compactMap { profile in
            guard let plane = self.planes[profile], plane.exitedUnexpectedly else { return nil }
            return "\(profile.rawValue): \(profile.proxy.rawValue) exited unexpectedly: \(plane.logTail)"
        }
    }

    /// When a profile's nginx began serving each new configuration (its reloads, as served), in order.
    public func nginxReloads(_ profile: LabProfile = .ingressNginx) async -> [ContinuousClock.Instant] {
        await self.planes[profile]?.loop.servedConfigurations ?? []
    }

    /// When an HAProxy profile reloaded, and how many changes it applied through the runtime API alone.
    public func haproxyUpdates(_ profile: LabProfile) -> (reloads: [ContinuousClock.Instant], runtimeUpdates: Int)? {
        self.planes[profile]?.haproxy?.updates
    }

    public func controllerErrors() async -> [String] {
        var failures: [String] = []
        for profile in self.profiles { failures += await self.planes[profile]?.loop.failures ?? [] }
        return failures + (await self.endpointSlices.loop.failures)
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
        var planes: [LabProfile: ProfileDataPlane] = [:]
        var endpointSlices: LabEndpointSliceController?
        func abandon() {
            planes.values.forEach { $0.stop() }
            endpointSlices?.stop()
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
            var unavailable: [String] = []
            var profiles: [LabProfile] = []
            for profile in configuration.profiles {
                switch profile.proxy {
                case .nginx where binaries.nginx == nil: unavailable.append("\(profile.rawValue): nginx is not installed (scripts/lab-deps)")
                case .envoy where binaries.envoy == nil: unavailable.append("\(profile.rawValue): envoy is not installed (scripts/lab-deps)")
                case .haproxy where binaries.haproxy == nil: unavailable.append("\(profile.rawValue): haproxy is not installed (scripts/lab-deps)")
                default: profiles.append(profile)
                }
            }
            try await processes.publish(to: kube)
            try await Self.seed(kube: kube, configuration: configuration, profiles: profiles)
            if let manifests = configuration.manifests { _ = try await LabManifests.apply(manifests, kube: kube) }
            // The data planes' first configurations already see every Service's endpoints.
            try await LabEndpointSliceController.sync(kube)
            endpointSlices = LabEndpointSliceController(kube: kube)
            for profile in profiles {
                let plane = try ProfileDataPlane(profile: profile, binaries: binaries, directory: directory)
                planes[profile] = plane
                try await plane.start(kube: kube, gatewayNamespace: configuration.namespace, labDirectory: directory)
                plane.run(kube: kube, gatewayNamespace: configuration.namespace, syncPeriod: configuration.syncPeriod)
                if profile.api == .httpRoute {
                    try await Self.programGateway(profile.gatewayName, kube: kube, port: plane.port, namespace: configuration.namespace)
                }
            }
            if planes.isEmpty { unavailable.append("no data plane started") }
            let lab = Lab(configuration: configuration, directory: directory, api: api, processes: processes, endpointSlices: endpointSlices!,
                          kube: kube, kubeconfigPath: kubeconfig, binaries: binaries, planes: planes, unavailable: unavailable)
            if configuration.seedRoutes { try await lab.waitUntilServing() }
            return lab
        } catch {
            abandon()
            throw error
        }
    }

    /// The Services the lab's routes use, a Gateway per Gateway API profile (admitting routes from every
    /// namespace) and, unless told otherwise, the Ingresses (no class: every Ingress profile serves them, as
    /// controllers that watch class-less Ingresses do) and HTTPRoutes (attached to every profile's Gateway).
    /// Services select pods by label and target their named ports.
    static func seed(kube: KubeClient, configuration: Configuration, profiles: [LabProfile]) async throws {
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
        let gatewayProfiles = profiles.filter { $0.api == .httpRoute }
        for profile in gatewayProfiles {
            var gateway = Gateway(name: profile.gatewayName, namespace: namespace)
            gateway.spec.gatewayClassName = profile.rawValue
            var listener = Gateway.Listener(name: "http", port: 80)
            listener.json[member: "allowedRoutes"] = ["namespaces": ["from": "All"]]
            gateway.spec.listeners = [listener]
            try await kube.create(gateway)
        }
        guard configuration.seedRoutes else { return }
        for (name, host) in [("trino", Self.ingressHost), ("neighbour", "neighbour.ingress.lab")] {
            var ingress = Ingress(name: name, namespace: namespace)
            ingress.spec.rules = [Ingress.Rule(host: host, paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
            try await kube.create(ingress)
        }
        for (name, host, backends) in [("trino", Self.gatewayHost, ["trino", "trino-b"]), ("neighbour", "neighbour.gateway.lab", ["trino"])] {
            var route = HTTPRoute(name: name, namespace: namespace)
            route.spec.parentRefs = gatewayProfiles.map { ParentReference(name: $0.gatewayName) }
            route.spec.hostnames = [host]
            route.spec.rules = [HTTPRoute.Rule(backendRefs: backends.map { HTTPRoute.BackendRef(name: $0, port: 8080) })]
            try await kube.create(route)
        }
    }

    /// Sets the Gateway's Accepted and Programmed for its generation (retried on conflict: the controller's
    /// watch may write the same status concurrently).
    static func programGateway(_ name: String, kube: KubeClient, port: Int, namespace: String) async throws {
        for attempt in 1...5 {
            do {
                try await self.writeGatewayStatus(name, kube: kube, port: port, namespace: namespace)
                return
            } catch let error as KubeStatusError where error.isConflict && attempt < 5 {
                try await Task.sleep(for: .milliseconds(10 * attempt))
            }
        }
    }

    private static func writeGatewayStatus(_ name: String, kube: KubeClient, port: Int, namespace: String) async throws {
        var gateway = try await kube.get(Gateway.self, name: name, namespace: namespace)
        if gateway.isProgrammed { return }
        let now = ISO8601DateFormatter().string(from: Date())
        let generation = gateway.metadata.generation
        gateway.status.conditions = [
            Condition(type: "Accepted", status: "True", reason: "Accepted", observedGeneration: generation, lastTransitionTime: now),
            Condition(type: "Programmed", status: "True", reason: "Programmed", message: "the data plane listens on 127.0.0.1:\(port)",
                      observedGeneration: generation, lastTransitionTime: now),
        ]
        gateway.status.json[member: "addresses"] = [["type": "IPAddress", "value": "127.0.0.1"]]
        try await kube.replaceStatus(gateway)
    }

    /// The route answers Trino's /v1/info through every profile before the lab is handed out.
    func waitUntilServing(timeout: Duration = .seconds(20)) async throws {
        let probe = HTTPDataPlaneProbe()
        for target in self.profiles.compactMap(self.target) {
            guard await probe.awaitProof(.status(200), target: target, timeout: timeout) != nil else {
                throw LabError.setup("\(target) is not served through 127.0.0.1 (\(target.connectTo ?? "")) after \(timeout)")
            }
        }
    }

    public func stop() {
        let first = self.stopped.withLock { () -> Bool in defer { self.isStopped = true }; return !self.isStopped }
        guard first else { return }
        self.planes.values.forEach { $0.stop() }
        self.endpointSlices.stop()
        self.api.stop()
        self.processes.stop()
        try? FileManager.default.removeItem(atPath: self.directory)
    }

    deinit { self.stop() }
}
