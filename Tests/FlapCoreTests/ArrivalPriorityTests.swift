@testable import FlapCore
import FlapSystem
import FlapTesting
import Foundation
import XCTest

/// The arrival clock may run at real-time priority (as root), but no other thread may: threads inherit the policy
/// of the thread that creates them, and queries are started from the clock's thread.
final class ArrivalPriorityTests: XCTestCase {
    /// The names of this process's threads whose scheduling policy is SCHED_RR (field 41 of /proc/self/task/*/stat).
    static func realTimeThreads() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { tid in
            guard let stat = try? String(contentsOfFile: "/proc/self/task/\(tid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // The fields after the command name start with field 3 (state); the policy is field 41.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 38, fields[38] == "2" else { return nil }
            let name = (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)) ?? "?"
            return name.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    func testNoThreadButTheArrivalClockRunsAtRealTimePriority() async throws {
        #if !os(Linux)
        throw XCTSkip("scheduling policies are read from /proc")
        #else
        let lab = try await InProcessEnvironment(queryDuration: .milliseconds(400))
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: ControlMutator()),
                                               .init(target: lab.gatewayTarget, mutator: ControlMutator())])
        configuration.load.arrival = .fixed(perSecond: 150)
        configuration.schedule.rounds = 1
        let seen = Locked<[String: Int]>([:])
        let sampler = Task.detached {
            while !Task.isCancelled {
                let names = ArrivalPriorityTests.realTimeThreads()
                seen.withLock { counts in for name in names { counts[name, default: 0] += 1 } }
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
        let report = try await ExperimentRunner(configuration: configuration).run()
        sampler.cancel()
        XCTAssertGreaterThan(report.queries.count, 200, "enough queries started to create threads")
        let threads = seen.withLock { $0 }
        XCTAssertEqual(Set(threads.keys).subtracting(["flap.arrivals"]), [], "threads at real-time priority: \(threads)")
        if geteuid() == 0 {
            XCTAssertNotNil(threads["flap.arrivals"], "as root the clock raised its own priority (so the check above means something)")
        }
        #endif
    }

    /// The mechanism, deterministically: a thread created while the clock issues (as the pool's and the I/O
    /// executor's are) gets the normal policy, though the clock sleeps at real-time priority.
    func testAThreadCreatedWhileTheClockIssuesDoesNotInheritRealTime() async throws {
        #if !os(Linux)
        throw XCTSkip("scheduling policies are read from /proc")
        #else
        try XCTSkipUnless(geteuid() == 0, "raising the clock's priority needs root or CAP_SYS_NICE")
        let policies = Locked<[Int32]>([])
        let clock = ArrivalClock()
        await clock.run([.now, .now + .milliseconds(5), .now + .milliseconds(10)]) { _ in
            let thread = Thread {
                var policy: Int32 = -1
                var parameters = sched_param()
                pthread_getschedparam(pthread_self(), &policy, &parameters)
                policies.withLock { $0.append(policy) }
            }
            thread.start()
            return nil
        }
        let deadline = ContinuousClock.now + .seconds(5)
        while policies.withLock({ $0.count }) < 3, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        XCTAssertEqual(policies.withLock { $0 }, Array(repeating: Int32(SCHED_OTHER), count: 3), "SCHED_OTHER is \(SCHED_OTHER), SCHED_RR \(SCHED_RR)")
        #endif
    }
}
