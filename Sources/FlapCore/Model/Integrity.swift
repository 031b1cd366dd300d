import Foundation

/// What a run's report may be read as. An `invalid` arm's numbers do not measure its mutation (a step failed, or a
/// flap was not undone in its slot); an `unreliable` run's timing was the machine's, not the proxy's.
public enum Verdict: String, Sendable, Codable, Equatable {
    case pass, fail, invalid, unreliable
}

/// How late the run itself may be before its timings stop meaning anything. Defaults are documented in
/// docs/reading-the-report.md; a slow machine beyond them makes the run `unreliable`, never a proxy's fault.
public struct ScheduleBounds: Sendable, Codable, Equatable {
    /// Seconds a write may start after its scheduled time.
    public var writeLateness = 0.5
    /// Seconds of start lateness the 99th percentile of an arm's queries may have.
    public var arrivalLatenessP99 = 0.25
    /// Seconds the run's own tasks may be paused (the stall monitor's oversleep).
    public var stall = 0.5
    public init() {}
}

/// One way the run left its own schedule, and the arms whose figures it touches.
public struct ScheduleProblem: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable { case lateWrite = "late-write", lateArrivals = "late-arrivals", stall }
    public var kind: Kind
    /// Seconds since the run started.
    public var at: Double
    /// Seconds late (or paused).
    public var amount: Double
    public var arms: [ArmID]
    public var detail: String
}

/// Whether the run kept its schedule: empty `problems` means it did, within `bounds`.
public struct ScheduleIntegrity: Sendable, Codable, Equatable {
    public var bounds: ScheduleBounds
    public var problems: [ScheduleProblem]
    public var reliable: Bool { self.problems.isEmpty }
    /// Every arm some problem touches.
    public var affectedArms: Set<ArmID> { Set(self.problems.flatMap(\.arms)) }
}

/// A pause of the run's own tasks, as the stall monitor saw it (seconds since the run started).
package struct Stall: Sendable, Equatable {
    package var start: Double
    package var duration: Double
    package init(start: Double, duration: Double) {
        self.start = start
        self.duration = duration
    }
}

extension ExperimentReport {
    /// Invalid beats unreliable beats a failed gate: a figure that does not measure the mutation, or that measured
    /// the machine, must not be read as a proxy's result.
    public var judged: Verdict {
        if self.arms.contains(where: { $0.invalid != nil }) { return .invalid }
        if let schedule = self.schedule, !schedule.reliable { return .unreliable }
        return self.gatesPassed ? .pass : .fail
    }

    /// Stores the verdict in the report (its JSON carries it): call after anything it depends on changes.
    public mutating func judge() { self.verdict = self.judged }

    /// One line per invalid arm and per schedule problem, for the top of every rendering (which shows a failed
    /// restore in its own line).
    public var integrityLines: [String] {
        var lines: [String] = []
        for arm in self.arms { if let reasons = arm.invalid { lines.append("INVALID arm \(arm.name): \(reasons.joined(separator: "; "))") } }
        for problem in self.schedule?.problems ?? [] {
            lines.append("UNRELIABLE: \(problem.detail) (arms: \(problem.arms.map(\.rawValue).joined(separator: ", ")))")
        }
        return lines
    }
}
