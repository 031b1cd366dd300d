import CSystemCalls
import FlapSystem
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's event loops as a whole, for code outside HTTPWire.
package enum EventLoops {
    /// Puts every loop thread under Linux's idle scheduling policy (`IdlePolicy`), for good: an experiment's I/O is
    /// its bulk work and must not delay its arrival clock. Each loop lowers itself when it next wakes.
    package static func enterIdlePolicy() { EventLoopGroup.shared.onEveryLoop { IdlePolicy.enterForCurrentThread() } }
}

/// What a socket waits for.
enum Interest { case readable, writable }

/// Threads that wait on epoll (Linux) or kqueue (macOS) for socket readiness and deadlines, and resume the tasks
/// waiting on them. Sockets are non-blocking; a task that would block suspends here instead of holding a thread, so
/// 10,000 long polls cost 10,000 suspended tasks and a registration each, not 10,000 threads.
final class EventLoopGroup: Sendable {
    static let shared = EventLoopGroup(loops: 2)

    private let loops: [EventLoop]

    init(loops count: Int) {
        self.loops = (0..<max(1, count)).map { EventLoop(name: "flap.loop.\($0)") }
    }

    /// Calls `action` once on each loop's thread, as soon as it can (keep it short).
    func onEveryLoop(_ action: @escaping @Sendable () -> Void) {
        for loop in self.loops { loop.arm(-1, .readable, deadline: .now) { _ in action() } }
    }

    /// The loop that watches `fd` (always the same one for a descriptor).
    func loop(for fd: Int32) -> EventLoop { self.loops[Int(fd) % self.loops.count] }

    /// Suspends until `fd` is ready for `interest` or `deadline` passes.
    func wait(for fd: Int32, _ interest: Interest, deadline: ContinuousClock.Instant) async -> PollOutcome {
        await self.loop(for: fd).wait(for: fd, interest, deadline: deadline)
    }

    /// Calls `action` on a loop thread once `deadline` has passed (keep it short: it runs on the loop).
    func schedule(at deadline: ContinuousClock.Instant, _ action: @escaping @Sendable () -> Void) {
        self.loops[0].arm(-1, .readable, deadline: deadline) { _ in action() }
    }
}

/// One loop thread. Each wait is a one-shot registration carrying a fresh token, so a readiness event that arrives
/// after its waiter timed out finds no waiter and is dropped; deadlines sit in a heap the loop sleeps towards.
final class EventLoop: TaskExecutor, @unchecked Sendable {
    typealias Completion = @Sendable (PollOutcome) -> Void

    private let poller: Poller
    // Guarded by `lock`.
    private let lock = NSLock()
    private var waiters: [UInt64: Completion] = [:]
    /// Jobs of tasks that prefer this loop as their executor (server connections), run on the loop thread between
    /// polls. A lock of their own: a thread resuming one of those tasks need not wait while the loop sorts its
    /// registrations.
    private let jobLock = NSLock()
    private var jobs: [UnownedJob] = []
    private var idle = false
    private var deadlines = DeadlineHeap()
    private var nextToken: UInt64 = 1
    /// When the loop thread will next wake by itself; nil while it is running (it looks at the heap before sleeping).
    private var sleepingUntil: ContinuousClock.Instant?

    init(name: String) {
        self.poller = Poller()
        let thread = Thread { [self] in
            KernelThreadName.set(name)
            self.run()
        }
        thread.name = name
        thread.stackSize = 1024 * 1024  // it also runs the jobs of tasks that prefer it
        thread.start()
    }

    /// Tasks started with this loop as their executor preference run here, where their sockets' events arrive: a
    /// resumed task runs on the thread that saw its socket ready instead of waking a pool thread for it.
    func enqueue(_ job: consuming ExecutorJob) {
        let unowned = UnownedJob(job)
        let wake = self.jobLock.withLock { () -> Bool in
            self.jobs.append(unowned)
            defer { self.idle = false }
            return self.idle
        }
        if wake { self.poller.wake() }
    }

