import FlapJSON
import FlapSystem
import Foundation
import KubeClient

/// When a controller's data plane served each version of each route: the report's data-plane side of
/// propagation. A version is the object's uid and resourceVersion (a route deleted and recreated starts again at
/// generation 1 under a new uid; an annotation change keeps the generation but not the resourceVersion).
public struct AppliedGeneration: Sendable, Equatable {
    public var route: String
    public var generation: Int64
    public var uid: String
    public var resourceVersion: String
    public var appliedAt: ContinuousClock.Instant

    /// Whether this application includes `resourceVersion` of `uid` (the controller may batch versions: applying a
    /// later one applies the earlier). The fake API server's resourceVersions are increasing integers.
    public func covers(uid: String, resourceVersion: String) -> Bool {
        guard self.uid == uid, let mine = Int64(self.resourceVersion), let theirs = Int64(resourceVersion) else { return false }
        return mine >= theirs
    }
}

/// Shared machinery: watch a kind, mark the state dirty, sync at most once per period.
actor ControllerLoop {
    private var dirty = true
    private var records: [AppliedGeneration] = []
    private var errors: [String] = []
    let started = ContinuousClock.now

    func markDirty() { self.dirty = true }
    func takeDirty() -> Bool { defer { self.dirty = false }; return self.dirty }
    /// Records every route whose version changed since the last call as applied at `at`.
    func record<T: KubeResource>(_ routes: [T], at: ContinuousClock.Instant) {
        for route in routes {
            let uid = route.metadata.uid ?? "", version = route.metadata.resourceVersion ?? ""
            let key = "\(route.namespace ?? "")/\(route.name)"
            guard self.seen[key] != uid + "/" + version else { continue }
            self.seen[key] = uid + "/" + version
            self.records.append(AppliedGeneration(route: route.name, generation: route.metadata.generation ?? 0, uid: uid, resourceVersion: version, appliedAt: at))
        }
    }
    private var seen: [String: String] = [:]

    /// Marks the state dirty on every change to these kinds, in every namespace (until cancelled).
    nonisolated func watch(_ kinds: [ResourceType], with kube: KubeClient) -> [Task<Void, any Error>] {
        kinds.map { kind in Task { for try await _ in kube.watchChanges(kind, namespace: KubeClient.allNamespaces) { await self.markDirty() } } }
    }

    func fail(_ error: String) { self.errors.append(error) }
    /// When the data plane began serving a new configuration (nginx: a reload's workers answering).
    func served(at instant: ContinuousClock.Instant) { self.servedConfigurations.append(instant) }
    private(set) var servedConfigurations: [ContinuousClock.Instant] = []
    var applied: [AppliedGeneration] { self.records }
    var failures: [String] { self.errors }
}

/// The lab's ingress controller: watches Ingresses, renders nginx.conf as ingress-nginx does, and reloads nginx,
/// batched by a sync period (ingress-nginx rate-limits its syncs the same way).
final class LabIngressController: Sendable {
    let loop = ControllerLoop()
    private let task: Task<Void, Never>

    /// Watches Ingresses, Services and EndpointSlices in every namespace.
    init(kube: KubeClient, nginx: NginxDataPlane, syncPeriod: Duration) {
        let loop = self.loop
        let renderer = NginxConfigRenderer(prefix: nginx.prefix, port: nginx.port)
        self.task = Task {
            let watchers = loop.watch([.ingress, .service, .endpointSlice], with: kube)
            defer { watchers.forEach { $0.cancel() } }
            var last = ""
            while !Task.isCancelled {
                try? await Task.sleep(for: syncPeriod)
                guard await loop.takeDirty() else { continue }
                do {
                    let ingresses = try await kube.listAll(.ingress, namespace: KubeClient.allNamespaces).typed(Ingress.self)
                    let configuration = renderer.render(ingresses: ingresses, backends: try await LabBackends.load(kube))
                    if configuration != last {
                        // Applied means served: from when the reloaded workers answer with this configuration's
                        // stamp, not from when the reload was asked for.
                        let stamp = try await Blocking.run { try nginx.apply(configuration) }
                        last = configuration
                        guard await nginx.awaitServing(stamp) else {
                            await loop.fail("nginx did not serve configuration \(stamp) within \(NginxDataPlane.servingTimeout)")
                            continue
                        }
                        await loop.served(at: .now)
                    }
                    await loop.record(ingresses, at: .now)
                } catch {
                    await loop.fail("\(error)")
                    await loop.markDirty()
                }
            }
        }
    }

    func stop() { self.task.cancel() }
}

