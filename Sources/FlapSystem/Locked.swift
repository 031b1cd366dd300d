import Foundation

/// A value behind a lock: the one box flap uses where a class exists only to share a mutable value across tasks.
/// (`Synchronization.Mutex` would do, but needs macOS 15; the package supports macOS 14.)
package final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: Value

    package init(_ value: Value) { self.stored = value }

    /// Reads or changes the value while holding the lock; keep `body` short and never await in it.
    package func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        try self.lock.withLock { try body(&self.stored) }
    }

    package var value: Value {
        get { self.withLock { $0 } }
        set { self.withLock { $0 = newValue } }
    }
}

extension Locked where Value == Int {
    /// Returns the current value and adds one: a counter for IDs.
    package func next() -> Int { self.withLock { value in defer { value += 1 }; return value } }
}

extension Locked where Value == Bool {
    /// True exactly once: for the first caller, when the flag was not yet set.
    package func claim() -> Bool { self.withLock { done in defer { done = true }; return !done } }
}
