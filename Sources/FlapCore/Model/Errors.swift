// flap's public errors are structs with a nested `Code`, so a new kind of failure adds a code without breaking a
// caller's exhaustive switch. Match on `code`; show `description`.

/// A gate expression that cannot be evaluated as written.
public struct GateError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let noComparison = Code(name: "noComparison")
        public static let badThreshold = Code(name: "badThreshold")
        public static let thresholdOutOfRange = Code(name: "thresholdOutOfRange")
        public static let badMetric = Code(name: "badMetric")
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { self.message }
}

/// A report.json this flap cannot read as a report.
public struct ReportDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let newerSchema = Code(name: "newerSchema")
        public static let impossibleCounts = Code(name: "impossibleCounts")
        public static let malformed = Code(name: "malformed")
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { self.message }
}

/// The event log could not be opened or written.
public struct EventLogError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let cannotOpen = Code(name: "cannotOpen")
    }
    public var code: Code
    public var path: String
    public init(_ code: Code, path: String) {
        self.code = code
        self.path = path
    }
    public var description: String { "cannot write the event log \(self.path)" }
}

/// A workload's input (a query file) is unusable.
public struct WorkloadInputError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Hashable, Sendable {
        let name: String
        public static let unreadable = Code(name: "unreadable")
        public static let empty = Code(name: "empty")
    }
    public var code: Code
    public var message: String
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }
    public var description: String { self.message }
}
