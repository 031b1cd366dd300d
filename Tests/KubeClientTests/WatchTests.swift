import FlapFakes
import Foundation
import KubeClient
import XCTest

/// Collects events from a stream in the background.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [WatchEvent] = []
    private var failure: (any Error)?
    private var task: Task<Void, Never>?

    init(_ stream: AsyncThrowingStream<WatchEvent, any Error>) {
        self.task = Task {
            do {
                for try await event in stream { self.lock.withLock { self.events.append(event) } }
            } catch {
                self.lock.withLock { self.failure = error }
            }
        }
    }

    var all: [WatchEvent] { self.lock.withLock { self.events } }
    var summary: [String] { self.all.filter { $0.kind != .bookmark }.map { "\($0.kind.rawValue) \($0.object.name)" } }
    var error: (any Error)? { self.lock.withLock { self.failure } }
    func stop() { self.task?.cancel() }

    func wait(until condition: ([WatchEvent]) -> Bool, timeout: Duration = .seconds(5)) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if condition(self.all) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition(self.all)
    }
}

final class WatchTests: XCTestCase {
    func testWatchFromAResourceVersionSeesChangesAfterIt() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        try await client.create(sampleRoute("before"))
        let list = try await client.list(.httpRoute)
        let events = EventCollector(try await client.watch(.httpRoute, options: WatchOptions(resourceVersion: list.resourceVersion)))
        defer { events.stop() }
        try await client.create(sampleRoute("after"))
        try await client.modify(HTTPRoute.self, name: "after") { $0.spec.hostnames = ["x.example.com"] }
        try await client.delete(.httpRoute, name: "after")
        let seen = await events.wait { $0.filter { $0.kind != .bookmark }.count >= 3 }
        XCTAssertTrue(seen, "\(events.summary)")
        XCTAssertEqual(events.summary, ["ADDED after", "MODIFIED after", "DELETED after"])
        let deleted = try XCTUnwrap(events.all.last { $0.kind == .deleted })
        XCTAssertEqual(deleted.object.typed(as: HTTPRoute.self).spec.hostnames, ["x.example.com"], "DELETED carries the last state")
        let bookmark = await events.wait { $0.contains { $0.kind == .bookmark } }
        XCTAssertTrue(bookmark, "bookmarks arrive when asked for")
    }

    /// Replay from a version older than the changes: a creation made before the watch connected is still ADDED.
    func testReplayReportsCreationsMadeBeforeTheWatchConnectedAsAdded() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        let list = try await client.list(.httpRoute)
        try await client.create(sampleRoute("early"))
        try await client.modify(HTTPRoute.self, name: "early") { $0.spec.hostnames = ["y.example.com"] }
        let events = EventCollector(try await client.watch(.httpRoute, options: WatchOptions(resourceVersion: list.resourceVersion)))
        defer { events.stop() }
        let seen = await events.wait { $0.filter { $0.kind != .bookmark }.count >= 2 }
        XCTAssertTrue(seen, "\(events.summary)")
        XCTAssertEqual(events.summary, ["ADDED early", "MODIFIED early"])
    }

    func testWatchWithoutVersionStartsWithTheCurrentObjects() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        try await harness.client.create(sampleRoute("a"))
        try await harness.client.create(sampleRoute("b"))
        let events = EventCollector(try await harness.client.watch(.httpRoute, options: WatchOptions(fieldSelector: "metadata.name=b")))
        defer { events.stop() }
        let seen = await events.wait { $0.contains { $0.kind == .added } }
        XCTAssertTrue(seen)
        XCTAssertEqual(events.summary, ["ADDED b"])
    }

    func testSelectorTransitionsBecomeAddedAndDeleted() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        try await client.create(sampleRoute("r"))
        let rv = try await client.list(.httpRoute).resourceVersion
        let events = EventCollector(try await client.watch(.httpRoute, options: WatchOptions(resourceVersion: rv, labelSelector: "flap=on")))
        defer { events.stop() }
        try await client.modify(HTTPRoute.self, name: "r") { $0.metadata.labels = ["flap": "on"] }
        try await client.modify(HTTPRoute.self, name: "r") { $0.metadata.labels = ["flap": "off"] }
        let seen = await events.wait { $0.filter { $0.kind != .bookmark }.count >= 2 }
        XCTAssertTrue(seen)
        XCTAssertEqual(events.summary, ["ADDED r", "DELETED r"])
    }

    func testTooOldVersionGetsAnExpiredErrorEvent() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        try await harness.client.create(sampleRoute())
        harness.server.compactHistory()
        let events = EventCollector(try await harness.client.watch(.httpRoute, options: WatchOptions(resourceVersion: "1")))
        let seen = await events.wait { !$0.isEmpty }
        XCTAssertTrue(seen)
        XCTAssertEqual(events.all.first?.kind, .error)
        XCTAssertEqual(events.all.first?.object.json["code"], 410)
        XCTAssertEqual(events.all.first?.object.json["reason"], "Expired")
    }

    func testWatchChangesSurvivesDroppedStreamsAndRelistsAfterExpiry() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        try await client.create(sampleRoute("existing"))
        let events = EventCollector(client.watchChanges(.httpRoute, retryDelay: .milliseconds(50)))
        defer { events.stop() }
        var seen = await events.wait { $0.count >= 1 }
        XCTAssertTrue(seen)
        harness.server.dropWatches()
        try await client.create(sampleRoute("while-dropped"))
        seen = await events.wait { $0.contains { $0.object.name == "while-dropped" } }
        XCTAssertTrue(seen, "resumed from the last version: \(events.summary)")
        harness.server.inject(FakeKubeFault(.dropWatchAfter(events: 0), verb: .watch))
        harness.server.dropWatches()
        try await Task.sleep(for: .milliseconds(100))
        try await client.delete(.httpRoute, name: "existing")
        harness.server.compactHistory()
        harness.server.dropWatches()
        seen = await events.wait { $0.contains { $0.kind == .deleted && $0.object.name == "existing" } }
        XCTAssertTrue(seen, "a relist after 410 reports the delete it missed: \(events.summary)")
        XCTAssertEqual(events.summary.filter { $0 == "ADDED existing" }.count, 1, "no duplicate ADDED after resuming")
        XCTAssertNil(events.error)
    }
}