/// The lab's gateway controller: watches HTTPRoutes, writes Envoy's xDS files (renamed into place), and writes
/// route status (Accepted, ResolvedRefs with observedGeneration) and the Gateway's Programmed, as a real one does.
final class LabGatewayController: Sendable {
    static let controllerName = "flap.dev/lab-gateway-controller"
    let loop = ControllerLoop()
    private let task: Task<Void, Never>

    /// Watches HTTPRoutes, Services and EndpointSlices in every namespace; serves the routes attached to the Gateway
    /// `namespace/gateway` (whose listener admits routes from all namespaces).
    init(kube: KubeClient, namespace: String, gateway: String, envoy: EnvoyDataPlane) {
        let loop = self.loop
        self.task = Task {
            // Our own status writes come back as events too; a sync that finds nothing new changes nothing.
            let watchers = loop.watch([.httpRoute, .service, .endpointSlice], with: kube)
            let gateways = Task {
                for try await event in kube.watchChanges(.gateway, namespace: namespace) where event.kind != .deleted {
                    let object = Gateway(json: event.object.json)
                    if object.name == gateway, !object.isProgrammed {
                        try? await Lab.programGateway(kube: kube, port: envoy.port, namespace: namespace)
                    }
                }
            }
            defer { gateways.cancel() }
            defer { watchers.forEach { $0.cancel() } }
            var lastConfiguration: JSONValue = .null
            var writtenStatus: [String: RouteStatusKey] = [:]
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                guard await loop.takeDirty() else { continue }
                do {
                    let routes = try await kube.listAll(.httpRoute, namespace: KubeClient.allNamespaces).typed(HTTPRoute.self)
                        .filter { route in route.spec.parentRefs.contains { $0.name == gateway && ($0.namespace ?? route.namespace) == namespace } }
                    let backends = try await LabBackends.load(kube)
                    let rendered = EnvoyConfigRenderer().render(routes: routes, backends: backends)
                    let configuration: JSONValue = [rendered.routes, rendered.clusters]
                    if configuration != lastConfiguration {
                        try await envoy.apply(routes: rendered.routes, clusters: rendered.clusters)
                        lastConfiguration = configuration
                    }
                    await loop.record(routes, at: .now)
                    for route in routes {
                        let status = RouteStatusKey(generation: route.metadata.generation ?? 0, unresolved: Self.unresolved(route, backends))
                        let key = route.metadata.uid ?? route.name
                        guard writtenStatus[key] != status else { continue }
                        try await Self.writeStatus(route, status: status, gateway: ParentReference(name: gateway, namespace: namespace), kube: kube)
                        writtenStatus[key] = status
                    }
                } catch {
                    await loop.fail("\(error)")
                    await loop.markDirty()
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
    }

    /// What a route's status says: the generation it observed and the backends that did not resolve.
    struct RouteStatusKey: Equatable {
        var generation: Int64
        var unresolved: [String]
    }

    static func unresolved(_ route: HTTPRoute, _ backends: LabBackends) -> [String] {
        let namespace = route.namespace ?? "default"
        return route.spec.rules.flatMap(\.backendRefs).compactMap { ref in
            if case .invalid(let why) = backends.resolve(ref, from: namespace) { return why }
            return nil
        }
    }

    static func writeStatus(_ route: HTTPRoute, status: RouteStatusKey, gateway: ParentReference, kube: KubeClient) async throws {
        let now = ISO8601DateFormatter().string(from: Date())
        let generation = status.generation
        let resolved = status.unresolved.isEmpty
        var updated = route
        var parent = HTTPRoute.RouteParentStatus(json: [:])
        parent.parentRef = gateway
        parent.controllerName = Self.controllerName
        parent.conditions = [
            Condition(type: "Accepted", status: "True", reason: "Accepted", message: "Route is accepted", observedGeneration: generation, lastTransitionTime: now),
            Condition(type: "ResolvedRefs", status: resolved ? "True" : "False",
                      reason: resolved ? "ResolvedRefs" : status.unresolved.allSatisfy { $0.hasPrefix("RefNotPermitted") } ? "RefNotPermitted" : "BackendNotFound",
                      message: resolved ? "All references resolved" : status.unresolved.joined(separator: "; "), observedGeneration: generation, lastTransitionTime: now),
        ]
        updated.status.parents = [parent]
        do {
            try await kube.replaceStatus(updated)
        } catch let error as KubeStatusError where error.isConflict || error.isNotFound {
            // A newer generation (or a delete) arrived meanwhile: the next sync writes its status.
        }
    }

    func stop() { self.task.cancel() }
}
