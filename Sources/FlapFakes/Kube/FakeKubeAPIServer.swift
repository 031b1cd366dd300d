import FlapSystem
import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// An in-process Kubernetes API server for tests and the lab: Ingress, HTTPRoute, Gateway, GatewayClass,
/// Namespace, Service, ConfigMap, Secret and Lease with the real server's semantics (resourceVersion,
/// generation, status subresource, the four patch types with server-side-apply conflicts, validation and
/// HTTPRoute defaults, watch with 410 Expired, Status errors). kubectl and the official Python client work
/// against it unmodified (kubectl needs `--validate=false`: no OpenAPI is served).
public final class FakeKubeAPIServer: Sendable {
    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 0
        /// When set, every request must carry `Authorization: Bearer <token>`.
        public var bearerToken: String?
        /// Watch events kept for resumption; older resourceVersions get 410 Expired.
        public var watchHistory = 10_000
        public var bookmarkInterval: Duration = .seconds(5)
        public var namespaces = ["default", "kube-system", "kube-public"]
        /// What the identity may not do, by resource plural (`["ingresses": ["delete"]]`): such requests get 403
        /// and SelfSubjectAccessReviews say not allowed, as under an RBAC Role that lacks the verb.
        public var forbidden: [String: Set<String>] = [:]
        public init() {}
    }

    /// A position in the change history (see `changes(since:)`).
    public struct Checkpoint: Sendable, Equatable { public let revision: Int }

    let configuration: Configuration
    let store: FakeKubeStore
    let faults = FakeKubeFaults()
    let watches = WatchRegistry()
    private let server: HTTPServer

    public init(configuration: Configuration = Configuration()) throws {
        self.configuration = configuration
        let store = FakeKubeStore(historyLimit: configuration.watchHistory)
        self.store = store
        let handler = FakeKubeHandler(store: store, faults: self.faults, watches: self.watches, configuration: configuration)
        var http = HTTPServer.Configuration()
        http.host = configuration.host
        http.port = configuration.port
        http.idleTimeout = .seconds(3600)
        self.server = try HTTPServer(configuration: http) { request in handler.handle(request) }
        store.locked {
            for name in configuration.namespaces {
                store.put(.namespace, ["apiVersion": "v1", "kind": "Namespace",
                                       "metadata": ["name": .string(name), "uid": .string(UUID().uuidString.lowercased()),
                                                    "creationTimestamp": .string(RFC3339Now.string())],
                                       "status": ["phase": "Active"]], type: .added)
            }
        }
    }

    public var url: URL { self.server.baseURL }
    public var port: Int { self.server.port }

    /// Writes a kubeconfig for this server (context `flap-fake`) and returns its path.
    @discardableResult
    public func writeKubeconfig(to path: String, namespace: String = "default") throws -> String {
        var user = "{}"
        if let token = self.configuration.bearerToken { user = "{token: \(token)}" }
        let text = """
        apiVersion: v1
        kind: Config
        clusters:
        - name: flap-fake
          cluster:
            server: \(self.url.absoluteString)
        users:
        - name: flap-fake
          user: \(user)
        contexts:
        - name: flap-fake
          context:
            cluster: flap-fake
            user: flap-fake
            namespace: \(namespace)
        current-context: flap-fake
        """
        try PrivateFile.write(Data(text.utf8), to: path)
        return path
    }

    // MARK: - Inspection for tests

    public func checkpoint() -> Checkpoint { self.store.locked { Checkpoint(revision: self.store.revision) } }

    /// Objects created, modified or deleted after `checkpoint`, in order.
    public func changes(since checkpoint: Checkpoint) -> [FakeKubeChange] {
        self.store.locked { self.store.changes.filter { $0.resourceVersion > checkpoint.revision } }
    }

    /// Every stored object of a type (all namespaces when `namespace` is nil).
    public func objects(_ resource: ResourceType, namespace: String? = nil) -> [KubeObject] {
        self.store.locked { self.store.all(resource, namespace: namespace).map(KubeObject.init(json:)) }
    }

    public func object(_ resource: ResourceType, name: String, namespace: String? = "default") -> KubeObject? {
        self.store.locked { self.store.object(resource, resource.namespaced ? namespace : nil, name).map(KubeObject.init(json:)) }
    }

    /// Every object's spec-relevant content, for comparing the cluster before and after a run
    /// (resourceVersion, managedFields and timestamps left out).
    public func snapshot() -> [String: JSONValue] {
        self.store.locked {
            var out: [String: JSONValue] = [:]
            for (resource, objects) in self.store.allObjects where resource != .namespace {
                for (key, object) in objects {
                    var comparable = object
                    for field in ["resourceVersion", "managedFields", "creationTimestamp", "uid", "generation"] {
                        comparable.setValue(nil, at: "metadata.\(field)")
                    }
                    out["\(resource.qualifiedName) \(key)"] = comparable
                }
            }
            return out
        }
    }

    /// Forgets watch history, so watches resuming from any earlier version get 410 Expired.
    public func compactHistory() { self.store.locked { self.store.compact() } }

    /// Applies `fault` to the next matching requests.
    public func inject(_ fault: FakeKubeFault) { self.faults.add(fault) }

    /// Ends every open watch stream (clients must resume).
    public func dropWatches() { self.watches.dropAll() }

    public var openWatchCount: Int { self.watches.count }

    public func stop() {
        self.watches.dropAll()
        self.server.stop()
    }
}

enum RFC3339Now {
    static func string() -> String { ISO8601DateFormatter().string(from: Date()) }
}
