import FlapSystem
import Foundation
import HTTPWire

/// Where an experiment's queries run: below its arrival clock, so that their work never decides when the clock
/// wakes. The clock is a normal thread (real-time only when asked and allowed); queries, the stall monitor that must
/// see what they see, and the event loops that resume them run under Linux's idle scheduling policy (`IdlePolicy`),
/// which needs no privilege. They still get every cycle nothing else wants; when the machine is saturated their
/// pauses show as stalls and slow queries in the report, not as a late schedule. The loops stay idle-policy for the
/// rest of the process (raising a policy again needs privilege). Threads inherit their creator's policy, and
/// libdispatch starts a pool worker on the thread that enqueues when its pool needs one: so a lowered thread's
/// enqueues onto the global executor (a loop resuming the runner's own I/O, a query's hop to an actor) are made by a
/// normal thread (`IdlePolicy.relayGlobalEnqueues`), and no pool worker is ever lowered.
enum QueryWork {
    static let priority = TaskPriority.utility

    /// The executor query tasks prefer; their child tasks and resumed continuations run there too.
    static let executor: QueryExecutor = {
        // Queries wait on the event loops and are resumed by them: the loops run below the clock too (measured: with
        // them at normal policy, every readiness event preempts a query mid-job, and the engine spent half as much
        // CPU again per request).
        IdlePolicy.relayGlobalEnqueues()
        EventLoops.enterIdlePolicy()
        return QueryExecutor(threads: max(2, ProcessInfo.processInfo.activeProcessorCount))
    }()
}

/// A fixed set of idle-policy threads that run the jobs of the tasks that prefer it, oldest first.
final class QueryExecutor: TaskExecutor, @unchecked Sendable {
    private let condition = NSCondition()
    // Guarded by `condition`: a ring of waiting jobs (head is the next to run).
    private var jobs: [UnownedJob?] = Array(repeating: nil, count: 1024)
    private var head = 0
    private var count = 0

    init(threads: Int) {
        for index in 0..<threads {
            let name = "flap.query.\(index)"
            let thread = Thread { [self] in
                KernelThreadName.set(name)
                IdlePolicy.enterForCurrentThread()
                self.run()
            }
            thread.name = name
            thread.stackSize = 1024 * 1024
            thread.start()
        }
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        self.condition.lock()
        if self.count == self.jobs.count { self.grow() }
        self.jobs[(self.head + self.count) % self.jobs.count] = job
        self.count += 1
        self.condition.signal()
        self.condition.unlock()
    }

    private func run() {
        while true {
            self.condition.lock()
            while self.count == 0 { self.condition.wait() }
            let job = self.jobs[self.head]!
            self.jobs[self.head] = nil
            self.head = (self.head + 1) % self.jobs.count
            self.count -= 1
            self.condition.unlock()
            job.runSynchronously(on: self.asUnownedTaskExecutor())
        }
    }

    /// Doubles the ring, keeping the order (called with the lock held, when full).
    private func grow() {
        let ordered = (0..<self.count).map { self.jobs[(self.head + $0) % self.jobs.count] }
        self.jobs = ordered + Array(repeating: nil, count: self.jobs.count)
        self.head = 0
    }
}
