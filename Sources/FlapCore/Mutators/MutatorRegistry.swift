import FlapJSON
import FlapSystem
import KubeClient

/// A kind of mutation a scenario file or `--mutation` can name, and how to build its mutator.
public struct MutatorKind: Sendable {
    public var name: String
    /// Parameter names, in the order `--mutation NAME:A:B` gives their values.
    public var parameters: [String]
    /// One line for help texts, e.g. `swap-backend:FROM:TO`.
    public var usage: String
    public var make: @Sendable (MutationSpec) throws -> any RouteMutator

    public init(name: String, parameters: [String] = [], usage: String? = nil, make: @escaping @Sendable (MutationSpec) throws -> any RouteMutator) {
        self.name = name
        self.parameters = parameters
        self.usage = usage ?? ([name] + parameters.map { $0.uppercased() }).joined(separator: ":")
        self.make = make
    }
}

/// Maps mutation kind names to their decoders. The built-in kinds are in ``builtIn``; a team adds its own with
/// ``register(_:)`` and hands the registry to the CLI (`FlapCommandLine.main(mutators:)`) or decodes specs itself.
public struct MutatorRegistry: Sendable {
    private var kinds: [String: MutatorKind] = [:]
    /// Kind names in registration order, for help and error texts.
    public private(set) var names: [String] = []

    public init() {}

    /// Adds a kind; a name already registered is an error (a team's kind must not silently replace another).
    public mutating func register(_ kind: MutatorKind) throws(MutatorRegistryError) {
        guard !kind.name.isEmpty, !kind.name.contains(":") else { throw MutatorRegistryError(.badKindName, "a mutation kind name must be non-empty text without \":\", not \"\(kind.name)\"") }
        guard self.kinds[kind.name] == nil else { throw MutatorRegistryError(.duplicateKind, "mutation kind \"\(kind.name)\" is already registered") }
        self.kinds[kind.name] = kind
        self.names.append(kind.name)
    }

    public func kind(named name: String) -> MutatorKind? { self.kinds[name] }

    /// One usage line per kind.
    public var usage: [String] { self.names.compactMap { self.kinds[$0]?.usage } }

    /// The mutator `spec` describes: its kind is registered, every parameter is one the kind knows, and the
    /// kind's decoder accepts the values.
    public func mutator(for spec: MutationSpec) throws(MutatorRegistryError) -> any RouteMutator {
        let kind = try self.requireKind(spec.kind)
        for name in spec.parameters.keys.sorted() where !kind.parameters.contains(name) {
            let hint = NearestName.to(name, among: kind.parameters).map { "; did you mean \"\($0)\"?" } ?? ""
            let known = kind.parameters.isEmpty ? "it takes none" : "it takes \(kind.parameters.joined(separator: ", "))"
            throw MutatorRegistryError(.unknownParameter, "mutation \(spec.kind): unknown parameter \"\(name)\" (\(known))\(hint)")
        }
        do {
            return try kind.make(spec)
        } catch let error as MutatorRegistryError {
            throw error
        } catch {
            throw MutatorRegistryError(.badParameter, "mutation \(spec.kind): \(error)")
        }
    }

    /// Parses the flag form `KIND[:VALUE]...`: values take the kind's parameter names in order. The result is
    /// checked by building its mutator once.
    public func spec(parsing text: String) throws(MutatorRegistryError) -> MutationSpec {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let kind = try self.requireKind(parts[0])
        let values = parts.dropFirst()
        guard values.count <= kind.parameters.count else {
            throw MutatorRegistryError(.badParameter, "--mutation \(text): \(kind.name) takes at most \(kind.parameters.count) value\(kind.parameters.count == 1 ? "" : "s") (\(kind.usage))")
        }
        var spec = MutationSpec(kind: kind.name)
        for (name, value) in zip(kind.parameters, values) { spec.parameters[name] = .string(value) }
        _ = try self.mutator(for: spec)
        return spec
    }

    private func requireKind(_ name: String) throws(MutatorRegistryError) -> MutatorKind {
        guard let kind = self.kinds[name] else {
            let hint = NearestName.to(name, among: self.names).map { "; did you mean \"\($0)\"?" } ?? ""
            throw MutatorRegistryError(.unknownKind, "unknown mutation kind \"\(name)\" (one of \(self.names.joined(separator: ", ")))\(hint)")
        }
        return kind
    }
}

