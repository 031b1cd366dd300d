import Foundation

/// Lets a server's async handler wait for "something changed" or a deadline without holding a thread: a long poll
/// over 10,000 queries is 10,000 suspended tasks, not 10,000 threads blocked on a condition variable.
///
/// Read `generation` while holding the state's lock, release it, then `wait(until:unchangedSince:)`: a change made in
/// between ends the wait at once, so no wake-up is lost.
public final class ChangeSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var changes = 0
    private var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    public init() {}

    /// How many changes have been announced.
    public var generation: Int { self.lock.withLock { self.changes } }

    /// Wakes every waiter.
    public func broadcast() {
        let woken = self.lock.withLock { () -> [CheckedContinuation<Void, Never>] in
            self.changes += 1
            defer { self.waiters.removeAll() }
            return Array(self.waiters.values)
        }
        for continuation in woken { continuation.resume() }
    }

    /// Returns once a change after `generation` is announced or `deadline` passes, whichever is first.
    public func wait(until deadline: ContinuousClock.Instant, unchangedSince generation: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let id: Int? = self.lock.withLock {
                guard self.changes == generation, deadline > .now else { return nil }
                self.nextWaiter += 1
                self.waiters[self.nextWaiter] = continuation
                return self.nextWaiter
            }
            guard let id else { return continuation.resume() }
            EventLoopGroup.shared.schedule(at: deadline) { [self] in
                self.lock.withLock { self.waiters.removeValue(forKey: id) }?.resume()
            }
        }
    }
}
