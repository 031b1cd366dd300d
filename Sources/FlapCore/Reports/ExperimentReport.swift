import FlapJSON
import Foundation

/// The result of a run: Codable, versioned JSON, the source of truth every renderer reads.
public struct ExperimentReport: Sendable, Codable, Equatable {
    /// 2: `outcome.failureClass` holds the failure's label (`http-404`, `trino:NAME`, `connection-reset`), and
    /// `sinceMutation` (was `sinceNearestMutation`) counts from the last write before the failure.
    /// 3: `verdict`, `schedule` (the run's own lateness and stalls), `arms[].invalid`, `mutations[].intendedAt`/`slotEnd`,
    /// and `arms[].profiles` as bounds (`lower`, `upper`, `unknown`).
    public static let currentSchemaVersion = 4

    public var schemaVersion: Int
    public var runID: String
    public var name: String
    public var startedAt: Date
    /// Seconds the run took.
    public var duration: Double
    /// True when the run stopped early (requested, or aborted).
    public var partial: Bool
    public var aborted: String?
    /// Set when the end-of-run restore failed: routes may still be changed (the journal is kept for
    /// `flap-cli restore`). Every renderer shows it at the top.
    public var notRestored: String?
    /// The scenario as the user wrote it.
    public var scenario: JSONValue?
    /// The event log, relative to the report file's directory when it lies inside it (the results directory can move).
    public var eventLog: String?
    public var arms: [ArmReport]
    public var comparisons: [ArmComparison]
    public var mutations: [MutationRecord]
    public var queries: [QueryRecord]
    /// Write-to-proof time of every mutation whose new configuration a probe proved.
    public var propagation: LatencySummary?
    /// How late queries started against their schedule (the generator's own delay, reported separately).
    public var lateness: LatencySummary?
    /// Arrivals not started because too many queries were in flight.
    public var droppedArrivals: Int
    public var gates: [GateResult]
    /// Data a harness adds (the lab's control-plane and data-plane delays); renderers ignore what they do not know.
    public var extensions: [String: JSONValue]?
    /// pass, fail (a gate failed), invalid (an arm's mutation failed or was not undone),
    /// unreliable (the run left its own schedule); see ``judged``.
    public var verdict: Verdict? = nil
    /// Whether the run kept its schedule (write and arrival lateness, stalls of its own tasks).
    public var schedule: ScheduleIntegrity? = nil

    public func arm(_ id: ArmID) -> ArmReport? { self.arms.first { $0.name == id } }
}

public struct ArmReport: Sendable, Codable, Equatable {
    public var name: ArmID
    public var target: RouteTarget
    public var mutator: String
    public var isControl: Bool
    public var queries: Int
    public var survival: Proportion
    /// This arm minus the control arm (when there is one).
    public var versusControl: ProportionDifference?
    /// Failure label (`http-404`, `trino:ABANDONED_QUERY`, `connection-reset`) -> count.
    public var failures: [String: Int]
    /// Query latency (from the intended start) per phase, and over all queries (`all`, always in the JSON: null
    /// when no query succeeded).
    public var latency: PhaseLatencies
    package var latencyHistogram: LatencyHistogram
    public var hopLatency: LatencySummary?
    public var connections: ConnectionSummary
    /// Survival had the client used each retry preset, computed from the same traces: a bound where a retry's
    /// answer is unknown.
    public var profiles: [String: ProfileSurvival]
    public var propagation: LatencySummary?
    public var accepted: LatencySummary?
    /// Why this arm's figures do not measure its mutation (a failed or skipped step); nil when they do.
    public var invalid: [String]? = nil
}

/// Latency summaries by phase name (`before`, `during`, `after`, `control`) and `all`. Reads like a dictionary;
/// encodes `all` even when there is no summary (as null), so readers can rely on the key.
public struct PhaseLatencies: Sendable, Codable, Equatable, ExpressibleByDictionaryLiteral {
    public var summaries: [String: LatencySummary]

