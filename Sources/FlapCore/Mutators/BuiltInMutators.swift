import FlapJSON
import Foundation
import KubeClient

/// No change: the control arm.
public struct ControlMutator: RouteMutator {
    public init() {}
    public var name: String { "control" }
    public func plan(step: Int, target: RouteTarget) -> String { "no write (control)" }
    public var stepsPerFlap: Int { 1 }
    public var verbs: [String] { [] }
    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [] }
    /// Nothing is written, so nothing needs to be there (a workload may reach its server without a route object).
    public func check(in context: MutationContext) async throws {}
    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        MutationOutcome(description: "no change")
    }
}

/// Deletes the route and creates it again: the original experiment's Ingress flap.
public struct DeleteRecreateMutator: RouteMutator {
    public var propagationPolicy: DeleteOptions.Propagation?
    public var gracePeriodSeconds: Int?
    /// The object as it was before the delete, to create again.
    static let deleted = MutatorStateKey<KubeObject>("delete-recreate.deleted")

    public init(propagationPolicy: DeleteOptions.Propagation? = nil, gracePeriodSeconds: Int? = nil) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
    }

    public var name: String { "delete-recreate" }
    public var verbs: [String] { ["get", "delete", "create"] }

    public func plan(step: Int, target: RouteTarget) -> String {
        step % 2 == 0
            ? "DELETE \(target.resourceType) \(target.namespace)/\(target.name) (propagationPolicy \(self.propagationPolicy?.rawValue ?? "server default"), grace \(self.gracePeriodSeconds.map { "\($0)s" } ?? "default"))"
            : "POST \(target.resourceType) \(target.namespace)/\(target.name) (the object as it was before the delete)"
    }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let target = context.target
        if step % 2 == 0 {
            do {
                context.state[Self.deleted] = try await context.kube.get(target.resourceType, name: target.name, namespace: target.namespace)
            } catch let error as KubeStatusError where error.isNotFound && context.state[Self.deleted] != nil {
                // Applied twice: already deleted, and the first apply saved what to recreate.
                return MutationOutcome(description: "\(target) already deleted", expectation: .status(404))
            }
            do {
                try await context.kube.delete(target.resourceType, name: target.name, namespace: target.namespace,
                                              options: DeleteOptions(propagationPolicy: self.propagationPolicy, gracePeriodSeconds: self.gracePeriodSeconds))
            } catch let error as KubeStatusError where error.isNotFound {}
            return MutationOutcome(description: "deleted \(target)", expectation: .status(404))
        }
        guard let original = context.state[Self.deleted] else { throw MutationError("delete-recreate: nothing saved to recreate \(target)") }
        do {
            let created = try await context.kube.create(context.recreatable(original))
            return MutationOutcome(description: "recreated \(target)", wrote: created, expectation: .status(200))
        } catch let error as KubeStatusError where error.isAlreadyExists {
            let existing = try await context.kube.get(target.resourceType, name: target.name, namespace: target.namespace)
            return MutationOutcome(description: "\(target) already recreated", wrote: existing, expectation: .status(200))
        }
    }
}

/// Removes one backend and adds it back: the original experiment's HTTPRoute flap. For an Ingress, the
/// paths that send to that Service are removed and restored.
public struct RemoveReaddBackendMutator: RouteMutator {
    public var backend: String
    /// The spec before the backend was removed, to put back.
    static let originalSpec = MutatorStateKey<JSONValue>("remove-readd-backend.spec")

