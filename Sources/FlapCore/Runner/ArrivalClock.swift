import CSystemCalls
import FlapSystem
import Foundation

/// Issues arrivals from a dedicated thread that sleeps until each intended start, so the schedule does not
/// depend on the cooperative pool (two threads on a two-core machine), which thousands of queries keep busy.
final class ArrivalClock: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    private var tasks: [Task<Void, Never>] = []
    private let realTime: Bool

    /// - Parameter realTime: ask for real-time priority for the clock's own thread.
    init(realTime: Bool = true) { self.realTime = realTime }

    /// Calls `issue` at each instant (late if the thread is late) and returns when all are issued or `stop` was called.
    func run(_ instants: [ContinuousClock.Instant], issue: @escaping @Sendable (ContinuousClock.Instant) -> Task<Void, Never>?) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let thread = Thread { [self] in
                KernelThreadName.set("flap.arrivals")
                #if os(Linux)
                // The shortest fair-scheduler slice (0.1 ms): woken at an arrival, the clock preempts the busy thread
                // it lands on instead of waiting out that thread's slice. Not a priority, and nothing inherits it.
                _ = flap_request_scheduler_slice(100_000)
                #endif
                let raised = self.realTime && Self.setPriority(realTime: true)
                for instant in instants {
                    if self.lock.withLock({ self.stopped }) { break }
                    Self.sleep(until: instant)
                    if self.lock.withLock({ self.stopped }) { break }
                    // Threads created while a query starts (the pool's, the I/O executor's) inherit the creating
                    // thread's policy: the clock issues at normal priority, so none of them becomes real-time.
                    if raised { _ = Self.setPriority(realTime: false) }
                    if let task = issue(instant) { self.lock.withLock { self.tasks.append(task) } }
                    if raised { _ = Self.setPriority(realTime: true) }
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

    /// A load generator's clock should win the CPU over the work it generates: the lowest real-time round-robin
    /// priority for this one thread while it sleeps. Without the privilege (not root, no CAP_SYS_NICE) the request
    /// is refused, nothing changes, and false says so.
    private static func setPriority(realTime: Bool) -> Bool {
        #if os(Linux)
        var parameters = sched_param()
        parameters.sched_priority = realTime ? 1 : 0
        return pthread_setschedparam(pthread_self(), realTime ? Int32(SCHED_RR) : Int32(SCHED_OTHER), &parameters) == 0
        #else
        return false
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
