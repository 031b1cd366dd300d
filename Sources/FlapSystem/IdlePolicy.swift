import CSystemCalls
import Foundation

/// Linux's SCHED_IDLE for work that must never delay a clock: a thread under it runs on CPU no normal thread wants,
/// and the kernel switches to a normal thread that wakes on its core instead of letting it finish its slice. Measured
/// on a 2-core VM: a 200 µs timer thread among four busy normal threads woke p99 5.5-6.2 ms late, among busy threads
/// at nice 15-19 0.08 ms. It does not reach inside a system call the kernel will not preempt. Lowering needs no
/// privilege and cannot be undone without it. Elsewhere these do nothing.
public enum IdlePolicy {
    /// Puts the calling thread under SCHED_IDLE (a thread that already is stays so). Once `relayGlobalEnqueues()`
    /// has run, the tasks this thread sends to the global executor reach it through a normal thread.
    public static func enterForCurrentThread() {
        #if os(Linux)
        flap_mark_thread_lowered()
        if flap_current_policy() != Self.idle { _ = flap_enter_idle_policy(0) }
        #endif
    }

    /// From now on, a lowered thread's enqueues onto Swift's global executor (a task it starts or resumes there, a
    /// sleep) are made by a normal-policy thread: libdispatch starts a pool worker on the thread that enqueues, the
    /// worker inherits that thread's policy, and a lowered worker would run everyone's tasks below normal for its
    /// life (unprivileged, nothing can raise it again). Call it on a normal thread before lowering any; later calls
    /// do nothing. False if another component already hooks the global executor (then nothing is relayed).
    @discardableResult
    public static func relayGlobalEnqueues() -> Bool {
        #if os(Linux)
        return GlobalEnqueueRelay.installed
        #else
        return true
        #endif
    }

    /// How many global enqueues lowered threads have handed to the relay so far.
    public static var relayedEnqueues: Int {
        #if os(Linux)
        return GlobalEnqueueRelay.shared.count
        #else
        return 0
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

#if os(Linux)
/// The normal-policy thread that makes lowered threads' global enqueues (`IdlePolicy.relayGlobalEnqueues`). Its own
/// thread is created by the thread that installs it, so that one must be normal.
private final class GlobalEnqueueRelay: @unchecked Sendable {
    static let shared = GlobalEnqueueRelay()
    static let installed: Bool = {
        _ = shared
        return flap_install_enqueue_hooks { enqueue in GlobalEnqueueRelay.shared.hold(enqueue!.pointee) } == 0
    }()

    private let condition = NSCondition()
    // Guarded by `condition`.
    private var pending: [flap_global_enqueue] = []
    private var relayed = 0

    var count: Int { self.condition.withLock { self.relayed } }

    private init() {
        let thread = Thread { [self] in
            KernelThreadName.set("flap.relay")
            self.run()
        }
        thread.name = "flap.relay"
        thread.start()
    }

    /// Called on the lowered thread, in place of the enqueue: short, and it never creates a thread.
    func hold(_ enqueue: flap_global_enqueue) {
        self.condition.withLock {
            self.pending.append(enqueue)
            self.relayed += 1
            self.condition.signal()
        }
    }

    private func run() {
        var batch: [flap_global_enqueue] = []
        while true {
            self.condition.withLock {
                while self.pending.isEmpty { self.condition.wait() }
                swap(&batch, &self.pending)
            }
            for index in batch.indices { withUnsafePointer(to: &batch[index]) { flap_make_global_enqueue($0) } }
            batch.removeAll(keepingCapacity: true)
        }
    }
}
#endif
