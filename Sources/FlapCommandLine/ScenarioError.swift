import FlapCore
import FlapSystem

/// A scenario (flags or file) that cannot run, said precisely: the field, when one is at fault, and why.
public struct ScenarioError: CodedError, Equatable {
    public typealias Code = ErrorCode<ScenarioError>
    public var code: Code
    /// The field at fault (`schedule.slot`, `mutations[1]`), when one is.
    public var field: String?
    public var reason: String

    public init(_ code: Code, field: String? = nil, _ reason: String) {
        self.code = code
        self.field = field
        self.reason = reason
    }

    public static func unreadable(_ path: String) -> ScenarioError { ScenarioError(.unreadable, "cannot read \(path)") }
    public static func invalid(_ message: String) -> ScenarioError { ScenarioError(.invalid, message) }
    public static func field(_ field: String, _ message: String) -> ScenarioError { ScenarioError(.field, field: field, message) }

    public var message: String { self.field.map { "\($0): \(self.reason)" } ?? self.reason }
}

extension ErrorCode where Owner == ScenarioError {
    public static let unreadable = Self("unreadable")
    public static let invalid = Self("invalid")
    public static let field = Self("field")
}