    public init(backend: String) { self.backend = backend }
    public var name: String { "remove-readd-backend" }
    public var armLabel: String { "remove-readd-\(self.backend)" }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT \(target.resourceType) \(target.namespace)/\(target.name): \(step % 2 == 0 ? "remove" : "re-add") backend \(self.backend)"
    }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public func check(in context: MutationContext) async throws {
        let spec = try await context.liveTarget().json["spec"] ?? [:]
        let backends = BackendNames.of(spec, kind: context.target.kind)
        guard try self.removeBackend(from: spec, kind: context.target.kind).1 else {
            throw MutationError("\(context.target) has no backend named \(self.backend) (its backends: \(BackendNames.list(backends)))")
        }
    }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let target = context.target
        let remove = step % 2 == 0
        let updated: KubeObject = try await context.kube.modify(target.resourceType, name: target.name, namespace: target.namespace) { (object: inout KubeObject) in
            if remove {
                guard let spec = object.json["spec"] else { throw MutationError("\(target) has no spec") }
                let (pruned, removed) = try self.removeBackend(from: spec, kind: target.kind)
                guard removed else {
                    if context.state[Self.originalSpec] != nil { return }   // already removed by an earlier apply of this step
                    throw MutationError("\(target) has no backend named \(self.backend)")
                }
                context.state[Self.originalSpec] = spec
                object.json[member: "spec"] = pruned
            } else {
                guard let original = context.state[Self.originalSpec] else { return }
                object.json[member: "spec"] = original
            }
            context.annotate(&object)
        }
        return MutationOutcome(description: remove ? "removed backend \(self.backend) from \(target)" : "re-added backend \(self.backend) to \(target)",
                               wrote: updated)
    }

    func removeBackend(from spec: JSONValue, kind: RouteTarget.Kind) throws -> (JSONValue, Bool) {
        var spec = spec
        var removed = false
        let rules = spec["rules"]?.arrayValue ?? []
        spec[member: "rules"] = .array(rules.map { rule in
            var rule = rule
            if kind == .httpRoute {
                let refs = rule["backendRefs"]?.arrayValue ?? []
                let kept = refs.filter { $0["name"]?.stringValue != self.backend }
                if kept.count != refs.count { removed = true }
                rule[member: "backendRefs"] = .array(kept)
            } else if var http = rule["http"] {
                let paths = http["paths"]?.arrayValue ?? []
                let kept = paths.filter { $0.value(at: "backend.service.name")?.stringValue != self.backend }
                if kept.count != paths.count { removed = true }
                http[member: "paths"] = .array(kept)
                rule[member: "http"] = http
            }
            return rule
        })
        return (spec, removed)
    }
}

/// Shifts HTTPRoute weights through a sequence (a canary ramp), one step per entry.
public struct ShiftWeightsMutator: RouteMutator {
    /// Each step's weights, in backendRefs order of the first rule.
    public var steps: [[Int]]

    public init(steps: [[Int]]) { self.steps = steps }
    public var name: String { "shift-weights" }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT \(target.resourceType) \(target.namespace)/\(target.name): weights \(self.steps[step % max(1, self.steps.count)].map(String.init).joined(separator: "/"))"
    }
    public var stepsPerFlap: Int { max(1, self.steps.count) }

    public func check(in context: MutationContext) async throws {
        _ = try await self.touchedObjects(in: context)
        let route = HTTPRoute(json: try await context.liveTarget().json)
        let backends = route.spec.rules.first?.backendRefs.count ?? 0
        for weights in self.steps where weights.count != backends {
            throw MutationError("\(context.target) rule 0 has \(backends) backends, a step has \(weights.count) weights (\(weights.map(String.init).joined(separator: "/")))")
        }
    }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] {
        guard context.target.kind == .httpRoute else { throw MutationError("shift-weights needs an HTTPRoute; Ingress has no weights") }
        return [context.target.reference]
    }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let weights = self.steps[step % self.steps.count]
        let route = try await context.kube.modify(HTTPRoute.self, name: context.target.name, namespace: context.target.namespace) { route in
            guard !route.spec.rules.isEmpty, route.spec.rules[0].backendRefs.count == weights.count else {
                throw MutationError("\(context.target) rule 0 has \(route.spec.rules.first?.backendRefs.count ?? 0) backends, the step has \(weights.count) weights")
            }
            for (index, weight) in weights.enumerated() { route.spec.rules[0].backendRefs[index].weight = weight }
            context.annotate(&route)
        }
        return MutationOutcome(description: "weights \(weights.map(String.init).joined(separator: "/")) on \(context.target)",
                               wrote: route)
    }
}

/// Points the route at another Service and back.
public struct SwapBackendMutator: RouteMutator {
    public var from: String
    public var to: String

    public init(from: String, to: String) {
        self.from = from
        self.to = to
    }

