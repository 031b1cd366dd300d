import FlapSystem
import Foundation

/// Runs blocking work (socket and file I/O) on dedicated threads and hands the result back to async callers,
/// so the cooperative pool (two threads on a two-core machine) never blocks.
///
/// Threads are created on demand and retire after sitting idle, so a burst of long polls gets a thread each.
final class BlockingExecutor: @unchecked Sendable {
    static let shared = BlockingExecutor()

    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var idleWorkers = 0
    private let idleRetirement: TimeInterval = 20

    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            self.submit { continuation.resume(with: Result { try work() }) }
        }
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        self.condition.lock()
        self.jobs.append(job)
        let pending = self.jobs.count - self.head
        let needsWorker = pending > self.idleWorkers
        self.condition.signal()
        self.condition.unlock()
        if needsWorker { self.spawnWorker() }
    }

    private func spawnWorker() {
        let thread = Thread { [self] in
            KernelThreadName.set("flap.blocking")  // else it keeps its creator's name (an event loop's, often)
            self.workerLoop()
        }
        thread.name = "flap.blocking"
        thread.stackSize = 512 * 1024
        thread.start()
    }

    private func workerLoop() {
        while let job = self.nextJob() { job() }
    }

    private func nextJob() -> (@Sendable () -> Void)? {
        self.condition.lock()
        defer { self.condition.unlock() }
        while self.head == self.jobs.count {
            self.idleWorkers += 1
            let signalled = self.condition.wait(until: Date(timeIntervalSinceNow: self.idleRetirement))
            self.idleWorkers -= 1
            if !signalled && self.head == self.jobs.count { return nil }
        }
        let job = self.jobs[self.head]
        self.head += 1
        if self.head > 1024 && self.head * 2 > self.jobs.count {
            self.jobs.removeFirst(self.head)
            self.head = 0
        }
        return job
    }
}