    func wait(for fd: Int32, _ interest: Interest, deadline: ContinuousClock.Instant) async -> PollOutcome {
        await withCheckedContinuation { continuation in
            self.arm(fd, interest, deadline: deadline) { continuation.resume(returning: $0) }
        }
    }

    /// Calls `completion` once `fd` (when not negative) is ready for `interest` or `deadline` passes.
    func arm(_ fd: Int32, _ interest: Interest, deadline: ContinuousClock.Instant, completion: @escaping Completion) {
        let (token, wake) = self.lock.withLock { () -> (UInt64, Bool) in
            let token = self.nextToken
            self.nextToken += 1
            self.waiters[token] = completion
            self.deadlines.push(deadline, token)
            return (token, self.sleepingUntil.map { deadline < $0 } ?? false)
        }
        if fd >= 0, let code = self.poller.watch(fd, interest, token: token) {
            if let failed = self.lock.withLock({ self.waiters.removeValue(forKey: token) }) { failed(.failed(code)) }
            return
        }
        if wake { self.poller.wake() }
    }

    private func run() {
        var ready: [UInt64] = []
        var runnable: [UnownedJob] = []
        while true {
            let timeout = self.lock.withLock { () -> ContinuousClock.Instant? in
                while let top = self.deadlines.top, self.waiters[top.token] == nil { _ = self.deadlines.pop() }
                self.sleepingUntil = self.deadlines.top?.deadline ?? .now + .seconds(3600)
                return self.sleepingUntil
            }
            // With jobs waiting, the loop looks at its sockets without sleeping; otherwise an enqueue wakes it.
            let hasJobs = self.jobLock.withLock { () -> Bool in
                self.idle = self.jobs.isEmpty
                return !self.idle
            }
            ready.removeAll(keepingCapacity: true)
            self.poller.poll(until: hasJobs ? .now : timeout, into: &ready)
            self.jobLock.withLock { self.idle = false }
            let now = ContinuousClock.now
            var due: [(Completion, PollOutcome)] = []
            self.lock.withLock {
                self.sleepingUntil = nil
                for token in ready {
                    if let completion = self.waiters.removeValue(forKey: token) { due.append((completion, .ready)) }
                }
                while let top = self.deadlines.top, top.deadline <= now {
                    _ = self.deadlines.pop()
                    if let completion = self.waiters.removeValue(forKey: top.token) { due.append((completion, .timedOut)) }
                }
            }
            for (completion, outcome) in due { completion(outcome) }
            self.jobLock.withLock { swap(&runnable, &self.jobs) }
            for job in runnable { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
            runnable.removeAll(keepingCapacity: true)
        }
    }
}

/// A binary min-heap of (deadline, token).
struct DeadlineHeap {
    private var items: [(deadline: ContinuousClock.Instant, token: UInt64)] = []

    var top: (deadline: ContinuousClock.Instant, token: UInt64)? { self.items.first }
    var count: Int { self.items.count }

