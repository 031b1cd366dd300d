/// An arm's stable identity, e.g. `gateway-remove-readd-trino-b`: reports, gates, expectations and the event log
/// name arms by it. Written as plain text in files and flags.
public struct ArmID: RawRepresentable, Hashable, Comparable, Sendable, Codable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(_ rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    /// The one rule: the target's name, then the mutation's ``RouteMutator/armLabel``.
    public static func derive(targetName: String, mutator: any RouteMutator) -> ArmID {
        ArmID("\(targetName)-\(mutator.armLabel)")
    }

    public var description: String { self.rawValue }
    public static func < (a: ArmID, b: ArmID) -> Bool { a.rawValue < b.rawValue }
}

extension RouteTarget.Kind {
    /// The arm-name prefix for a route of this kind when none is given.
    public var armPrefix: String { self == .ingress ? "ingress" : "gateway" }
}
