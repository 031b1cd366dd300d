@testable import FlapCore
import FlapSystem
import FlapTesting
import Foundation
import XCTest

/// An experiment's queries, and the event loops that resume them, run under the idle scheduling policy so that they
/// never keep the arrival clock from waking; the clock, and threads nobody lowered, keep the normal policy.
final class QueryWorkTests: XCTestCase {
    /// This process's threads under SCHED_IDLE (policy 5, field 41 of /proc/self/task/*/stat) and the others, each
    /// as thread id -> kernel name. A thread keeps its creator's name until it sets its own, so ids tell a thread a
    /// loop started from the loop.
    static func threadsByPolicy() -> (idle: [String: String], other: [String: String]) {
        var idle: [String: String] = [:], other: [String: String] = [:]
        for tid in Self.threadIDs() {
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38 else { continue }
            let name = ((try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
            if fields[38] == "5" { idle[tid] = name } else { other[tid] = name }
        }
        return (idle, other)
    }

    func testALoweredThreadAndTheThreadsItCreatesAreIdleAndNoOtherIs() throws {
        #if !os(Linux)
        throw XCTSkip("SCHED_IDLE is Linux's")
        #else
        let seen = Locked<[String: Bool]>([:])
        let finished = DispatchSemaphore(value: 0)
        Thread {
            IdlePolicy.enterForCurrentThread()
            seen.withLock { $0["lowered"] = IdlePolicy.currentThreadIsIdle }
            Thread {
                seen.withLock { $0["its child"] = IdlePolicy.currentThreadIsIdle }
                finished.signal()
            }.start()
        }.start()
        Thread {
            seen.withLock { $0["a sibling"] = IdlePolicy.currentThreadIsIdle }
            finished.signal()
        }.start()
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        XCTAssertEqual(seen.value, ["lowered": true, "its child": true, "a sibling": false])
        #endif
    }

    func testQueriesRunUnderTheIdlePolicyAndTheArrivalClockDoesNot() async throws {
        #if !os(Linux)
        throw XCTSkip("SCHED_IDLE is Linux's")
        #else
        let lab = try await InProcessEnvironment(queryDuration: .milliseconds(300))
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: ControlMutator())])
        configuration.load.arrival = .fixed(perSecond: 100)
        configuration.schedule.rounds = 1
        let queryThreads = Locked<[Bool]>([])
        configuration.workload = PolicyRecordingWorkload(inner: configuration.workload, seen: queryThreads)
        let idle = Locked<[String: String]>([:]), other = Locked<[String: String]>([:])
        let sampler = Task.detached {
            while !Task.isCancelled {
                let threads = QueryWorkTests.threadsByPolicy()
                idle.withLock { $0.merge(threads.idle) { _, latest in latest } }
                other.withLock { $0.merge(threads.other) { _, latest in latest } }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        let report = try await ExperimentRunner(configuration: configuration).run()
        sampler.cancel()
        _ = await sampler.value

        let policies = queryThreads.value
        XCTAssertGreaterThan(report.queries.count, 50)
        XCTAssertEqual(policies.count, 2 * report.queries.count, "each query recorded its thread as it started and after it ran")
        XCTAssertEqual(policies.filter { !$0 }.count, 0, "query work seen on a thread of normal policy")
        let idleNames = Set(idle.value.values), otherNames = Set(other.value.values)
        XCTAssertTrue(otherNames.contains("flap.arrivals"), "the clock ran at the normal policy (sampled: \(otherNames))")
        XCTAssertFalse(idleNames.contains("flap.arrivals"), "the clock must never be lowered")
        XCTAssertTrue(idleNames.contains("flap.query.0") && idleNames.contains("flap.loop.0"), "sampled idle threads: \(idleNames)")
        // Lowered: the query executor, the event loops, and the blocking-I/O threads in-process servers' handlers
        // (whose connections run on the loops) start. A libdispatch worker here would have inherited the policy.
        let lowered = idle.value.values.filter { !$0.hasPrefix("flap.query.") && !$0.hasPrefix("flap.loop.") && $0 != "flap.blocking" }
        XCTAssertEqual(lowered, [], "lowered threads no one meant to lower")
        XCTAssertLessThanOrEqual(idle.value.values.filter { $0.hasPrefix("flap.loop.") }.count, 2, "a thread a loop started still under its name: \(idle.value)")
        XCTAssertLessThanOrEqual(idle.value.values.filter { $0.hasPrefix("flap.query.") }.count, max(2, ProcessInfo.processInfo.activeProcessorCount),
                                 "a thread a query thread started still under its name: \(idle.value)")
        #endif
    }

    /// The leak this guards against: libdispatch starts a pool worker on the thread that enqueues, the worker inherits
    /// that thread's policy, and nothing unprivileged can raise it again. Threads that inherited the policy count too. No pool worker here has run a task of the
    /// background priority before, so the pool must start one (the test checks it did, else it shows nothing).
    func testTasksAQueryStartsOrResumesOnTheGlobalExecutorRunOnNormalThreads() async throws {
        #if !os(Linux)
        throw XCTSkip("SCHED_IDLE is Linux's")
        #else
        _ = QueryWork.executor
        let threadsBefore = Set(Self.threadIDs())
        let relayedBefore = IdlePolicy.relayedEnqueues
        let ran = Locked<[RanOn]>([])
        let startedLowered = await Self.onTheQueryExecutor { await Self.startBackgroundTasks(recordingIn: ran) }
        XCTAssertTrue(startedLowered, "the query executor's thread, and a thread it creates, are lowered")
        XCTAssertGreaterThanOrEqual(IdlePolicy.relayedEnqueues - relayedBefore, 5, "the sleep and the four tasks (two from a thread that inherited the policy) went through the relay")
        XCTAssertEqual(ran.value.count, 4)
        XCTAssertEqual(ran.value.filter { $0.idle }.map { $0.thread }, [], "a task of the global executor ran on a lowered thread")
        XCTAssertFalse(ran.value.allSatisfy { threadsBefore.contains($0.thread) }, "the pool started no worker for these tasks: nothing was shown")
        #endif
    }

    struct RanOn: Sendable {
        let thread: String
        let idle: Bool
    }

    /// Sleeps (a timed enqueue); starts two background-priority tasks from a thread it creates (which inherits its
    /// policy unmarked), then two itself; each task holds its worker for a while, so the pool needs more than one.
    /// Returns whether the calling thread and the one it created were lowered.
    static func startBackgroundTasks(recordingIn ran: Locked<[RanOn]>) async -> Bool {
        let lowered = IdlePolicy.currentThreadIsIdle
        try? await Task.sleep(for: .milliseconds(10))
        let startTwo = { @Sendable in
            (0..<2).map { _ in
                Task.detached(priority: .background) {
                    ran.withLock { $0.append(RanOn(thread: Self.currentThreadID(), idle: IdlePolicy.currentThreadIsIdle)) }
                    usleep(100_000)
                }
            }
        }
        let (childLowered, fromChild) = await withCheckedContinuation { continuation in
            Thread { continuation.resume(returning: (IdlePolicy.currentThreadIsIdle, startTwo())) }.start()
        }
        let started = fromChild + startTwo()
        for task in started { await task.value }
        return lowered && childLowered
    }

    static func onTheQueryExecutor(_ body: @escaping @Sendable () async -> Bool) async -> Bool {
        await Task(executorPreference: QueryWork.executor, priority: QueryWork.priority, operation: body).value
    }

    static func threadIDs() -> [String] { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] }

    /// The calling thread's kernel id ("/proc/thread-self" links to "PID/task/TID").
    static func currentThreadID() -> String {
        ((try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? "?").split(separator: "/").last.map(String.init) ?? "?"
    }
}

/// Runs another workload and notes, as each query starts and after it has run, whether its thread is idle-policy.
private struct PolicyRecordingWorkload: QueryWorkload {
    let inner: any QueryWorkload
    let seen: Locked<[Bool]>
    var name: String { self.inner.name }

    func run(_ index: Int, through target: RouteTarget, deadline: ContinuousClock.Instant) async -> QueryExecution {
        self.seen.withLock { $0.append(IdlePolicy.currentThreadIsIdle) }
        let execution = await self.inner.run(index, through: target, deadline: deadline)
        self.seen.withLock { $0.append(IdlePolicy.currentThreadIsIdle) }
        return execution
    }
}
