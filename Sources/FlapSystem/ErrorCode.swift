// flap's public errors are structs with a nested `Code`, so a new kind of failure adds a code without breaking a
// caller's exhaustive switch: `catch let error as RestoreError where error.code == .differentCluster`.

/// One kind of failure of the error type `Owner`: `GateError.Code.badMetric`, `RestoreError.Code.differentCluster`.
public struct ErrorCode<Owner>: Hashable, Sendable, CustomStringConvertible {
    public let name: String
    public init(_ name: String) { self.name = name }
    public var description: String { self.name }
}

/// An error with a code and a message; `description` is the message.
public protocol CodedError: Error, Sendable, CustomStringConvertible {
    var code: ErrorCode<Self> { get }
    var message: String { get }
}

extension CodedError {
    public var description: String { self.message }
}
