import Foundation

/// Issues arrivals from a dedicated thread that sleeps until each intended start, so the schedule does not
/// depend on the cooperative pool (two threads on a two-core machine), which thousands of queries keep busy.
final class ArrivalClock: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var tasks: [Task<Void, Never>] = []

    /// Calls `issue` at each instant (late if the thread is late) and returns when all are issued or `stop` was called.
    func run(_ instants: [ContinuousClock.Instant], issue: @escaping @Sendable (ContinuousClock.Instant) -> Task<Void, Never>?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                Self.raisePriority()
                for instant in instants {
                    if self.lock.withLock({ self.stopped }) { break }
                    Self.sleep(until: instant)
                    if self.lock.withLock({ self.stopped }) { break }
                    if let task = issue(instant) { self.lock.withLock { self.tasks.append(task) } }
                }
                continuation.resume()
            }
            thread.name = "flap.arrivals"
            thread.start()
        }
    }

    func stop() { self.lock.withLock { self.stopped = true } }

    /// Cancels every query this clock started (the run was cancelled).
    func cancelAll() {
        let tasks = self.lock.withLock { self.tasks }
        for task in tasks { task.cancel() }
    }

    /// A load generator's clock should win the CPU over the work it generates: ask for the lowest real-time
    /// round-robin priority for this one thread, which only sleeps and issues. Without the privilege (not root,
    /// no CAP_SYS_NICE) the request is refused and nothing changes.
    private static func raisePriority() {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = 1
        _ = pthread_setschedparam(pthread_self(), Int32(SCHED_RR), &parameters)
        #endif
    }

    private static func sleep(until instant: ContinuousClock.Instant) {
        while true {
            let remaining = instant - .now
            guard remaining > .zero else { return }
            var request = timespec(tv_sec: Int(remaining.components.seconds), tv_nsec: Int(remaining.components.attoseconds / 1_000_000_000))
            _ = nanosleep(&request, nil)
        }
    }
}
