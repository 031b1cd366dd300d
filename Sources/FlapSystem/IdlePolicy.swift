import CSystemCalls
import Foundation

/// Linux's SCHED_IDLE for work that must never delay a clock: a thread under it runs on CPU no normal thread wants,
/// and the kernel switches to a normal thread that wakes on its core instead of letting it finish its slice. Measured
/// on a 2-core VM: a 200 µs timer thread among four busy normal threads woke p99 5.5-6.2 ms late, among busy threads
/// at nice 15-19 0.08 ms. It does not reach inside a system call the kernel will not preempt. Lowering needs no
/// privilege and cannot be undone without it. Elsewhere these do nothing.
public enum IdlePolicy {
    /// Puts the calling thread under SCHED_IDLE (a thread that already is stays so).
    public static func enterForCurrentThread() {
        #if os(Linux)
        if flap_current_policy() != Self.idle { _ = flap_enter_idle_policy(0) }
        #endif
    }

    /// Puts every thread of this process under SCHED_IDLE now; threads they create later inherit it.
    public static func enterForProcess() {
        #if os(Linux)
        let threads = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        for thread in threads.compactMap({ pid_t($0) }) { _ = flap_enter_idle_policy(thread) }
        #endif
    }

    /// Whether the calling thread runs under SCHED_IDLE (false where the policy does not exist).
    public static var currentThreadIsIdle: Bool {
        #if os(Linux)
        return flap_current_policy() == Self.idle
        #else
        return false
        #endif
    }

    /// SCHED_IDLE's number in Linux's ABI (Glibc's module leaves the constant out).
    private static let idle: Int32 = 5
}
