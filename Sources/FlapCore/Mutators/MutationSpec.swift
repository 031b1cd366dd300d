import FlapJSON
import Foundation

/// One mutation as data: its kind and named parameters, from a scenario file (`{"kind": "swap-backend",
/// "from": "a", "to": "b"}`) or a `--mutation` flag (`swap-backend:a:b`, whose positional values take the
/// kind's parameter names in order). A ``MutatorRegistry`` turns it into a ``RouteMutator``.
///
/// `targets` names the route targets it applies to (`"targets": ["gateway"]`, or `--mutation httproute:KIND...`);
/// nil applies it to every target.
public struct MutationSpec: Sendable, Equatable, Codable, CustomStringConvertible {
    public var kind: String
    public var parameters: [String: JSONValue]
    public var targets: [String]?

    public init(kind: String, parameters: [String: JSONValue] = [:], targets: [String]? = nil) {
        self.kind = kind
        self.parameters = parameters
        self.targets = targets
    }

    /// The key a scenario file uses for `targets` (so no mutation kind may take a parameter of that name).
    public static let targetsKey = "targets"

    public var description: String {
        let on = self.targets.map { ["on \($0.joined(separator: ","))"] } ?? []
        return ([self.kind] + self.parameters.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.serialized)" } + on).joined(separator: " ")
    }

    // MARK: Reading parameters, for decoders

    /// A text parameter, or nil when absent.
    public func string(_ name: String) throws(MutatorRegistryError) -> String? {
        guard let value = self.parameters[name], !value.isNull else { return nil }
        guard let text = value.stringValue else { throw self.problem(name, "must be text, not \(value.serialized)") }
        return text
    }

    /// A whole-number parameter (a number, or text holding one, as a flag gives it), or nil when absent.
    public func int(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(MutatorRegistryError) -> Int? {
        guard let value = self.parameters[name], !value.isNull else { return nil }
        guard let number = value.int64Value.flatMap({ Int(exactly: $0) }) ?? value.stringValue.flatMap({ Int($0) }) else {
            throw self.problem(name, "must be a whole number, not \(value.serialized)")
        }
        guard range.contains(number) else { throw self.problem(name, "must be from \(range.lowerBound) to \(range.upperBound), not \(number)") }
        return number
    }

    /// A parameter the kind cannot do without.
    public func required<T>(_ name: String, _ read: (String) throws(MutatorRegistryError) -> T?) throws(MutatorRegistryError) -> T {
        guard let value = try read(name) else { throw self.problem(name, "is required") }
        return value
    }

    /// A decoder's own complaint about a parameter, in the registry's words.
    public func problem(_ name: String, _ message: String) -> MutatorRegistryError {
        MutatorRegistryError(.badParameter, "mutation \(self.kind): \(name) \(message)")
    }

    // MARK: Codable: one flat object, `kind` next to the parameters

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        self.kind = try container.decode(String.self, forKey: Key(stringValue: "kind"))
        self.targets = try container.decodeIfPresent([String].self, forKey: Key(stringValue: Self.targetsKey))
        var parameters: [String: JSONValue] = [:]
        for key in container.allKeys where key.stringValue != "kind" && key.stringValue != Self.targetsKey {
            parameters[key.stringValue] = try container.decode(JSONValue.self, forKey: key)
        }
        self.parameters = parameters
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        try container.encode(self.kind, forKey: Key(stringValue: "kind"))
        for (name, value) in self.parameters { try container.encode(value, forKey: Key(stringValue: name)) }
        try container.encodeIfPresent(self.targets, forKey: Key(stringValue: Self.targetsKey))
    }
}
