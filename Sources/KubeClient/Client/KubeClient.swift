import FlapJSON
import Foundation
import HTTPWire

/// A Kubernetes API client on Foundation: REST verbs, every patch type, status subresource, watch, and a
/// conflict-safe read-modify-write. Errors are typed (`KubeStatusError`, `KubeTransportError`); credentials
/// never appear in them.
public final class KubeClient: Sendable {
    public struct Configuration: Sendable {
        /// The API server; a path is a prefix for every API path (as kubeconfig allows).
        public var server: URL
        public var defaultNamespace = "default"
        public var credentials: KubeCredentials = .none
        /// client-go sends credentials only over https; set this to send them over plain http (tests, loopback).
        public var sendCredentialsOverPlainHTTP = false
        public var requestTimeout: Duration = .seconds(30)
        public var userAgent = "flap/0.1"
        /// The cluster's own API server (the kubeconfig's) when `server` is a local `kubectl proxy` in front of it.
        public var clusterServer: URL?

        public init(server: URL) { self.server = server }

        /// Which cluster this client talks to, whatever the transport: what a restore journal records and checks.
        public var clusterIdentity: String { (self.clusterServer ?? self.server).absoluteString }
    }

    public let configuration: Configuration
    let transport: any HTTPTransport
    let streamer: SocketHTTPClient
    /// Stops whatever the client started (a kubectl proxy), once.
    private let onShutdown: ShutdownHook

    public init(configuration: Configuration, transport: any HTTPTransport = AutomaticTransport(), onShutdown: (@Sendable () -> Void)? = nil) {
        self.configuration = configuration
        self.transport = transport
        self.streamer = SocketHTTPClient()
        self.onShutdown = ShutdownHook(onShutdown)
    }

    deinit { self.onShutdown.run() }

    /// Stops helpers the client started (such as a `kubectl proxy` child).
    public func shutdown() { self.onShutdown.run() }

    public var defaultNamespace: String { self.configuration.defaultNamespace }
    /// Pass as `namespace` to `list`, `listAll`, `watch` or `watchChanges` for every namespace (`kubectl -A`).
    public static let allNamespaces = ""

    // MARK: - Verbs

