import Foundation

/// Checks the run against its own schedule: late writes, late arrivals and stalls of its tasks, each with the arms
/// whose figures it touches.
package struct ScheduleAudit {
    let bounds: ScheduleBounds

    package init(bounds: ScheduleBounds) { self.bounds = bounds }

    package func integrity(queries: [QueryRecord], mutations: [MutationRecord], stalls: [Stall]) -> ScheduleIntegrity {
        var problems: [ScheduleProblem] = []
        for write in mutations where write.error == nil {
            guard let intended = write.intendedAt, write.writeStart - intended > self.bounds.writeLateness else { continue }
            let late = write.writeStart - intended
            problems.append(ScheduleProblem(
                kind: .lateWrite, at: write.writeStart, amount: late, arms: [write.arm],
                detail: String(format: "%@ round %d step %d was written %.0f ms after its scheduled time (bound %.0f ms)",
                               write.arm.rawValue, write.round, write.step, late * 1000, self.bounds.writeLateness * 1000)))
        }
        for (arm, armQueries) in Dictionary(grouping: queries, by: \.arm).sorted(by: { $0.key < $1.key }) {
            guard let p99 = LatencySummary(seconds: armQueries.map { max(0, $0.lateness) })?.p99, p99 > self.bounds.arrivalLatenessP99 else { continue }
            let worst = armQueries.max { $0.lateness < $1.lateness }!
            problems.append(ScheduleProblem(
                kind: .lateArrivals, at: worst.intendedStart, amount: p99, arms: [arm],
                detail: String(format: "%@'s queries started late: p99 %.0f ms (bound %.0f ms)", arm.rawValue, p99 * 1000, self.bounds.arrivalLatenessP99 * 1000)))
        }
        for stall in stalls where stall.duration > self.bounds.stall {
            let end = stall.start + stall.duration
            var arms = Set(queries.filter { $0.intendedStart <= end && $0.end >= stall.start }.map(\.arm))
            arms.formUnion(mutations.filter { $0.writeStart <= end && $0.writeEnd >= stall.start }.map(\.arm))
            problems.append(ScheduleProblem(
                kind: .stall, at: stall.start, amount: stall.duration, arms: arms.sorted(),
                detail: String(format: "the run's own tasks were paused for %.0f ms at %.1f s (bound %.0f ms): the machine, not the proxy",
                               stall.duration * 1000, stall.start, self.bounds.stall * 1000)))
        }
        return ScheduleIntegrity(bounds: self.bounds, problems: problems.sorted { $0.at < $1.at })
    }
}
