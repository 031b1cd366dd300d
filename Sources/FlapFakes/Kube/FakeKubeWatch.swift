import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// A watch stream: synthetic ADDED for a list-less start, replay after a resourceVersion, then live events,
/// BOOKMARKs, selector transitions, 410 Expired as an ERROR event, and timeouts.
struct FakeKubeWatch {
    let store: FakeKubeStore
    let registry: WatchRegistry
    let configuration: FakeKubeAPIServer.Configuration

    func response(_ resource: ResourceType, namespace: String?, query: [String: String], dropAfter: Int?) throws -> HTTPServerResponse {
        let selector = try KubeSelector(labels: query["labelSelector"], fields: query["fieldSelector"])
        let bookmarks = query["allowWatchBookmarks"] == "true"
        let requested = query["resourceVersion"] ?? ""
        guard requested.isEmpty || Int(requested) != nil else {
            throw KubeFailure.badRequest("resourceVersion \"\(requested)\" is not a valid resource version")
        }
        let timeout = query["timeoutSeconds"].flatMap(Int.init).map { Duration.seconds($0) } ?? .seconds(1800)
        let store = self.store
        let registry = self.registry
        let bookmarkInterval = self.configuration.bookmarkInterval
        let producer: @Sendable (HTTPChunkWriter) -> Void = { writer in
            registry.opened()
            defer { registry.closed() }
            let dropGeneration = registry.dropGeneration
            let end = ContinuousClock.now + timeout
            var sent = 0
            var nextBookmark = ContinuousClock.now + bookmarkInterval
            func send(_ type: String, _ object: JSONValue) -> Bool {
                let line: JSONValue = ["type": .string(type), "object": object]
                guard writer.write(line.serializedBytes + [10]) else { return false }
                sent += 1
                return dropAfter.map { sent < $0 } ?? true
            }
            store.condition.lock()
            defer { store.condition.unlock() }
            var position: Int
            if requested.isEmpty || requested == "0" {
                position = store.revision
                for object in store.all(resource, namespace: namespace) where selector.matches(object) {
                    guard send("ADDED", object) else { return }
                }
            } else {
                position = Int(requested)!
                if position < store.oldestResumable {
                    let status: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                             "message": .string("too old resource version: \(position) (\(store.oldestResumable + 1))"),
                                             "reason": "Expired", "code": 410]
                    _ = send("ERROR", status)
                    return
                }
            }
            var matching: [String: Bool] = [:]
            for object in store.all(resource, namespace: namespace) {
                matching[Self.key(object)] = selector.matches(object)
            }
            // Resuming from an older version: the store holds today's objects, so wind back to what existed then
            // (an object created since did not match yet; one deleted since did), or replayed ADDEDs would read as MODIFIED.
            var wound: Set<String> = []
            for event in store.events(after: position) where event.resource == resource {
                let key = Self.key(event.object)
                guard wound.insert(key).inserted else { continue }
                if event.type == .added { matching[key] = false } else if event.type == .deleted { matching[key] = selector.matches(event.object) }
            }
            while ContinuousClock.now < end, registry.dropGeneration == dropGeneration, !writer.clientHasGone {
                for event in store.events(after: position) where event.resource == resource {
                    position = event.resourceVersion
                    let object = event.object
                    if let namespace, object.value(at: "metadata.namespace")?.stringValue != namespace { continue }
                    let key = Self.key(object)
                    let was = matching[key] ?? false
                    let now = event.type != .deleted && selector.matches(object)
                    matching[key] = event.type == .deleted ? nil : now
                    let type: String?
                    switch (was, now, event.type) {
                    case (_, _, .deleted): type = was || selector.matches(object) ? "DELETED" : nil
                    case (false, true, _): type = "ADDED"
                    case (true, true, _): type = "MODIFIED"
                    case (true, false, _): type = "DELETED"
                    default: type = nil
                    }
                    if let type { guard send(type, object) else { return } }
                }
                position = max(position, store.revision)
                if bookmarks, ContinuousClock.now >= nextBookmark {
                    let bookmark: JSONValue = ["kind": .string(resource.kind), "apiVersion": .string(resource.apiVersion),
                                               "metadata": ["resourceVersion": .string(String(position))]]
                    guard send("BOOKMARK", bookmark) else { return }
                    nextBookmark = ContinuousClock.now + bookmarkInterval
                }
                _ = store.condition.wait(until: Date(timeIntervalSinceNow: 0.1))
            }
        }
        return HTTPServerResponse(status: 200, headers: ["Content-Type": "application/json"], delivery: .streamed(producer))
    }

    static func key(_ object: JSONValue) -> String {
        FakeKubeStore.key(object.value(at: "metadata.namespace")?.stringValue, object.value(at: "metadata.name")?.stringValue ?? "")
    }
}
