import TrinoClient

/// A statistic of a latency distribution, as gates (`p99(arm)`), expectations and comparisons name it.
public enum Percentile: String, CaseIterable, Sendable, Codable {
    case p50, p90, p99, p999, max
    /// The arithmetic mean (not a percentile, but read from the same summary).
    case mean

    /// Also accepts `p99.9` and `p100`.
    public init?(parsing text: String) {
        switch text {
        case "p99.9": self = .p999
        case "p100": self = .max
        default: self.init(rawValue: text)
        }
    }
}

/// How an official Trino client would have retried: each profile's survival is computed from the raw traces.
public enum ClientProfile: String, CaseIterable, Sendable, Codable {
    /// No retry at all: every raw failure counts.
    case none
    /// The protocol document's rule.
    case `protocol`
    case java, python, go

    /// The retry policy that mirrors this client.
    public var policy: RetryPolicy {
        switch self {
        case .none: .none
        case .protocol: .protocol
        case .java: .javaClient
        case .python: .pythonClient
        case .go: .goClient
        }
    }
}

/// When a query ran relative to its arm's mutation.
public typealias Phase = QueryRecord.Phase

extension LatencySummary {
    public func value(_ percentile: Percentile) -> Double {
        switch percentile {
        case .p50: self.p50
        case .p90: self.p90
        case .p99: self.p99
        case .p999: self.p999
        case .max: self.max
        case .mean: self.mean
        }
    }
}
