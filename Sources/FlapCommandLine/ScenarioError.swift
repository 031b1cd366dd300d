/// A scenario (flags or file) that cannot run, said precisely: the field, when one is at fault, and why.
public struct ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let unreadable = Code(name: "unreadable")
        public static let invalid = Code(name: "invalid")
        public static let field = Code(name: "field")
    }

    public var code: Code
    /// The field at fault (`schedule.slot`, `mutations[1]`), when one is.
    public var field: String?
    public var message: String

    public init(_ code: Code, field: String? = nil, _ message: String) {
        self.code = code
        self.field = field
        self.message = message
    }

    public static func unreadable(_ path: String) -> ScenarioError { ScenarioError(.unreadable, "cannot read \(path)") }
    public static func invalid(_ message: String) -> ScenarioError { ScenarioError(.invalid, message) }
    public static func field(_ field: String, _ message: String) -> ScenarioError { ScenarioError(.field, field: field, message) }

    public var description: String { self.field.map { "\($0): \(self.message)" } ?? self.message }
}
