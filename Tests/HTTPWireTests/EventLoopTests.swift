import XCTest
@testable import HTTPWire

/// The event loop's promise: an in-flight request or a held long poll is a suspended task, not a thread.
final class EventLoopTests: XCTestCase {
    func testHundredsOfHeldRequestsHoldNoThreadEach() async throws {
        let release = ChangeSignal()
        let held = Counter()
        let server = try HTTPServer(asyncHandler: { _ in
            let generation = release.generation
            held.add(1)
            await release.wait(until: .now + .seconds(30), unchangedSince: generation)
            return .text("released", status: 200)
        })
        defer { server.stop() }
        let client = SocketHTTPClient()
        let before = threadCount()
        let requests = 400
        try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<requests {
                group.addTask { try await client.execute(get(server.baseURL, "held/\(index)"), deadline: .now + .seconds(30)).status }
            }
            while held.value < requests { try await Task.sleep(for: .milliseconds(20)) }
            let during = threadCount()
            // 400 client requests and 400 server connections are all waiting now; a thread per request would add 800.
            XCTAssertLessThan(during - before, 32, "threads while \(requests) requests are held: \(before) before, \(during) during")
            XCTAssertEqual(server.openConnectionCount, requests)
            release.broadcast()
            var statuses: [Int] = []
            for try await status in group { statuses.append(status) }
            XCTAssertEqual(statuses, Array(repeating: 200, count: requests))
        }
    }

    func testAServerConnectionRunsOnTheLoopThatWatchesItsSocket() async throws {
        let server = try HTTPServer(asyncHandler: answerWithThreadName)
        defer { server.stop() }
        let client = SocketHTTPClient()
        for index in 0..<20 {
            let response = try await client.execute(get(server.baseURL, "where/\(index)"), deadline: .now + .seconds(10))
            XCTAssertTrue(String(decoding: response.body, as: UTF8.self).hasPrefix("flap.loop."), String(decoding: response.body, as: UTF8.self))
        }
    }

    func testChangeSignalEndsAWaitOnBroadcastOnItsDeadlineOrAtOnceWhenAlreadyChanged() async {
        let signal = ChangeSignal()
        let generation = signal.generation
        let clock = ContinuousClock()
        // A deadline alone ends the wait.
        let waited = await clock.measure { await signal.wait(until: .now + .milliseconds(50), unchangedSince: generation) }
        XCTAssertGreaterThanOrEqual(waited, .milliseconds(50))
        // A broadcast ends a long wait.
        async let woken: Void = signal.wait(until: .now + .seconds(60), unchangedSince: generation)
        try? await Task.sleep(for: .milliseconds(50))
        signal.broadcast()
        await woken
        // A change between reading the generation and waiting is not lost.
        let stale = await clock.measure { await signal.wait(until: .now + .seconds(60), unchangedSince: generation) }
        XCTAssertLessThan(stale, .seconds(30), "a change made before the wait ends it at once")
        XCTAssertEqual(signal.generation, generation + 1)
    }

    func testDeadlinesComeOutOfTheHeapInOrder() {
        var heap = DeadlineHeap()
        let start = ContinuousClock.now
        let offsets = [7, 3, 9, 1, 1, 8, 2, 6, 5, 4, 0]
        for (token, offset) in offsets.enumerated() { heap.push(start + .milliseconds(offset), UInt64(token)) }
        var popped: [Int] = []
        while let next = heap.pop() { popped.append(Int((next.deadline - start) / .milliseconds(1))) }
        XCTAssertEqual(popped, offsets.sorted())
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { self.lock.withLock { self.count += n } }
    var value: Int { self.lock.withLock { self.count } }
}

/// Threads of this process, from /proc.
private func threadCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task").count) ?? 0
}

/// The calling thread's name (a synchronous helper: `Thread.current` is not for async code).
private func currentThreadName() -> String {
    ((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Answers with the name of the thread it runs on after a suspension.
@Sendable private func answerWithThreadName(_ request: HTTPServerRequest) async -> HTTPServerResponse {
    await Task.yield()
    return .text(currentThreadName(), status: 200)
}