/// A mutation spec the registry cannot turn into a mutator, or a registration it refuses.
public struct MutatorRegistryError: CodedError, Equatable {
    public typealias Code = ErrorCode<MutatorRegistryError>
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == MutatorRegistryError {
    public static let unknownKind = Self("unknownKind")
    public static let unknownParameter = Self("unknownParameter")
    public static let badParameter = Self("badParameter")
    public static let duplicateKind = Self("duplicateKind")
    public static let badKindName = Self("badKindName")
}

extension MutatorRegistry {
    /// flap's own mutation kinds.
    public static let builtIn: MutatorRegistry = {
        var registry = MutatorRegistry()
        for kind in [MutatorKind.control, .deleteRecreate, .removeReaddBackend, .shiftWeights, .swapBackend, .toggleHeader, .neighbourChange, .fillerRoutes, .touch] {
            try! registry.register(kind)  // distinct literal names: cannot fail
        }
        return registry
    }()
}

extension MutatorKind {
    static let control = MutatorKind(name: "control") { _ in ControlMutator() }
    static let touch = MutatorKind(name: "touch") { _ in TouchMutator() }

    static let deleteRecreate = MutatorKind(name: "delete-recreate", parameters: ["propagationPolicy", "gracePeriodSeconds"],
                                            usage: "delete-recreate[:Orphan|Background|Foreground[:GRACE_SECONDS]]") { spec in
        let policy = try spec.string("propagationPolicy").map { (text: String) throws(MutatorRegistryError) -> DeleteOptions.Propagation in
            guard let policy = DeleteOptions.Propagation(rawValue: text) else {
                throw spec.problem("propagationPolicy", "must be Orphan, Background or Foreground, not \"\(text)\"")
            }
            return policy
        }
        return DeleteRecreateMutator(propagationPolicy: policy, gracePeriodSeconds: try spec.int("gracePeriodSeconds", in: 0...86400))
    }

    static let removeReaddBackend = MutatorKind(name: "remove-readd-backend", parameters: ["backend"], usage: "remove-readd-backend:SERVICE") { spec in
        RemoveReaddBackendMutator(backend: try spec.required("backend", spec.string))
    }

    static let shiftWeights = MutatorKind(name: "shift-weights", parameters: ["steps"], usage: "shift-weights:90/10,50/50") { spec in
        ShiftWeightsMutator(steps: try Self.weightSteps(spec))
    }

    static let swapBackend = MutatorKind(name: "swap-backend", parameters: ["from", "to"]) { spec in
        SwapBackendMutator(from: try spec.required("from", spec.string), to: try spec.required("to", spec.string))
    }

    static let toggleHeader = MutatorKind(name: "toggle-header", parameters: ["header"], usage: "toggle-header[:NAME]") { spec in
        HeaderFilterToggleMutator(header: try spec.string("header") ?? "X-Flap-Marker")
    }

    static let neighbourChange = MutatorKind(name: "neighbour-change", parameters: ["neighbour"], usage: "neighbour-change:ROUTE") { spec in
        NeighbourChangeMutator(neighbour: try spec.required("neighbour", spec.string))
    }

    static let fillerRoutes = MutatorKind(name: "filler-routes", parameters: ["count"], usage: "filler-routes:N") { spec in
        FillerRoutesMutator(count: try spec.required("count") { name throws(MutatorRegistryError) in try spec.int(name, in: 1...5000) })
    }

    /// A list of weight lists (`[[90, 10], [50, 50]]`), or its flag form `90/10,50/50`.
    static func weightSteps(_ spec: MutationSpec) throws(MutatorRegistryError) -> [[Int]] {
        let bad = spec.problem("steps", "must be non-empty lists of weights from 0 to 1000000, like [[90, 10], [50, 50]] or 90/10,50/50")
        let raw = try spec.required("steps") { name throws(MutatorRegistryError) -> JSONValue? in spec.parameters[name] }
        let steps: [[Int]]?
        if let text = raw.stringValue {
            steps = text.split(separator: ",", omittingEmptySubsequences: false).map { step in
                step.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) ?? -1 }
            }
        } else {
            steps = raw.arrayValue?.map { step in (step.arrayValue ?? []).map { $0.int64Value.flatMap { Int(exactly: $0) } ?? -1 } }
        }
        guard let steps, !steps.isEmpty, steps.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (0...1_000_000).contains($0) } }) else { throw bad }
        return steps
    }
}
