import FlapJSON
import Foundation
import KubeClient

/// Changes a route on purpose, one step at a time, and puts it back.
///
/// Implementation requirements (``RouteMutatorVerifier`` in FlapTesting checks them):
/// - A mutator is a value: it keeps nothing between steps in itself, only in ``MutationContext/state`` (one per arm)
///   or in the cluster, so copies used by several arms cannot disturb each other.
/// - `touchedObjects` names every object `apply` may write, before the first write, so the run can journal
///   their original state. Objects that do not exist yet are journalled as absent (restore deletes them).
/// - `apply(step:)` is idempotent: applying the same step twice leaves the same state.
/// - `restore` works after any partial apply, and after a crash from the journal alone (the runner restores
///   from the journal, so a mutator's own `restore` may rely on it).
/// - Both honour cancellation (`Task.checkCancellation()` between writes) and never leave an object half-written:
///   each write is one API call.
/// - Writes carry the run's annotation (``MutationContext/annotate(_:)``).
public protocol RouteMutator: Sendable {
    /// A short name for reports, e.g. `delete-recreate`.
    var name: String { get }
    /// What names this mutation in its arm's ID: the name plus whatever tells two arms of the kind apart
    /// (`remove-readd-trino-b`). Defaults to `name`.
    var armLabel: String { get }
    /// How many steps make one flap (delete + recreate = 2). The runner applies steps 0..<stepsPerFlap in order.
    var stepsPerFlap: Int { get }
    func touchedObjects(in context: MutationContext) async throws -> [ObjectReference]
    /// Applies `step` and returns what it wrote. `expectation` says what the data plane should show afterwards.
    func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome
    /// What `step` will write, for `--dry-run` (a default names the mutator and step).
    func plan(step: Int, target: RouteTarget) -> String
    /// The API verbs `apply` uses on the target's kind, in its namespace, for permission checks before a run
    /// (`dryRun` and `doctor` ask the server with a SelfSubjectAccessReview each). Default: get and update.
    var verbs: [String] { get }
    /// Checks the live objects before anything is written (the run, `--dry-run` and `doctor` call it): throws a
    /// ``MutationError`` naming what `apply` would not find (the route, the backend it removes). Default: the
    /// target exists.
    func check(in context: MutationContext) async throws
}

extension RouteMutator {
    public var stepsPerFlap: Int { 2 }
    public var armLabel: String { self.name }
    public var verbs: [String] { ["get", "update"] }

    /// What step `step` will write, for `--dry-run`.
    public func plan(step: Int, target: RouteTarget) -> String { "\(self.name) step \(step) on \(target)" }

    public func check(in context: MutationContext) async throws { _ = try await context.liveTarget() }
}

/// What one applied step wrote, and what a probe should see once the proxy serves it.
public struct MutationOutcome: Sendable {
    public var description: String
    public var resourceVersion: String?
    public var generation: Int64?
    public var expectation: ProbeExpectation
    /// The uid of the object written: with `resourceVersion` it names the exact version (a recreated route starts
    /// again at generation 1, under a new uid).
    public var uid: String?

    public init(description: String, resourceVersion: String? = nil, generation: Int64? = nil, expectation: ProbeExpectation = .none, uid: String? = nil) {
        self.description = description
        self.resourceVersion = resourceVersion
        self.generation = generation
        self.expectation = expectation
        self.uid = uid
    }

    /// What writing `object` did: its description, version and uid.
    public init(description: String, wrote object: some KubeResource, expectation: ProbeExpectation = .none) {
        self.init(description: description, resourceVersion: object.metadata.resourceVersion, generation: object.metadata.generation,
                  expectation: expectation, uid: object.metadata.uid)
    }
}

/// Everything a mutator needs: the API, the route it works on, and the run it belongs to.
public struct MutationContext: Sendable {
    public let kube: KubeClient
    public let target: RouteTarget
    public let runID: String
    /// A value unique to this flap, for markers (header values, annotation values).
    public let marker: String
    /// What the mutator keeps between this arm's steps; one per arm, for the whole run.
    public let state: MutatorState

    public init(kube: KubeClient, target: RouteTarget, runID: String, marker: String, state: MutatorState = MutatorState()) {
        self.kube = kube
        self.target = target
        self.runID = runID
        self.marker = marker
        self.state = state
    }

    public static let runAnnotation = "flap.dev/run-id"

