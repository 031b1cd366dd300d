import FlapSystem

// flap's public errors are structs with a nested `Code` (FlapSystem's `ErrorCode`), so a new kind of failure adds
// a code without breaking a caller's exhaustive switch. Match on `code`; show `description`.

/// A gate expression that cannot be evaluated as written.
public struct GateError: CodedError, Equatable {
    public typealias Code = ErrorCode<GateError>
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == GateError {
    public static let noComparison = Self("noComparison")
    public static let badThreshold = Self("badThreshold")
    public static let thresholdOutOfRange = Self("thresholdOutOfRange")
    public static let badMetric = Self("badMetric")
}

/// A report.json this flap cannot read as a report.
public struct ReportDecodingError: CodedError, Equatable {
    public typealias Code = ErrorCode<ReportDecodingError>
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == ReportDecodingError {
    public static let newerSchema = Self("newerSchema")
    public static let impossibleCounts = Self("impossibleCounts")
}

/// The event log could not be opened or written.
public struct EventLogError: CodedError, Equatable {
    public typealias Code = ErrorCode<EventLogError>
    public var code: Code
    public var path: String
    public var message: String { "cannot write the event log \(self.path)" }
    public init(_ code: Code, path: String) {
        self.code = code
        self.path = path
    }
}

extension ErrorCode where Owner == EventLogError {
    public static let cannotOpen = Self("cannotOpen")
}

/// A workload's input (a query file) is unusable.
public struct WorkloadInputError: CodedError, Equatable {
    public typealias Code = ErrorCode<WorkloadInputError>
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
}

extension ErrorCode where Owner == WorkloadInputError {
    public static let unreadable = Self("unreadable")
    public static let empty = Self("empty")
}
