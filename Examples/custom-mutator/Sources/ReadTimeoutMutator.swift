import FlapCore
import Foundation
import KubeClient

/// Shortens ingress-nginx's upstream read timeout and puts it back: the kind of "harmless" annotation change a
/// platform team ships, which reloads nginx. flap does not ship it; this shows how a team adds its own.
///
/// Step 0 sets `proxy-read-timeout` to `seconds`; step 1 puts back whatever the Ingress had before the run
/// (kept in a run-scoped annotation, so a repeated step and a restarted run see the same original).
public struct ReadTimeoutMutator: RouteMutator {
    public static let timeoutAnnotation = "nginx.ingress.kubernetes.io/proxy-read-timeout"
    static let originalAnnotation = "flap.dev/original-proxy-read-timeout"

    public var seconds: Int

    public init(seconds: Int = 5) { self.seconds = seconds }

    public var name: String { "read-timeout-\(self.seconds)s" }

    public func plan(step: Int, target: RouteTarget) -> String {
        "PUT Ingress \(target.namespace)/\(target.name): \(step % 2 == 0 ? "set \(Self.timeoutAnnotation)=\(self.seconds)" : "restore \(Self.timeoutAnnotation)")"
    }

    /// Only the target is written, and it exists: the journal holds its original.
    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] {
        try self.requireIngress(context.target)
        return [context.target.reference]
    }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        try self.requireIngress(context.target)
        try Task.checkCancellation()
        let target = context.target
        let shorten = step % 2 == 0
        // One read-modify-write per step, so a cancelled run never leaves the object half-written.
        let ingress = try await context.kube.modify(Ingress.self, name: target.name, namespace: target.namespace) { ingress in
            var annotations = ingress.metadata.annotations
            let saved = annotations[Self.originalAnnotation]
            if shorten {
                if saved == nil { annotations[Self.originalAnnotation] = annotations[Self.timeoutAnnotation] ?? "" }
                annotations[Self.timeoutAnnotation] = String(self.seconds)
            } else if let saved {
                annotations[Self.timeoutAnnotation] = saved.isEmpty ? nil : saved
                annotations[Self.originalAnnotation] = nil
            }
            ingress.metadata.annotations = annotations
            context.annotate(&ingress)
        }
        return MutationOutcome(description: shorten ? "set read timeout \(self.seconds)s on \(target)" : "restored read timeout on \(target)",
                               resourceVersion: ingress.metadata.resourceVersion, generation: ingress.metadata.generation)
    }

    private func requireIngress(_ target: RouteTarget) throws {
        guard target.kind == .ingress else { throw MutationError("\(self.name) changes an ingress-nginx annotation; \(target) is not an Ingress") }
    }
}

/// The same change done wrong, kept to show what the verifier catches: it records each flap in a ConfigMap it
/// never declared, so no journal covers it and a restore leaves it behind.
public struct UndeclaredAuditMutator: RouteMutator {
    public init() {}
    public var name: String { "undeclared-audit" }

    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }

    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let outcome = try await ReadTimeoutMutator().apply(step: step, in: context)
        var audit = KubeObject(json: ["apiVersion": "v1", "kind": "ConfigMap",
                                      "metadata": ["name": .string("flap-audit-\(step)"), "namespace": .string(context.target.namespace)],
                                      "data": ["step": .string(String(step))]])
        context.annotate(&audit)
        do { try await context.kube.create(audit) } catch let error as KubeStatusError where error.isAlreadyExists {}
        return outcome
    }
}
