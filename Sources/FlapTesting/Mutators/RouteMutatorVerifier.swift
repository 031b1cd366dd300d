import FlapCore
import FlapFakes
import FlapJSON
import Foundation
import KubeClient

/// Checks a ``RouteMutator`` against the promises the runner relies on, each on a fresh ``FakeKubeAPIServer``:
///
/// 1. `touchedObjects` writes nothing, and every write of `apply` is to an object it named;
/// 2. every step succeeds in order, and every object it creates or changes carries the run annotation;
/// 3. restoring from the journal after a whole flap gives back the original objects;
/// 4. applying a step twice leaves the same state as applying it once, and a second flap works after the first;
/// 5. restoring after a partial flap (steps 0...k for every k) gives back the original objects;
/// 6. cancelling an apply stops it: at most the write in flight lands, it returns promptly, and restore recovers.
///
/// `verify()` throws ``RouteMutatorVerificationError`` listing every broken promise, or returns the checks it ran.
public struct RouteMutatorVerifier: Sendable {
    public typealias Factory = @Sendable () -> any RouteMutator

    public var makeMutator: Factory
    /// The route the mutator works on; the seed objects include it.
    public var target: RouteTarget
    /// What the fake API server holds before each check. Defaults to ``standardSeed(for:)``.
    public var seed: [KubeObject]
    /// Latency the fake adds to every request in the cancellation check, so the cancel lands mid-apply.
    public var writeLatency: Duration = .milliseconds(200)
    /// How long an apply may keep running after its task is cancelled.
    public var cancellationGrace: Duration = .seconds(3)

    public init(target kind: RouteTarget.Kind = .httpRoute, seed: [KubeObject]? = nil, makeMutator: @escaping Factory) {
        self.makeMutator = makeMutator
        self.target = RouteTarget(kind: kind, name: "trino", namespace: "default", url: URL(string: "http://trino.example.com")!)
        self.seed = seed ?? Self.standardSeed(for: kind)
    }