    public func get<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil) async throws -> T {
        T(json: try await self.get(T.resourceType, name: name, namespace: namespace).json)
    }

    public func get(_ resource: ResourceType, name: String, namespace: String? = nil) async throws -> KubeObject {
        let path = resource.itemPath(name: name, namespace: self.namespace(resource, namespace))
        return KubeObject(json: try await self.requestJSON("GET", path: path, operation: self.describe("GET", resource, name, namespace)))
    }

    public func list(_ resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> KubeList {
        let path = resource.collectionPath(namespace: resource.namespaced ? namespace ?? self.defaultNamespace : nil)
        let json = try await self.requestJSON("GET", path: path, query: options.query, operation: "LIST \(resource)")
        return KubeList(json: json)
    }

    /// Every item, following `continue` tokens.
    public func listAll(_ resource: ResourceType, namespace: String? = nil, options: ListOptions = ListOptions()) async throws -> KubeList {
        var options = options
        var page = try await self.list(resource, namespace: namespace, options: options)
        var items = page.items
        while let token = page.continueToken, !token.isEmpty {
            options.continueToken = token
            page = try await self.list(resource, namespace: namespace, options: options)
            items += page.items
        }
        page.items = items
        page.continueToken = nil
        return page
    }

    @discardableResult
    public func create<T: KubeResource>(_ object: T, fieldManager: String? = nil) async throws -> T {
        let resource = try self.resourceType(of: object)
        let path = resource.collectionPath(namespace: self.namespace(resource, object.namespace))
        var query: [(String, String)] = []
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        let json = try await self.requestJSON("POST", path: path, query: query, body: object.json,
                                              operation: self.describe("CREATE", resource, object.name, object.namespace))
        return T(json: json)
    }

    /// PUT: replaces the object; `metadata.resourceVersion` makes it conditional (custom resources require it).
    @discardableResult
    public func replace<T: KubeResource>(_ object: T, fieldManager: String? = nil) async throws -> T {
        let resource = try self.resourceType(of: object)
        let path = resource.itemPath(name: object.name, namespace: self.namespace(resource, object.namespace))
        var query: [(String, String)] = []
        if let fieldManager { query.append(("fieldManager", fieldManager)) }
        return T(json: try await self.requestJSON("PUT", path: path, query: query, body: object.json,
                                                  operation: self.describe("REPLACE", resource, object.name, object.namespace)))
    }

    /// PUT to the status subresource (what controllers do).
    @discardableResult
    public func replaceStatus<T: KubeResource>(_ object: T) async throws -> T {
        let resource = try self.resourceType(of: object)
        let path = resource.itemPath(name: object.name, namespace: self.namespace(resource, object.namespace)) + "/status"
        return T(json: try await self.requestJSON("PUT", path: path, body: object.json,
                                                  operation: self.describe("REPLACE STATUS", resource, object.name, object.namespace)))
    }

    @discardableResult
    public func patch(_ resource: ResourceType, name: String, namespace: String? = nil, _ patch: KubePatch,
                      subresource: String? = nil) async throws -> KubeObject {
        var path = resource.itemPath(name: name, namespace: self.namespace(resource, namespace))
        if let subresource { path += "/\(subresource)" }
        let json = try await self.requestJSON("PATCH", path: path, query: patch.query, body: patch.body, contentType: patch.contentType,
                                              operation: self.describe("PATCH", resource, name, namespace))
        return KubeObject(json: json)
    }

    @discardableResult
    public func patch<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil, _ patch: KubePatch) async throws -> T {
        T(json: try await self.patch(T.resourceType, name: name, namespace: namespace, patch).json)
    }

    /// Deletes; `.deleted` carries the server's Status, `.pending` the object when finalizers or grace keep it.
    @discardableResult
    public func delete(_ resource: ResourceType, name: String, namespace: String? = nil, options: DeleteOptions = DeleteOptions()) async throws -> DeleteResult {
        let path = resource.itemPath(name: name, namespace: self.namespace(resource, namespace))
        let json = try await self.requestJSON("DELETE", path: path, body: options.body, operation: self.describe("DELETE", resource, name, namespace))
        if json["kind"]?.stringValue == "Status" { return .deleted(status: json) }
        return .pending(KubeObject(json: json))
    }

    /// Any path, for what the typed verbs do not cover (discovery, SelfSubjectAccessReview, ...).
    public func raw(_ method: String, path: String, query: [(String, String)] = [], body: JSONValue? = nil) async throws -> JSONValue {
        try await self.requestJSON(method, path: path, query: query, body: body, operation: "\(method) \(path)")
    }

    // MARK: - Helpers

    func namespace(_ resource: ResourceType, _ namespace: String?) -> String? {
        resource.namespaced ? (namespace ?? self.defaultNamespace) : nil
    }

    func resourceType<T: KubeResource>(of object: T) throws -> ResourceType {
        if T.self != KubeObject.self { return T.resourceType }
        guard let resource = KubeObject(json: object.json).resourceType else {
            throw KubeDecodingError(operation: "resolve kind", message: "unknown kind \(object.kind ?? "?") of apiVersion \(object.apiVersion ?? "?")")
        }
        return resource
    }

    func describe(_ verb: String, _ resource: ResourceType, _ name: String, _ namespace: String?) -> String {
        let ns = self.namespace(resource, namespace)
        return "\(verb) \(resource) \(ns.map { "\($0)/" } ?? "")\(name)"
    }
}

/// Runs a cleanup once.
final class ShutdownHook: @unchecked Sendable {
    private let lock = NSLock()
    private var action: (@Sendable () -> Void)?
    init(_ action: (@Sendable () -> Void)?) { self.action = action }
    func run() {
        let action = self.lock.withLock { () -> (@Sendable () -> Void)? in
            defer { self.action = nil }
            return self.action
        }
        action?()
    }
}
