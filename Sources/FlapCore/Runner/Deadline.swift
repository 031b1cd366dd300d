import Foundation

/// The work did not finish by its deadline (it was cancelled).
struct DeadlineExceeded: Error, CustomStringConvertible {
    let what: String
    var description: String { self.what }
}

/// Runs `work`, cancelling it at `deadline`; a write that would land after its slot must not land at all.
func withDeadline<T: Sendable>(_ deadline: ContinuousClock.Instant, _ what: String,
                               _ work: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await work() }
        group.addTask {
            try? await Task.sleep(until: deadline, clock: .continuous)
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else { throw DeadlineExceeded(what: what) }
        return value
    }
}
