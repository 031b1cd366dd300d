import FlapJSON
import Foundation
import KubeClient

/// Puts objects back to their journalled state, idempotently, and only where it is sure they are the objects the
/// run changed: before the first write it checks the journal, the cluster, and each object's identity.
package struct Restorer: Sendable {
    package let kube: KubeClient

    package init(kube: KubeClient) { self.kube = kube }

    /// Restores every entry; returns what it changed. Nothing is written unless the whole journal is sound, it was
    /// written against this client's cluster, and every object by an entry's name is the one the run changed (the
    /// same uid, or recreated by the run) — unless `force`, which skips the cluster and identity checks (never the
    /// journal's own). Errors for single objects during the writes are collected, so one failure does not leave the
    /// others changed.
    @discardableResult
    package func restore(_ journal: RestoreJournal, force: Bool = false) async throws -> [String] {
        if let defect = journal.defect { throw RestoreError.invalidJournal(journal.runID, defect) }
        if !force, journal.server != self.kube.configuration.clusterIdentity {
            throw RestoreError.differentCluster(runID: journal.runID, journalServer: journal.server, currentServer: self.kube.configuration.clusterIdentity)
        }
        if !force {
            for entry in journal.entries {
                if let mismatch = Self.identityMismatch(entry, current: try await self.current(entry.reference), runID: journal.runID) {
                    throw RestoreError.differentObject(entry.reference, mismatch)
                }
            }
        }
        var actions: [String] = []
        var failures: [RestoreError] = []
        for entry in journal.entries {
            do {
                if let action = try await self.restore(entry, runID: journal.runID) { actions.append(action) }
            } catch {
                failures.append(.restoreFailed(entry.reference, "\(error)"))
            }
        }
        if let first = failures.first { throw first }
        return actions
    }

    /// Why the object now by this entry's name is not the one the run changed, or nil when it is (or is absent).
    static func identityMismatch(_ entry: RestoreJournal.Entry, current: KubeObject?, runID: String) -> String? {
        guard let current else { return nil }
        let recreatedByRun = current.metadata.annotations[MutationContext.runAnnotation] == runID
        guard let original = entry.original else {
            return recreatedByRun ? nil : "it did not exist before the run and was not created by run \(runID)"
        }
        guard let uid = original.value(at: "metadata.uid")?.stringValue, let now = current.metadata.uid, uid != now else { return nil }
        return recreatedByRun ? nil : "uid \(now), the journal's is \(uid), and run \(runID) did not create it"
    }

    private func current(_ reference: ObjectReference) async throws -> KubeObject? {
        guard let resource = reference.resourceType else { throw MutationError("unknown kind \(reference.kind)") }
        do {
            return try await self.kube.get(resource, name: reference.name, namespace: reference.namespace)
        } catch let error as KubeStatusError where error.isNotFound {
            return nil
        }
    }

    func restore(_ entry: RestoreJournal.Entry, runID: String) async throws -> String? {
        let reference = entry.reference
        guard let resource = reference.resourceType else { throw MutationError("unknown kind \(reference.kind)") }
        let current = try await self.current(reference)
        guard let original = entry.original else {
            guard current != nil else { return nil }
            do { try await self.kube.delete(resource, name: reference.name, namespace: reference.namespace) } catch let error as KubeStatusError where error.isNotFound {}
            return "deleted \(reference) (created by the run)"
        }
        let wanted = Self.restorable(original)
        guard let current else {
            do { try await self.kube.create(KubeObject(json: wanted)) } catch let error as KubeStatusError where error.isAlreadyExists {
                return try await self.restore(entry, runID: runID)
            }
            return "recreated \(reference)"
        }
        if Self.content(current.json) == Self.content(wanted) { return nil }
        try await self.kube.modify(resource, name: reference.name, namespace: reference.namespace) { (object: inout KubeObject) in
            for key in (object.json.objectValue ?? [:]).keys where !["metadata", "status", "apiVersion", "kind"].contains(key) { object.json[member: key] = nil }
            for (key, value) in wanted.objectValue ?? [:] where !["metadata", "status"].contains(key) { object.json[member: key] = value }
            object.json.setValue(wanted.value(at: "metadata.labels"), at: "metadata.labels")
            object.json.setValue(wanted.value(at: "metadata.annotations"), at: "metadata.annotations")
        }
        return "restored \(reference)"
    }

    /// The original without server-owned fields.
    package static func restorable(_ original: JSONValue) -> JSONValue {
        var json = original
        for field in ["resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "deletionTimestamp", "deletionGracePeriodSeconds"] {
            json.setValue(nil, at: "metadata.\(field)")
        }
        json[member: "status"] = nil
        return json
    }

    /// What restore compares (and what "put back" means): everything but server-owned metadata and status,
    /// with labels and annotations.
    package static func content(_ object: JSONValue) -> JSONValue {
        var fields = object.objectValue ?? [:]
        fields["status"] = nil
        fields["metadata"] = ["labels": object.value(at: "metadata.labels") ?? .null, "annotations": object.value(at: "metadata.annotations") ?? .null]
        return .object(fields)
    }
}
