import FlapJSON
import FlapSystem
import Foundation
import KubeClient

/// When a controller's data plane served each version of each route: the report's data-plane side of
/// propagation. A version is the object's uid and resourceVersion (a route deleted and recreated starts again at
/// generation 1 under a new uid; an annotation change keeps the generation but not the resourceVersion).
public struct AppliedGeneration: Sendable, Equatable {
    public var route: String
    public var generation: Int64
    public var uid: String
    public var resourceVersion: String
    public var appliedAt: ContinuousClock.Instant

    /// Whether this application includes `resourceVersion` of `uid` (the controller may batch versions: applying a
    /// later one applies the earlier). The fake API server's resourceVersions are increasing integers.
    public func covers(uid: String, resourceVersion: String) -> Bool {
        guard self.uid == uid, let mine = Int64(self.resourceVersion), let theirs = Int64(resourceVersion) else { return false }
        return mine >= theirs
    }
}

/// Shared machinery: watch a kind, mark the state dirty, sync at most once per period.
actor ControllerLoop {
    private var dirty = true
    private var records: [AppliedGeneration] = []
    private var errors: [String] = []
    let started = ContinuousClock.now

    func markDirty() { self.dirty = true }
    func takeDirty() -> Bool { defer { self.dirty = false }; return self.dirty }
    /// Records every route whose version changed since the last call as applied at `at`.
    func record<T: KubeResource>(_ routes: [T], at: ContinuousClock.Instant) {
        for route in routes {
            let uid = route.metadata.uid ?? "", version = route.metadata.resourceVersion ?? ""
            let key = "\(route.namespace ?? "")/\(route.name)"
            guard self.seen[key] != uid + "/" + version else { continue }
            self.seen[key] = uid + "/" + version
            self.records.append(AppliedGeneration(route: route.name, generation: route.metadata.generation ?? 0, uid: uid, resourceVersion: version, appliedAt: at))
        }
    }
    private var seen: [String: String] = [:]

    /// Marks the state dirty on every change to these kinds, in every namespace (until cancelled).
    nonisolated func watch(_ kinds: [ResourceType], with kube: KubeClient) -> [Task<Void, any Error>] {
        kinds.map { kind in Task { for try await _ in kube.watchChanges(kind, namespace: KubeClient.allNamespaces) { await self.markDirty() } } }
    }

    /// Marks the state dirty when a route's served content changes (spec, labels, annotations; added or deleted),
    /// not when only its status does: the controllers' own status writes (two Gateway API profiles write every
    /// route's) would otherwise re-render everything once per write, which at thousands of routes never settles.
    nonisolated func watchRoutes(_ kind: ResourceType, with kube: KubeClient) -> Task<Void, any Error> {
        Task {
            var served: [String: JSONValue] = [:]
            for try await event in kube.watchChanges(kind, namespace: KubeClient.allNamespaces) {
                let key = "\(event.object.namespace ?? "")/\(event.object.name)"
                if event.kind == .deleted {
                    served[key] = nil
                    await self.markDirty()
                    continue
                }
                let content: JSONValue = ["uid": event.object.metadata.uid.map(JSONValue.string) ?? .null, "spec": event.object.json["spec"] ?? .null,
                                          "labels": event.object.json["metadata"]?["labels"] ?? .null,
                                          "annotations": event.object.json["metadata"]?["annotations"] ?? .null]
                guard served[key] != content else { continue }
                served[key] = content
                await self.markDirty()
            }
        }
    }

    func fail(_ error: String) { self.errors.append(error) }
    /// When the data plane began serving a new configuration (nginx: a reload's workers answering).
    func served(at instant: ContinuousClock.Instant) { self.servedConfigurations.append(instant) }
    private(set) var servedConfigurations: [ContinuousClock.Instant] = []
    var applied: [AppliedGeneration] { self.records }
    var failures: [String] { self.errors }
}
