import Foundation

/// How much a metric may move before `compare` calls it a change.
public struct ComparisonThresholds: Sendable, Equatable {
    /// Absolute change in survival (0.01 = one percentage point).
    public var survival = 0.01
    /// Relative change in latency percentiles.
    public var latency = 0.10
    /// Relative change in propagation percentiles.
    public var propagation = 0.20
    /// Absolute change in reconnects per 100 queries.
    public var reconnectsPer100 = 1.0
    public init() {}
    public static let `default` = ComparisonThresholds()
}

/// The metrics that moved between two runs.
public struct ReportComparison: Sendable, Equatable {
    public struct Change: Sendable, Equatable, CustomStringConvertible {
        public var metric: String
        public var old: Double
        public var new: Double
        public var description: String {
            "\(self.metric): \(Self.format(self.old, self.metric)) -> \(Self.format(self.new, self.metric))"
        }
        static func format(_ value: Double, _ metric: String) -> String {
            metric.hasPrefix("survival") ? String(format: "%.2f%%", value * 100) : metric.hasPrefix("reconnects") ? String(format: "%.2f", value) : String(format: "%.1fms", value * 1000)
        }
    }

    public var regressions: [Change]
    public var improvements: [Change]
    public var unchanged: [Change]
    /// Arms one report has and the other lacks: their metrics cannot be compared, which is never "equal".
    public var armsOnlyInOld: [ArmID]
    public var armsOnlyInNew: [ArmID]

    /// 0 equal, 2 regressions (or an arm in only one report), 4 only improvements (as package-benchmark's compare).
    public var exitCode: Int32 {
        !self.regressions.isEmpty || !self.armsOnlyInOld.isEmpty || !self.armsOnlyInNew.isEmpty ? 2 : (!self.improvements.isEmpty ? 4 : 0)
    }

    public init(old: ExperimentReport, new: ExperimentReport, thresholds: ComparisonThresholds = .default) {
        var regressions: [Change] = []
        var improvements: [Change] = []
        var unchanged: [Change] = []
        func judge(_ metric: String, _ a: Double?, _ b: Double?, higherIsBetter: Bool, moved: (Double, Double) -> Bool) {
            guard let a, let b, !a.isNaN, !b.isNaN else { return }
            let change = Change(metric: metric, old: a, new: b)
            if !moved(a, b) { unchanged.append(change); return }
            if (b > a) == higherIsBetter { improvements.append(change) } else { regressions.append(change) }
        }
        let relative = { (limit: Double) in { (a: Double, b: Double) in abs(b - a) > limit * max(abs(a), 1e-9) } }
        for arm in new.arms {
            guard let before = old.arm(arm.name) else { continue }
            judge("survival(\(arm.name))", before.survival.estimate, arm.survival.estimate, higherIsBetter: true) { abs($1 - $0) > thresholds.survival }
            for p in [Percentile.p50, .p90, .p99] {
                judge("\(p.rawValue)(\(arm.name))", before.latency["all"]?.value(p), arm.latency["all"]?.value(p), higherIsBetter: false, moved: relative(thresholds.latency))
            }
            let per100 = { (r: ArmReport) in r.queries == 0 ? nil : Double(r.connections.reconnects) * 100 / Double(r.queries) }
            judge("reconnects(\(arm.name)) per 100 queries", per100(before), per100(arm), higherIsBetter: false) { abs($1 - $0) > thresholds.reconnectsPer100 }
        }
        for p in [Percentile.p50, .p99] {
            judge("propagation.\(p.rawValue)", old.propagation?.value(p), new.propagation?.value(p), higherIsBetter: false, moved: relative(thresholds.propagation))
        }
        self.regressions = regressions
        self.improvements = improvements
        self.unchanged = unchanged
        self.armsOnlyInOld = old.arms.map(\.name).filter { new.arm($0) == nil }
        self.armsOnlyInNew = new.arms.map(\.name).filter { old.arm($0) == nil }
    }

    public var summary: String {
        var out = ""
        for change in self.regressions { out += "REGRESSION  \(change)\n" }
        for change in self.improvements { out += "IMPROVEMENT \(change)\n" }
        for arm in self.armsOnlyInOld { out += "MISSING ARM \(arm): in the old report only\n" }
        for arm in self.armsOnlyInNew { out += "NEW ARM     \(arm): in the new report only\n" }
        out += "\(self.unchanged.count) metric\(self.unchanged.count == 1 ? "" : "s") unchanged within thresholds\n"
        return out
    }
}