    mutating func push(_ deadline: ContinuousClock.Instant, _ token: UInt64) {
        self.items.append((deadline, token))
        var child = self.items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard self.items[child].deadline < self.items[parent].deadline else { break }
            self.items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> (deadline: ContinuousClock.Instant, token: UInt64)? {
        guard !self.items.isEmpty else { return nil }
        self.items.swapAt(0, self.items.count - 1)
        let last = self.items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < self.items.count, self.items[left].deadline < self.items[smallest].deadline { smallest = left }
            if right < self.items.count, self.items[right].deadline < self.items[smallest].deadline { smallest = right }
            guard smallest != parent else { return last }
            self.items.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// Milliseconds from now until `deadline`, rounded up so a wait never ends early; nil (forever) when there is none.
private func millisecondsUntil(_ deadline: ContinuousClock.Instant?) -> Int32 {
    guard let deadline else { return -1 }
    let remaining = deadline - .now
    guard remaining > .zero else { return 0 }
    let ms = remaining.components.seconds * 1000 + (remaining.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
    return Int32(clamping: ms)
}

#if os(Linux)
/// epoll, level-triggered and one-shot, with an eventfd to wake the loop when an earlier deadline arrives.
private final class Poller: @unchecked Sendable {
    private let epoll: Int32
    private let wakeFD: Int32
    private var events = [epoll_event](repeating: epoll_event(), count: 512)

    init() {
        self.epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        self.wakeFD = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        precondition(self.epoll >= 0 && self.wakeFD >= 0, "event loop: epoll_create1/eventfd failed (errno \(errno))")
        var event = epoll_event()
        event.events = EPOLLIN.rawValue
        event.data.u64 = 0
        _ = epoll_ctl(self.epoll, EPOLL_CTL_ADD, self.wakeFD, &event)
    }

    /// Arms `fd` once for `interest`; returns an errno when the kernel refuses.
    func watch(_ fd: Int32, _ interest: Interest, token: UInt64) -> Int32? {
        var event = epoll_event()
        let wanted = interest == .readable ? EPOLLIN.rawValue | EPOLLRDHUP.rawValue : EPOLLOUT.rawValue
        event.events = wanted | EPOLLONESHOT.rawValue
        event.data.u64 = token
        if epoll_ctl(self.epoll, EPOLL_CTL_MOD, fd, &event) == 0 { return nil }
        guard errno == ENOENT else { return errno }
        return epoll_ctl(self.epoll, EPOLL_CTL_ADD, fd, &event) == 0 ? nil : errno
    }

    func wake() {
        var one: UInt64 = 1
        _ = Glibc.write(self.wakeFD, &one, 8)
    }

    func poll(until deadline: ContinuousClock.Instant?, into ready: inout [UInt64]) {
        let count = epoll_wait(self.epoll, &self.events, Int32(self.events.count), millisecondsUntil(deadline))
        guard count > 0 else { return }
        for event in self.events[0..<Int(count)] {
            if event.data.u64 == 0 {
                var drained: UInt64 = 0
                _ = Glibc.read(self.wakeFD, &drained, 8)
            } else {
                ready.append(event.data.u64)
            }
        }
    }
}
#elseif canImport(Darwin)
/// kqueue with one-shot filters, and a user event to wake the loop when an earlier deadline arrives.
private final class Poller: @unchecked Sendable {
    private let queue: Int32
    private var events = [kevent](repeating: kevent(), count: 512)

    init() {
        self.queue = kqueue()
        precondition(self.queue >= 0, "event loop: kqueue failed (errno \(errno))")
        var wake = kevent(ident: 0, filter: Int16(EVFILT_USER), flags: UInt16(EV_ADD | EV_CLEAR), fflags: 0, data: 0, udata: nil)
        _ = kevent(self.queue, &wake, 1, nil, 0, nil)
    }

    func watch(_ fd: Int32, _ interest: Interest, token: UInt64) -> Int32? {
        let filter = interest == .readable ? Int16(EVFILT_READ) : Int16(EVFILT_WRITE)
        var change = kevent(ident: UInt(fd), filter: filter, flags: UInt16(EV_ADD | EV_ONESHOT), fflags: 0, data: 0,
                            udata: UnsafeMutableRawPointer(bitPattern: UInt(token)))
        return kevent(self.queue, &change, 1, nil, 0, nil) == 0 ? nil : errno
    }

    func wake() {
        var trigger = kevent(ident: 0, filter: Int16(EVFILT_USER), flags: 0, fflags: UInt32(NOTE_TRIGGER), data: 0, udata: nil)
        _ = kevent(self.queue, &trigger, 1, nil, 0, nil)
    }

    func poll(until deadline: ContinuousClock.Instant?, into ready: inout [UInt64]) {
        let ms = millisecondsUntil(deadline)
        var timeout = timespec(tv_sec: Int(ms / 1000), tv_nsec: Int(ms % 1000) * 1_000_000)
        let count = ms < 0 ? kevent(self.queue, nil, 0, &self.events, Int32(self.events.count), nil)
                           : kevent(self.queue, nil, 0, &self.events, Int32(self.events.count), &timeout)
        guard count > 0 else { return }
        for event in self.events[0..<Int(count)] where event.filter != Int16(EVFILT_USER) {
            ready.append(UInt64(UInt(bitPattern: event.udata)))
        }
    }
}
#endif