    /// The verbs a SelfSubjectAccessReview says this identity may not use on the target's kind in its namespace.
    /// A review the server cannot answer denies nothing (the writes themselves will say).
    public func deniedVerbs(_ verbs: [String]) async -> [String] {
        var denied: [String] = []
        for verb in verbs {
            let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                     "spec": ["resourceAttributes": ["namespace": .string(self.target.namespace), "verb": .string(verb),
                                                                     "group": .string(self.target.resourceType.group),
                                                                     "resource": .string(self.target.resourceType.plural)]]]
            guard let answer = try? await self.kube.raw("POST", path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: review) else { continue }
            if answer.value(at: "status.allowed")?.boolValue == false { denied.append(verb) }
        }
        return denied
    }

    /// Checks `mutator` against the live objects and the identity's permissions: what would stop it, or nil.
    public func problem(with mutator: any RouteMutator) async -> String? {
        do {
            try await mutator.check(in: self)
        } catch {
            return "\(error)"
        }
        if let verb = await self.deniedVerbs(mutator.verbs).first {
            return "this identity may not \(verb) \(self.target.resourceType.qualifiedName) in \(self.target.namespace) (a SelfSubjectAccessReview said so)"
        }
        return nil
    }

    /// The target as the API has it now; a missing object is a ``MutationError`` that names it.
    public func liveTarget() async throws -> KubeObject {
        try await self.live(self.target.resourceType, name: self.target.name)
    }

    /// An object in the target's namespace as the API has it now; a missing object is a ``MutationError``.
    public func live(_ resource: ResourceType, name: String) async throws -> KubeObject {
        do {
            return try await self.kube.get(resource, name: name, namespace: self.target.namespace)
        } catch let error as KubeStatusError where error.isNotFound {
            throw MutationError("\(resource.kind) \(self.target.namespace)/\(name) does not exist")
        }
    }

    /// Marks an object as changed by this run.
    public func annotate<T: KubeResource>(_ object: inout T) {
        var annotations = object.metadata.annotations
        annotations[Self.runAnnotation] = self.runID
        object.metadata.annotations = annotations
    }

    /// A copy of an object fit for creating again: server-set fields removed, the run annotation added.
    public func recreatable(_ object: KubeObject) -> KubeObject {
        var copy = KubeObject(json: Restorer.restorable(object.json))
        self.annotate(&copy)
        return copy
    }
}

/// What the data plane should show after a step, so propagation is "the first response that proves the new
/// configuration", not "the first 200".
public enum ProbeExpectation: Sendable, Equatable {
    case none
    /// The route is gone: the proxy answers this status (404 from its default backend).
    case status(Int)
    /// A response header has this value.
    case header(name: String, value: String)
    /// A response header is absent.
    case headerAbsent(name: String)
    /// Responses come from this backend (the `X-Flap-Backend` identity the lab and fakes send).
    case backend(String)

    /// What the probe waits for, in words (CSV, summaries).
    public var text: String {
        switch self {
        case .none: "none"
        case .status(let status): "status \(status)"
        case .header(let name, let value): "header \(name): \(value)"
        case .headerAbsent(let name): "header \(name) absent"
        case .backend(let backend): "backend \(backend)"
        }
    }
}

/// A mutator could not do what it was asked.
public struct MutationError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// JSON: `{"kind": "status", "status": 404}`, `{"kind": "header", "name": ..., "value": ...}`, `{"kind": "headerAbsent",
/// "name": ...}`, `{"kind": "backend", "backend": ...}`, `{"kind": "none"}`. Reports of schema 2 and before used
/// Swift's synthesized form (`{"status": {"_0": 404}}`), which still reads.
extension ProbeExpectation: Codable {
    enum Key: String, CodingKey { case kind, status, name, value, backend, none, header, headerAbsent }
    enum Legacy: String, CodingKey { case _0, name, value }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        if let kind = try c.decodeIfPresent(String.self, forKey: .kind) {
            switch kind {
            case "none": self = .none
            case "status": self = .status(try c.decode(Int.self, forKey: .status))
            case "header": self = .header(name: try c.decode(String.self, forKey: .name), value: try c.decode(String.self, forKey: .value))
            case "headerAbsent": self = .headerAbsent(name: try c.decode(String.self, forKey: .name))
            case "backend": self = .backend(try c.decode(String.self, forKey: .backend))
            default: throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown expectation kind \(kind)")
            }
            return
        }
        if c.contains(.none) { self = .none; return }
        for key in [Key.status, .header, .headerAbsent, .backend] where c.contains(key) {
            let old = try c.nestedContainer(keyedBy: Legacy.self, forKey: key)
            switch key {
            case .status: self = .status(try old.decode(Int.self, forKey: ._0))
            case .header: self = .header(name: try old.decode(String.self, forKey: .name), value: try old.decode(String.self, forKey: .value))
            case .headerAbsent: self = .headerAbsent(name: try old.decode(String.self, forKey: .name))
            default: self = .backend(try old.decode(String.self, forKey: ._0))
            }
            return
        }
        throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "an expectation needs a kind"))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .none: try c.encode("none", forKey: .kind)
        case .status(let status):
            try c.encode("status", forKey: .kind)
            try c.encode(status, forKey: .status)
        case .header(let name, let value):
            try c.encode("header", forKey: .kind)
            try c.encode(name, forKey: .name)
            try c.encode(value, forKey: .value)
        case .headerAbsent(let name):
            try c.encode("headerAbsent", forKey: .kind)
            try c.encode(name, forKey: .name)
        case .backend(let backend):
            try c.encode("backend", forKey: .kind)
            try c.encode(backend, forKey: .backend)
        }
    }
}
