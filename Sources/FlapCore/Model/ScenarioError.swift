/// A scenario (flags or file) that cannot run, said precisely.
public enum ScenarioError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadable(String)
    case invalid(String)
    case field(String, String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path)"
        case .invalid(let message): message
        case .field(let field, let message): "\(field): \(message)"
        }
    }
}
