import FlapJSON
import Foundation
import KubeClient

/// A change to one object, as a test sees it (`FakeKubeAPIServer.changes(since:)`).
public struct FakeKubeChange: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable { case created, modified, deleted }
    public var kind: Kind
    public var resource: ResourceType
    public var namespace: String?
    public var name: String
    public var resourceVersion: Int

    public var description: String { "\(self.kind.rawValue) \(self.resource) \(self.namespace.map { "\($0)/" } ?? "")\(self.name)" }
}

/// Objects, the resourceVersion counter and the event history. All access happens under `condition`.
final class FakeKubeStore: @unchecked Sendable {
    struct Event {
        let resourceVersion: Int
        let resource: ResourceType
        let type: WatchEvent.Kind
        let object: JSONValue
    }

    let condition = NSCondition()
    private(set) var revision = 1
    private var objects: [ResourceType: [String: JSONValue]] = [:]
    /// Field ownership for server-side apply: object key -> manager -> owned leaf paths.
    var managers: [String: [String: Set<FieldPath>]] = [:]
    var operations: [String: [String: String]] = [:]
    private(set) var events: [Event] = []
    private(set) var changes: [FakeKubeChange] = []
    let historyLimit: Int
    /// The oldest resourceVersion a watch may resume from (older ones get 410 Expired).
    private(set) var oldestResumable = 0
    /// List snapshots at or before this revision are gone (continue tokens expire).
    private(set) var compactedThrough = 0

    init(historyLimit: Int) { self.historyLimit = historyLimit }

    func locked<T>(_ body: () throws -> T) rethrows -> T {
        self.condition.lock()
        defer { self.condition.unlock() }
        return try body()
    }

    static func key(_ namespace: String?, _ name: String) -> String { "\(namespace ?? "")/\(name)" }

    func object(_ resource: ResourceType, _ namespace: String?, _ name: String) -> JSONValue? {
        self.objects[resource]?[Self.key(namespace, name)]
    }

    func all(_ resource: ResourceType, namespace: String?) -> [JSONValue] {
        (self.objects[resource] ?? [:]).values
            .filter { namespace == nil || $0.value(at: "metadata.namespace")?.stringValue == namespace }
            .sorted { Self.key($0.value(at: "metadata.namespace")?.stringValue, $0.value(at: "metadata.name")?.stringValue ?? "")
                < Self.key($1.value(at: "metadata.namespace")?.stringValue, $1.value(at: "metadata.name")?.stringValue ?? "") }
    }

    var allObjects: [ResourceType: [String: JSONValue]] { self.objects }

    /// Stores `object` at a new resourceVersion and records the event.
    @discardableResult
    func put(_ resource: ResourceType, _ object: JSONValue, type: WatchEvent.Kind) -> JSONValue {
        self.revision += 1
        var stored = object
        stored.setValue(.string(String(self.revision)), at: "metadata.resourceVersion")
        let namespace = stored.value(at: "metadata.namespace")?.stringValue
        let name = stored.value(at: "metadata.name")?.stringValue ?? ""
        self.objects[resource, default: [:]][Self.key(namespace, name)] = stored
        self.record(resource, stored, type: type, namespace: namespace, name: name)
        return stored
    }

    /// Removes the object; the DELETED event carries its last state at the deletion revision.
    func remove(_ resource: ResourceType, _ namespace: String?, _ name: String) -> JSONValue? {
        guard var last = self.objects[resource]?.removeValue(forKey: Self.key(namespace, name)) else { return nil }
        self.managers[Self.key(namespace, name) + "@" + resource.qualifiedName] = nil
        self.revision += 1
        last.setValue(.string(String(self.revision)), at: "metadata.resourceVersion")
        self.record(resource, last, type: .deleted, namespace: namespace, name: name)
        return last
    }

    private func record(_ resource: ResourceType, _ object: JSONValue, type: WatchEvent.Kind, namespace: String?, name: String) {
        self.events.append(Event(resourceVersion: self.revision, resource: resource, type: type, object: object))
        if self.events.count > self.historyLimit {
            let dropped = self.events.count - self.historyLimit
            self.oldestResumable = self.events[dropped - 1].resourceVersion
            self.compactedThrough = self.oldestResumable
            self.events.removeFirst(dropped)
        }
        let kind: FakeKubeChange.Kind = type == .added ? .created : type == .deleted ? .deleted : .modified
        self.changes.append(FakeKubeChange(kind: kind, resource: resource, namespace: namespace, name: name, resourceVersion: self.revision))
        self.condition.broadcast()
    }

    /// Forgets history older than the current revision (as compaction does), so older watches get 410.
    func compact() {
        self.oldestResumable = self.revision
        self.compactedThrough = self.revision
        self.events.removeAll()
    }

    func events(after resourceVersion: Int) -> [Event] { self.events.filter { $0.resourceVersion > resourceVersion } }
}
