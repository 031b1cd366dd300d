import Foundation

/// The work did not finish by its deadline (it was cancelled, and abandoned if it ignored that).
package struct DeadlineExceeded: Error, CustomStringConvertible {
    package let what: String
    package init(what: String) { self.what = what }
    package var description: String { self.what }
}

/// Runs `work` until `deadline`. At the deadline the caller gets `DeadlineExceeded` at once and the work is
/// cancelled; work that ignores cancellation (a URLSession TLS handshake against a server that never answers) is
/// abandoned rather than waited for, so no step can hang its caller. A write that would land after its slot
/// must not land at all, and a check must say which step timed out.
package func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, _ what: String,
                                       _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            race.start(continuation,
                       worker: Task { do { race.finish(.success(try await work())) } catch { race.finish(.failure(error)) } },
                       timer: Task {
                           try? await Task.sleep(until: deadline, clock: .continuous)
                           if !Task.isCancelled { race.finish(.failure(DeadlineExceeded(what: what))) }
                       })
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// Resumes the continuation once, with whichever of work, timer or cancellation came first, and stops the others.
private final class DeadlineRace<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var tasks: [Task<Void, Never>] = []
    private var done = false

    func start(_ continuation: CheckedContinuation<T, any Error>, worker: Task<Void, Never>, timer: Task<Void, Never>) {
        let early: Result<T, any Error>? = self.lock.withLock {
            self.tasks = [worker, timer]
            if let early = self.early { return early }
            self.continuation = continuation
            return nil
        }
        if let early {
            worker.cancel()
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, tasks): (CheckedContinuation<T, any Error>?, [Task<Void, Never>]) = self.lock.withLock {
            guard !self.done else { return (nil, []) }
            self.done = true
            guard let continuation = self.continuation else {
                self.early = result
                return (nil, [])
            }
            self.continuation = nil
            return (continuation, self.tasks)
        }
        for task in tasks { task.cancel() }
        continuation?.resume(with: result)
    }
}