    public var name: String { "swap-backend" }
    public var armLabel: String { "swap-\(self.from)-\(self.to)" }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT \(target.resourceType) \(target.namespace)/\(target.name): backend \(step % 2 == 0 ? "\(self.from) -> \(self.to)" : "\(self.to) -> \(self.from)")"
    }

    public func check(in context: MutationContext) async throws {
        let backends = BackendNames.of(try await context.liveTarget().json["spec"] ?? [:], kind: context.target.kind)
        guard backends.contains(self.from) else {
            throw MutationError("\(context.target) has no backend named \(self.from) to swap (its backends: \(BackendNames.list(backends)))")
        }
    }
    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let (old, new) = step % 2 == 0 ? (self.from, self.to) : (self.to, self.from)
        let object = try await context.kube.modify(context.target.resourceType, name: context.target.name, namespace: context.target.namespace) { (object: inout KubeObject) in
            object.json[member: "spec"] = Self.rename(object.json["spec"] ?? [:], from: old, to: new, kind: context.target.kind)
            context.annotate(&object)
        }
        return MutationOutcome(description: "backend \(old) -> \(new) on \(context.target)", wrote: object, expectation: .backend(new))
    }

    static func rename(_ spec: JSONValue, from: String, to: String, kind: RouteTarget.Kind) -> JSONValue {
        var spec = spec
        spec[member: "rules"] = .array((spec["rules"]?.arrayValue ?? []).map { rule in
            var rule = rule
            if kind == .httpRoute {
                rule[member: "backendRefs"] = .array((rule["backendRefs"]?.arrayValue ?? []).map { ref in
                    var ref = ref
                    if ref["name"]?.stringValue == from { ref[member: "name"] = .string(to) }
                    return ref
                })
            } else if var http = rule["http"] {
                http[member: "paths"] = .array((http["paths"]?.arrayValue ?? []).map { path in
                    var path = path
                    if path.value(at: "backend.service.name")?.stringValue == from { path.setValue(.string(to), at: "backend.service.name") }
                    return path
                })
                rule[member: "http"] = http
            }
            return rule
        })
        return spec
    }
}

/// Adds a response header (the marker a probe can see) and removes it again: a ResponseHeaderModifier filter on
/// an HTTPRoute, a `more_set_headers` configuration snippet on an Ingress (ingress-nginx).
public struct HeaderFilterToggleMutator: RouteMutator {
    public var header: String

    public init(header: String = "X-Flap-Marker") { self.header = header }
    public var name: String { "toggle-header" }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT \(target.resourceType) \(target.namespace)/\(target.name): \(step % 2 == 0 ? "add" : "remove") response header \(self.header)"
    }
    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public static let snippetAnnotation = "nginx.ingress.kubernetes.io/configuration-snippet"

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let add = step % 2 == 0
        let target = context.target
        let object = try await context.kube.modify(target.resourceType, name: target.name, namespace: target.namespace) { (object: inout KubeObject) in
            if target.kind == .httpRoute {
                var route = HTTPRoute(json: object.json)
                for index in route.spec.rules.indices {
                    route.spec.rules[index].filters.removeAll { $0.type == "ResponseHeaderModifier" && $0.responseHeadersSet.contains { $0.name == self.header } }
                    if add { route.spec.rules[index].filters.append(.responseHeader(set: self.header, to: context.marker)) }
                }
                object.json = route.json
            } else {
                var annotations = object.metadata.annotations
                annotations[Self.snippetAnnotation] = add ? "more_set_headers \"\(self.header): \(context.marker)\";" : nil
                object.metadata.annotations = annotations
            }
            context.annotate(&object)
        }
        return MutationOutcome(description: "\(add ? "added" : "removed") header \(self.header) on \(target)",
                               wrote: object,
                               expectation: add ? .header(name: self.header, value: context.marker) : .headerAbsent(name: self.header))
    }
}

/// Changes another route (the "one service's change must not hurt another" claim): toggles an annotation and
/// a hostname on the neighbour, and back.
public struct NeighbourChangeMutator: RouteMutator {
    public var neighbour: String

    public init(neighbour: String) { self.neighbour = neighbour }
    public var name: String { "neighbour-change" }
    public var armLabel: String { "neighbour-\(self.neighbour)" }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT \(target.resourceType) \(target.namespace)/\(self.neighbour): \(step % 2 == 0 ? "add" : "remove") a hostname"
    }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] {
        [ObjectReference(resource: context.target.resourceType, namespace: context.target.namespace, name: self.neighbour)]
    }

    public func check(in context: MutationContext) async throws {
        _ = try await context.liveTarget()
        _ = try await context.live(context.target.resourceType, name: self.neighbour)
    }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let add = step % 2 == 0
        let host = "flap-neighbour-\(context.runID.prefix(8).lowercased()).invalid"
        let object = try await context.kube.modify(context.target.resourceType, name: self.neighbour, namespace: context.target.namespace) { (object: inout KubeObject) in
            if context.target.kind == .httpRoute {
                var route = HTTPRoute(json: object.json)
                route.spec.hostnames.removeAll { $0 == host }
                if add { route.spec.hostnames.append(host) }
                object.json = route.json
            } else {
                var ingress = Ingress(json: object.json)
                ingress.spec.rules.removeAll { $0.host == host }
                if add, let template = ingress.spec.rules.first { ingress.spec.rules.append(Ingress.Rule(host: host, paths: template.paths)) }
                object.json = ingress.json
            }
            context.annotate(&object)
        }
        return MutationOutcome(description: "\(add ? "added" : "removed") host \(host) on neighbour \(self.neighbour)",
                               wrote: object)
    }
}

