import FlapSystem
import Foundation

/// Notices when the run's own tasks could not run: a task that sleeps a short tick on the same executor as the
/// queries and records every oversleep beyond `bound`. A paused instrument delays submits and polls, which would
/// otherwise read as the proxy's latency.
package final class StallMonitor: Sendable {
    static let tick = Duration.milliseconds(50)
    private let stalls = Locked<[Stall]>([])
    private let task = Locked<Task<Void, Never>?>(nil)

    package static func start(clock: RunClock, bound: Double) -> StallMonitor {
        let monitor = StallMonitor()
        let tickSeconds = Double(self.tick.components.attoseconds) / 1e18 + Double(self.tick.components.seconds)
        monitor.task.value = (Task(executorPreference: QueryWork.executor, priority: QueryWork.priority) { [stalls = monitor.stalls] in
            while !Task.isCancelled {
                let before = ContinuousClock.now
                try? await Task.sleep(for: self.tick)
                let overslept = clock.seconds(.now) - clock.seconds(before) - tickSeconds
                if overslept > bound { stalls.withLock { $0.append(Stall(start: clock.seconds(before) + tickSeconds, duration: overslept)) } }
            }
        })
        return monitor
    }

    /// Stops the monitor and returns the stalls it saw.
    package func finish() async -> [Stall] {
        let task = self.task.value
        task?.cancel()
        await task?.value
        return self.stalls.value
    }
}