    public init(_ summaries: [String: LatencySummary] = [:]) { self.summaries = summaries }
    public init(dictionaryLiteral elements: (String, LatencySummary)...) { self.summaries = Dictionary(elements) { $1 } }

    public subscript(_ phase: String) -> LatencySummary? {
        get { self.summaries[phase] }
        set { self.summaries[phase] = newValue }
    }

    public var isEmpty: Bool { self.summaries.isEmpty }

    public init(from decoder: any Decoder) throws {
        self.summaries = try decoder.singleValueContainer().decode([String: LatencySummary?].self).compactMapValues { $0 }
    }

    public func encode(to encoder: any Encoder) throws {
        var all: [String: LatencySummary?] = self.summaries.mapValues { $0 }
        if self.summaries["all"] == nil { all["all"] = .some(nil) }
        var container = encoder.singleValueContainer()
        try container.encode(all)
    }
}

public struct ArmComparison: Sendable, Codable, Equatable {
    public var a: ArmID
    public var b: ArmID
    /// Survival of a minus survival of b.
    public var difference: ProportionDifference
}

public struct ConnectionSummary: Sendable, Codable, Equatable {
    public var opened: Int
    public var reconnects: Int
    public var queriesWithReconnects: Int
    /// Reconnects within a few seconds after one of this arm's mutations.
    public var attributableToMutations: Int
}

/// Percentiles in seconds.
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: Int
    public var p50: Double
    public var p90: Double
    public var p99: Double
    public var p999: Double
    public var max: Double
    public var mean: Double

    package init?(_ histogram: LatencyHistogram) {
        guard histogram.count > 0 else { return nil }
        func s(_ q: Double) -> Double { histogram.quantile(q)!.milliseconds / 1000 }
        self.count = histogram.count
        self.p50 = s(0.5)
        self.p90 = s(0.9)
        self.p99 = s(0.99)
        self.p999 = s(0.999)
        self.max = s(1)
        self.mean = histogram.mean!.milliseconds / 1000
    }

    public init?(seconds values: [Double]) {
        var histogram = LatencyHistogram()
        for value in values { histogram.record(micros: Int64((value * 1e6).rounded())) }
        self.init(histogram)
    }
}

extension ExperimentReport {
    public static func decode(_ data: Data) throws -> ExperimentReport {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let report = try decoder.decode(ExperimentReport.self, from: data)
        guard report.schemaVersion <= Self.currentSchemaVersion else {
            throw ReportDecodingError(.newerSchema, "report schema version \(report.schemaVersion) is newer than this flap understands (\(Self.currentSchemaVersion))")
        }
        if let defect = report.countDefect { throw ReportDecodingError(.impossibleCounts, "the report is not one flap wrote: \(defect)") }
        return report
    }

    /// A count no run can produce (negative, or more successes than queries), which renderers would show as fact.
    var countDefect: String? {
        if self.droppedArrivals < 0 { return "droppedArrivals is \(self.droppedArrivals)" }
        for arm in self.arms {
            let s = arm.survival
            if s.trials < 0 || s.successes < 0 || s.successes > s.trials { return "arm \(arm.name) has survival \(s.successes)/\(s.trials)" }
            if arm.queries < 0 { return "arm \(arm.name) has \(arm.queries) queries" }
            if let (name, count) = arm.failures.first(where: { $0.value < 0 }) { return "arm \(arm.name) has \(count) failures of \(name)" }
            if arm.connections.reconnects < 0 { return "arm \(arm.name) has \(arm.connections.reconnects) reconnects" }
            for (profile, p) in arm.profiles {
                for bound in [p.lower, p.upper] where bound.trials < 0 || bound.successes < 0 || bound.successes > bound.trials {
                    return "arm \(arm.name) has \(profile) survival \(bound.successes)/\(bound.trials)"
                }
                if p.lower.successes > p.upper.successes { return "arm \(arm.name) has \(profile) survival bounds the wrong way round" }
            }
        }
        return nil
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return try encoder.encode(self)
    }
}
