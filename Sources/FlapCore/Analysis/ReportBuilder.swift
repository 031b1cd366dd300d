import FlapJSON
import Foundation
import HTTPWire
import TrinoClient

/// Turns what a run recorded into the report: outcomes per arm, intervals, phases, profiles, propagation.
package struct ReportBuilder {
    let configuration: ExperimentConfiguration
    let clock: RunClock
    let runID: String
    /// A reconnect this soon after a mutation write is attributed to it.
    static let attributionWindow = 5.0

    func build(queries observations: [QueryObservation], mutations: [MutationRecord], dropped: Int, partial: Bool, aborted: String?,
               eventLog: String?, stalls: [Stall] = []) -> ExperimentReport {
        let queries = observations.map { self.record($0, mutations: mutations) }
        var arms = self.configuration.arms.map { arm in
            ArmAnalysis.report(arm: arm, queries: queries.filter { $0.arm == arm.id }, mutations: mutations.filter { $0.arm == arm.id })
        }
        for index in arms.indices { arms[index].invalid = Self.invalidity(mutations.filter { $0.arm == arms[index].name }) }
        // Each arm against the control of its own route (another route's control says nothing about this one); no
        // difference without data on both sides (0/0 would render as "+nan%"), nor for an arm whose mutation failed.
        for index in arms.indices where !arms[index].isControl && arms[index].survival.trials > 0 && arms[index].invalid == nil {
            let route = arms[index].target
            guard let control = arms.first(where: { $0.isControl && $0.target.kind == route.kind && $0.target.name == route.name
                                                    && $0.target.namespace == route.namespace }),
                  control.survival.trials > 0 else { continue }
            arms[index].versusControl = ProportionDifference(arms[index].survival, control.survival)
        }
        var comparisons: [ArmComparison] = []
        for i in arms.indices {
            for j in arms.indices where j > i {
                comparisons.append(ArmComparison(a: arms[i].name, b: arms[j].name, difference: ProportionDifference(arms[i].survival, arms[j].survival)))
            }
        }
        var report = ExperimentReport(
            schemaVersion: ExperimentReport.currentSchemaVersion, runID: self.runID, name: self.configuration.name,
            startedAt: self.clock.wallStart, duration: self.clock.now, partial: partial || aborted != nil, aborted: aborted,
            scenario: self.configuration.scenario, eventLog: eventLog, arms: arms, comparisons: comparisons, mutations: mutations,
            queries: queries, propagation: LatencySummary(seconds: mutations.compactMap(\.propagation)),
            lateness: LatencySummary(seconds: queries.map { max(0, $0.lateness) }), droppedArrivals: dropped, gates: [], extensions: nil)
        report.schedule = ScheduleAudit(bounds: self.configuration.scheduleBounds).integrity(queries: queries, mutations: mutations, stalls: stalls)
        report.evaluate(self.configuration.gates)
        return report
    }

    /// Why an arm's figures do not measure its mutation: each failed or skipped step (nil when every step was written).
    static func invalidity(_ mutations: [MutationRecord]) -> [String]? {
        let failed = mutations.filter { $0.error != nil }
        guard !failed.isEmpty else { return nil }
        var reasons = failed.prefix(3).map { "round \($0.round) step \($0.step): \($0.error!)" }
        if failed.count > 3 { reasons.append("and \(failed.count - 3) more failed or skipped steps") }
        return reasons
    }

    /// The query's record: its phase, and the time since its arm's mutation.
    func record(_ query: QueryObservation, mutations: [MutationRecord]) -> QueryRecord {
        let armMutations = mutations.filter { $0.arm == query.arm }
        let event = query.outcome.failedHop.flatMap { index in query.hops.first { $0.index == index }?.start } ?? query.end
        return QueryRecord(query, sinceMutation: Self.sinceMutation(event, writes: armMutations.map(\.writeStart)),
                           phase: self.phase(of: query, armMutations: armMutations))
    }

    /// Seconds from the last write before `event`: a failure 0.6 s after a delete reads +0.6 s, even when the
    /// recreate came 0.2 s after it. Negative (to the first write) only when nothing was written before.
    package static func sinceMutation(_ event: Double, writes: [Double]) -> Double? {
        if let last = writes.filter({ $0 <= event }).max() { return event - last }
        return writes.min().map { event - $0 }
    }

    func phase(of query: QueryObservation, armMutations: [MutationRecord]) -> QueryRecord.Phase {
        if self.configuration.arms.first(where: { $0.id == query.arm })?.isControl ?? false { return .control }
        let slot = armMutations.filter { $0.round == query.round }
        guard let flap = slot.map(\.writeStart).min() else { return .before }
        let settled = slot.map { $0.propagatedAt ?? $0.writeEnd }.max() ?? flap
        return query.end < flap ? .before : (query.intendedStart > settled ? .after : .during)
    }
}

enum ArmAnalysis {
    static func report(arm: ExperimentConfiguration.Arm, queries: [QueryRecord], mutations: [MutationRecord]) -> ArmReport {
        let succeeded = queries.filter(\.outcome.succeeded).count
        var failures: [String: Int] = [:]
        for query in queries where !query.outcome.succeeded { failures[query.outcome.label, default: 0] += 1 }
        var all = LatencyHistogram()
        var byPhase: [String: LatencyHistogram] = [:]
        var hops = LatencyHistogram()
        for query in queries {
            let micros = Int64((query.latency * 1e6).rounded())
            if query.outcome.succeeded {
                all.record(micros: micros)
                byPhase[query.phase.rawValue, default: LatencyHistogram()].record(micros: micros)
            }
            for hop in query.hops { hops.record(micros: Int64(((hop.end - hop.start) * 1e6).rounded())) }
        }
        var latency = PhaseLatencies()
        latency["all"] = LatencySummary(all)
        for (phase, histogram) in byPhase { latency[phase] = LatencySummary(histogram) }
        var profiles: [String: ProfileSurvival] = [:]
        for profile in ClientProfile.allCases { profiles[profile.rawValue] = ClientProfiles.survival(queries, under: profile.policy) }
        return ArmReport(
            name: arm.id, target: arm.target, mutator: arm.mutator.name, isControl: arm.isControl, queries: queries.count,
            survival: Proportion(successes: succeeded, trials: queries.count), versusControl: nil, failures: failures,
            latency: latency, latencyHistogram: all, hopLatency: LatencySummary(hops), connections: self.connections(queries, mutations),
            profiles: profiles, propagation: LatencySummary(seconds: mutations.compactMap(\.propagation)),
            accepted: LatencySummary(seconds: mutations.compactMap { m in m.acceptedAt.map { $0 - m.writeStart } }))
    }

    static func connections(_ queries: [QueryRecord], _ mutations: [MutationRecord]) -> ConnectionSummary {
        var attributable = 0
        for query in queries {
            // The hops at which the query reconnected (the same rule as its count).
            let events = query.hops.flatMap { hop in hop.connectionEvents.map { (hop, $0) } }
            for ((hop, _), reconnect) in zip(events, Reconnects.reconnecting(events.map(\.1))) where reconnect {
                if mutations.contains(where: { hop.start >= $0.writeStart && hop.start - $0.writeStart <= ReportBuilder.attributionWindow }) {
                    attributable += 1
                }
            }
        }
        return ConnectionSummary(opened: queries.reduce(0) { $0 + $1.connectionsOpened }, reconnects: queries.reduce(0) { $0 + $1.reconnects },
                                 queriesWithReconnects: queries.filter { $0.reconnects > 0 }.count, attributableToMutations: attributable)
    }
}