/// Adds N filler routes (copies of the target on other hostnames) and removes them: scale.
public struct FillerRoutesMutator: RouteMutator {
    public var count: Int

    public init(count: Int) { self.count = count }
    public var name: String { "filler-routes" }
    public var verbs: [String] { ["get", "create", "delete"] }

    public func plan(step: Int, target: RouteTarget) -> String {
        "\(step % 2 == 0 ? "POST" : "DELETE") \(self.count) \(target.resourceType) \(target.namespace)/\(target.name)-flap-filler-N"
    }

    func fillerName(_ target: RouteTarget, _ index: Int) -> String { "\(target.name)-flap-filler-\(index)" }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] {
        (0..<self.count).map { ObjectReference(resource: context.target.resourceType, namespace: context.target.namespace, name: self.fillerName(context.target, $0)) }
    }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let target = context.target
        if step % 2 == 0 {
            let template = try await context.kube.get(target.resourceType, name: target.name, namespace: target.namespace)
            for index in 0..<self.count {
                try Task.checkCancellation()
                var filler = context.recreatable(template)
                filler.json.setValue(.string(self.fillerName(target, index)), at: "metadata.name")
                let host = "filler-\(index).flap.invalid"
                if target.kind == .httpRoute {
                    filler.json.setValue([.string(host)], at: "spec.hostnames")
                } else {
                    var ingress = Ingress(json: filler.json)
                    for rule in ingress.spec.rules.indices { ingress.spec.rules[rule].host = host }
                    filler.json = ingress.json
                }
                do { try await context.kube.create(filler) } catch let error as KubeStatusError where error.isAlreadyExists {}
            }
            return MutationOutcome(description: "added \(self.count) filler routes next to \(target)")
        }
        for index in 0..<self.count {
            try Task.checkCancellation()
            do {
                try await context.kube.delete(target.resourceType, name: self.fillerName(target, index), namespace: target.namespace)
            } catch let error as KubeStatusError where error.isNotFound {}
        }
        return MutationOutcome(description: "removed \(self.count) filler routes next to \(target)")
    }
}

/// Re-writes the route with only an annotation changed: a proxy that reloads on any change reloads.
public struct TouchMutator: RouteMutator {
    public init() {}
    public var name: String { "touch" }
    public func plan(step: Int, target: RouteTarget) -> String { "PUT \(target.resourceType) \(target.namespace)/\(target.name): annotation flap.dev/touch" }
    public var stepsPerFlap: Int { 1 }
    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let object = try await context.kube.modify(context.target.resourceType, name: context.target.name, namespace: context.target.namespace) { (object: inout KubeObject) in
            var annotations = object.metadata.annotations
            annotations["flap.dev/touch"] = context.marker
            object.metadata.annotations = annotations
            context.annotate(&object)
        }
        return MutationOutcome(description: "touched \(context.target)", wrote: object)
    }
}

/// The Services a route sends to: HTTPRoute backendRefs, Ingress path backends (and its default backend).
enum BackendNames {
    static func of(_ spec: JSONValue, kind: RouteTarget.Kind) -> [String] {
        var names: [String] = []
        for rule in spec["rules"]?.arrayValue ?? [] {
            if kind == .httpRoute {
                names += (rule["backendRefs"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
            } else {
                names += (rule.value(at: "http.paths")?.arrayValue ?? []).compactMap { $0.value(at: "backend.service.name")?.stringValue }
            }
        }
        if let fallback = spec.value(at: "defaultBackend.service.name")?.stringValue { names.append(fallback) }
        var seen = Set<String>()
        return names.filter { seen.insert($0).inserted }
    }

    static func list(_ names: [String]) -> String { names.isEmpty ? "none" : names.joined(separator: ", ") }
}