    /// A Gateway, the route under test (`trino`, two backends) and a neighbour route of the same kind.
    public static func standardSeed(for kind: RouteTarget.Kind) -> [KubeObject] {
        var objects: [KubeObject] = []
        for (name, host) in [("trino", "trino.example.com"), ("neighbour", "neighbour.example.com")] {
            if kind == .ingress {
                var ingress = Ingress(name: name, namespace: "default")
                ingress.spec.ingressClassName = "nginx"
                ingress.spec.rules = [Ingress.Rule(host: host, paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
                objects.append(KubeObject(json: ingress.json))
            } else {
                var route = HTTPRoute(name: name, namespace: "default")
                route.spec.parentRefs = [ParentReference(name: "gw")]
                route.spec.hostnames = [host]
                route.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080), HTTPRoute.BackendRef(name: "trino-b", port: 8080)])]
                objects.append(KubeObject(json: route.json))
            }
        }
        var gateway = Gateway(name: "gw", namespace: "default")
        gateway.spec.gatewayClassName = "example"
        gateway.spec.listeners = [Gateway.Listener(name: "http", port: 80)]
        return [KubeObject(json: gateway.json)] + objects
    }

    /// Runs every check; throws all broken promises together.
    @discardableResult
    public func verify() async throws -> [String] {
        let name = self.makeMutator().name
        var passed: [String] = []
        var violations: [RouteMutatorViolation] = []
        for check in Check.allCases {
            do {
                try await self.run(check)
                passed.append(check.rawValue)
            } catch let violation as RouteMutatorViolation {
                violations.append(violation)
            } catch {
                violations.append(RouteMutatorViolation(check: check, detail: "unexpected error: \(error)"))
            }
        }
        guard violations.isEmpty else { throw RouteMutatorVerificationError(mutator: name, violations: violations) }
        return passed
    }

    public enum Check: String, Sendable, CaseIterable {
        case declaresWrites = "declares every object it writes"
        case flapAndAnnotate = "applies each step and annotates what it writes"
        case restoreAfterFlap = "restores after a whole flap"
        case idempotentSteps = "applying a step twice equals applying it once"
        case restoreAfterPartialFlap = "restores after a partial flap"
        case honoursCancellation = "stops when cancelled mid-apply"
    }

    func run(_ check: Check) async throws {
        switch check {
        case .declaresWrites: try await self.checkDeclaredWrites()
        case .flapAndAnnotate: try await self.checkFlapAndAnnotations()
        case .restoreAfterFlap: try await self.checkRestore(afterSteps: nil, check: check)
        case .idempotentSteps: try await self.checkIdempotence()
        case .restoreAfterPartialFlap:
            let steps = self.makeMutator().stepsPerFlap
            for last in 0..<max(0, steps - 1) { try await self.checkRestore(afterSteps: last, check: check) }
        case .honoursCancellation: try await self.checkCancellation()
        }
    }

    // MARK: - Checks

    private func checkDeclaredWrites() async throws {
        try await self.withBench { bench in
            let mutator = self.makeMutator()
            guard mutator.stepsPerFlap >= 1 else { throw RouteMutatorViolation(check: .declaresWrites, detail: "stepsPerFlap is \(mutator.stepsPerFlap); it must be at least 1") }
            let before = bench.api.checkpoint()
            let declared = Set(try await mutator.touchedObjects(in: bench.context))
            let early = bench.api.changes(since: before)
            guard early.isEmpty else {
                throw RouteMutatorViolation(check: .declaresWrites, detail: "touchedObjects wrote before the journal was taken: \(bench.describe(early).joined(separator: ", "))")
            }
            let start = bench.api.checkpoint()
            for step in 0..<mutator.stepsPerFlap { _ = try await self.apply(mutator, step: step, bench: bench, check: .declaresWrites) }
            let undeclared = bench.api.changes(since: start).filter { !declared.contains(ObjectReference(resource: $0.resource, namespace: $0.namespace, name: $0.name)) }
            guard undeclared.isEmpty else {
                throw RouteMutatorViolation(check: .declaresWrites,
                                            detail: "apply wrote objects touchedObjects did not name, so no journal could restore them: \(Self.unique(bench.describe(undeclared)))")
            }
        }
    }

    private func checkFlapAndAnnotations() async throws {
        try await self.withBench { bench in
            let mutator = self.makeMutator()
            let start = bench.api.checkpoint()
            for step in 0..<mutator.stepsPerFlap { _ = try await self.apply(mutator, step: step, bench: bench, check: .flapAndAnnotate) }
            let written = bench.api.changes(since: start).filter { $0.kind != .deleted }
            var unmarked: [String] = []
            for change in written {
                guard let object = bench.api.object(change.resource, name: change.name, namespace: change.namespace) else { continue }
                if object.metadata.annotations[MutationContext.runAnnotation] != bench.context.runID { unmarked.append(contentsOf: bench.describe([change])) }
            }
            guard unmarked.isEmpty else {
                throw RouteMutatorViolation(check: .flapAndAnnotate,
                                            detail: "writes lack the \(MutationContext.runAnnotation) annotation (use MutationContext.annotate): \(Self.unique(unmarked))")
            }
        }
    }

    /// Applies steps 0...last (all when nil), restores from the journal, and compares with the seed.
    private func checkRestore(afterSteps last: Int?, check: Check) async throws {
        try await self.withBench { bench in
            let mutator = self.makeMutator()
            let original = bench.snapshot()
            let journal = try await RestoreJournal.capture(try await mutator.touchedObjects(in: bench.context), runID: bench.context.runID, kube: bench.kube)
            let steps = last.map { $0 + 1 } ?? mutator.stepsPerFlap
            for step in 0..<steps { _ = try await self.apply(mutator, step: step, bench: bench, check: check) }
            do {
                try await Restorer(kube: bench.kube).restore(journal)
            } catch {
                throw RouteMutatorViolation(check: check, detail: "restore after steps 0..<\(steps) failed: \(error)")
            }
            let differences = Self.differences(original, bench.snapshot())
            guard differences.isEmpty else {
                throw RouteMutatorViolation(check: check, detail: "after steps 0..<\(steps) and a restore, these objects differ from the original: \(differences.joined(separator: "; "))")
            }
        }
    }

    private func checkIdempotence() async throws {
        let steps = self.makeMutator().stepsPerFlap
        for step in 0..<steps {
            try await self.withBench { bench in
                let mutator = self.makeMutator()
                for earlier in 0..<step { _ = try await self.apply(mutator, step: earlier, bench: bench, check: .idempotentSteps) }
                _ = try await self.apply(mutator, step: step, bench: bench, check: .idempotentSteps)
                let once = bench.snapshot()
                do {
                    _ = try await mutator.apply(step: step, in: bench.context)
                } catch {
                    throw RouteMutatorViolation(check: .idempotentSteps, detail: "step \(step) applied a second time threw: \(error)")
                }
                let differences = Self.differences(once, bench.snapshot())
                guard differences.isEmpty else {
                    throw RouteMutatorViolation(check: .idempotentSteps, detail: "step \(step) applied twice changed: \(differences.joined(separator: "; "))")
                }
            }
        }
        // The runner flaps many times with one mutator: a second whole flap must work after the first.
        try await self.withBench { bench in
            let mutator = self.makeMutator()
            for round in 0..<2 {
                for step in 0..<steps {
                    do { _ = try await mutator.apply(step: step, in: bench.context) } catch {
                        throw RouteMutatorViolation(check: .idempotentSteps, detail: "flap \(round + 1), step \(step) threw: \(error)")
                    }
                }
            }
        }
    }

    private func checkCancellation() async throws {
        try await self.withBench { bench in
            let mutator = self.makeMutator()
            let original = bench.snapshot()
            let journal = try await RestoreJournal.capture(try await mutator.touchedObjects(in: bench.context), runID: bench.context.runID, kube: bench.kube)
            bench.api.inject(FakeKubeFault(.latency(self.writeLatency), verb: .any, count: 10_000))
            let context = bench.context
            let steps = mutator.stepsPerFlap
            let task = Task {
                for step in 0..<steps { _ = try await mutator.apply(step: step, in: context) }
            }
            try await Task.sleep(for: self.writeLatency / 2)
            let cancelledAt = bench.api.checkpoint()
            let clock = ContinuousClock()
            let cancelTime = clock.now
            task.cancel()
            _ = await task.result
            let took = clock.now - cancelTime
            let late = bench.api.changes(since: cancelledAt)
            guard late.count <= 1 else {
                throw RouteMutatorViolation(check: .honoursCancellation,
                                            detail: "\(late.count) writes landed after cancellation (at most the one in flight may): \(bench.describe(late).joined(separator: ", ")); call Task.checkCancellation() between writes")
            }
            guard took <= self.cancellationGrace else {
                throw RouteMutatorViolation(check: .honoursCancellation, detail: "apply ran \(took) after cancellation (allowed \(self.cancellationGrace))")
            }
            do { try await Restorer(kube: bench.kube).restore(journal) } catch {
                throw RouteMutatorViolation(check: .honoursCancellation, detail: "restore after a cancelled apply failed: \(error)")
            }
            let differences = Self.differences(original, bench.snapshot())
            guard differences.isEmpty else {
                throw RouteMutatorViolation(check: .honoursCancellation, detail: "after a cancelled apply and a restore, these objects differ from the original: \(differences.joined(separator: "; "))")
            }
        }
    }

    // MARK: - Bench

    struct Bench {
        let api: FakeKubeAPIServer
        let kube: KubeClient
        let context: MutationContext

        /// Every object of a known kind, keyed by how errors name it ("HTTPRoute default/trino").
        func snapshot() -> [String: JSONValue] {
            var objects: [String: JSONValue] = [:]
            for resource in ResourceType.known {
                for object in self.api.objects(resource) {
                    objects[ObjectReference(resource: resource, namespace: object.metadata.namespace, name: object.metadata.name ?? "").description] = object.json
                }
            }
            return objects
        }

        func describe(_ changes: [FakeKubeChange]) -> [String] {
            changes.map { "\($0.kind.rawValue) \(ObjectReference(resource: $0.resource, namespace: $0.namespace, name: $0.name))" }
        }
    }

    private func withBench(_ body: (Bench) async throws -> Void) async throws {
        let api = try FakeKubeAPIServer()
        defer { api.stop() }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        for object in self.seed { try await kube.create(object) }
        let context = MutationContext(kube: kube, target: self.target, runID: "verify-\(UUID().uuidString.prefix(8).lowercased())", marker: "flap-verify-1")
        try await body(Bench(api: api, kube: kube, context: context))
    }

    private func apply(_ mutator: any RouteMutator, step: Int, bench: Bench, check: Check) async throws -> MutationOutcome {
        do {
            return try await mutator.apply(step: step, in: bench.context)
        } catch {
            throw RouteMutatorViolation(check: check, detail: "step \(step) of \(mutator.stepsPerFlap) threw: \(error)")
        }
    }

    /// Objects whose content (everything but server-owned metadata and status) differs between two snapshots.
    static func differences(_ before: [String: JSONValue], _ after: [String: JSONValue]) -> [String] {
        var differences: [String] = []
        for key in Set(before.keys).union(after.keys).sorted() {
            switch (before[key], after[key]) {
            case (.some, .none): differences.append("\(key) is missing")
            case (.none, .some): differences.append("\(key) was added")
            case let (.some(old), .some(new)) where Restorer.content(old) != Restorer.content(new): differences.append("\(key) changed")
            default: break
            }
        }
        return differences
    }

    private static func unique(_ items: [String]) -> String {
        var seen: [String] = []
        for item in items where !seen.contains(item) { seen.append(item) }
        return seen.joined(separator: ", ")
    }
}

/// One broken promise: which check found it, and what exactly happened.
public struct RouteMutatorViolation: Error, Sendable, Equatable, CustomStringConvertible {
    public var check: RouteMutatorVerifier.Check
    public var detail: String
    public var description: String { "\(self.check.rawValue): \(self.detail)" }
}

/// Every broken promise of one mutator.
public struct RouteMutatorVerificationError: Error, Sendable, CustomStringConvertible {
    public var mutator: String
    public var violations: [RouteMutatorViolation]
    public var description: String {
        "mutator \(self.mutator) breaks \(self.violations.count) promise(s):\n" + self.violations.map { "  - \($0)" }.joined(separator: "\n")
    }
}
