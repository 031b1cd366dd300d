import FlapCore
import FlapJSON
import Foundation
import KubeClient

/// Services lose every endpoint (their selectors stop matching any pod, as when a Deployment is scaled to zero or
/// its pods' labels change) and get them back. Name every Service the route sends to, or the rest take the traffic.
public struct EndpointsVanishMutator: RouteMutator {
    public var services: [String]
    static let label = "flap.lab/vanished"

    public init(services: [String]) { self.services = services }

    public var name: String { "endpoints-vanish" }
    public var verbs: [String] { ["get", "update"] }
    /// One write per Service to take the endpoints away, one per Service to give them back.
    public var stepsPerFlap: Int { 2 * self.services.count }

    public func plan(step: Int, target: RouteTarget) -> String {
        let (service, vanish) = self.service(step)
        return "PUT service \(target.namespace)/\(service): selector \(vanish ? "matches no pod" : "restored")"
    }

    private func service(_ step: Int) -> (name: String, vanish: Bool) {
        let index = step % self.stepsPerFlap
        return (self.services[index % self.services.count], index < self.services.count)
    }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] {
        self.services.map { ObjectReference(resource: .service, namespace: context.target.namespace, name: $0) }
    }

    public func check(in context: MutationContext) async throws {
        for service in self.services { _ = try await context.kube.get(.service, name: service, namespace: context.target.namespace) }
    }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let (service, vanish) = self.service(step)
        let object = try await context.kube.modify(.service, name: service, namespace: context.target.namespace) { (object: inout KubeObject) in
            var selector = object.json["spec"]?["selector"] ?? [:]
            selector[member: Self.label] = vanish ? "true" : nil
            object.json.setValue(selector, at: "spec.selector")
            context.annotate(&object)
        }
        // The route answers 503 once the last Service lost its endpoints, and 200 again once the first has them back.
        let last = step % self.stepsPerFlap == self.services.count - 1, first = step % self.stepsPerFlap == self.services.count
        return MutationOutcome(description: "Service \(service) \(vanish ? "lost its endpoints" : "has its endpoints again")", wrote: object,
                               expectation: last ? .status(503) : first ? .status(200) : .none)
    }
}

/// Reverses the order of an HTTPRoute's rules and puts it back: the same routing (Gateway API precedence does not
/// depend on rule order), but implementations that name things by rule index rename them
/// (envoyproxy/gateway#9029).
public struct RuleReorderMutator: RouteMutator {
    public init() {}

    public var name: String { "rule-reorder" }
    public var verbs: [String] { ["get", "update"] }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT \(target.resourceType) \(target.namespace)/\(target.name): rules \(step % 2 == 0 ? "reversed" : "back in order")"
    }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public func check(in context: MutationContext) async throws {
        guard context.target.kind == .httpRoute else { throw MutationError("rule-reorder needs an HTTPRoute, not \(context.target)") }
        let rules = try await context.liveTarget().json["spec"]?["rules"]?.arrayValue ?? []
        guard rules.count >= 2 else { throw MutationError("\(context.target) has \(rules.count) rule(s); reordering needs two or more") }
    }

    /// The rules in their original order, saved by the first step (so applying a step twice changes nothing more).
    static let original = MutatorStateKey<JSONValue>("rule-reorder.original")

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let target = context.target
        let reverse = step % 2 == 0
        let object = try await context.kube.modify(target.resourceType, name: target.name, namespace: target.namespace) { (object: inout KubeObject) in
            let current = object.json["spec"]?["rules"] ?? []
            if reverse && context.state[Self.original] == nil { context.state[Self.original] = current }
            let original = (context.state[Self.original] ?? current).arrayValue ?? []
            object.json.setValue(.array(reverse ? original.reversed() : original), at: "spec.rules")
            context.annotate(&object)
        }
        return MutationOutcome(description: "rules of \(target) \(reverse ? "reversed" : "restored")", wrote: object, expectation: .none)
    }
}
