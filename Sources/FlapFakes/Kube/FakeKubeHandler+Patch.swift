import FlapJSON
import Foundation
import HTTPWire
import KubeClient

extension FakeKubeHandler {
    /// PATCH with the four patch types. Returns the object and whether server-side apply created it.
    func patch(_ resource: ResourceType, namespace: String?, name: String, subresource: String?, request: HTTPServerRequest,
               query: [String: String]) throws -> (JSONValue, Bool) {
        let contentType = (request.headers["Content-Type"] ?? "").split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let isApply = contentType == "application/apply-patch+yaml"
        if query["force"] != nil && !isApply {
            throw KubeFailure(code: 422, reason: "Invalid", message: "PatchOptions.meta.k8s.io \"\" is invalid: force: Forbidden: may not be specified for non-apply patch")
        }
        let text = String(decoding: request.body, as: UTF8.self)
        let body: JSONValue
        do {
            body = isApply ? try YAML.parse(text) : try JSONValue.parse(request.body)
        } catch {
            throw KubeFailure.badRequest("error decoding patch: \(error)")
        }
        if isApply {
            guard let manager = query["fieldManager"], !manager.isEmpty else {
                throw KubeFailure(code: 422, reason: "Invalid", message: "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch")
            }
            return try self.apply(resource, namespace: namespace, name: name, subresource: subresource, config: body, manager: manager,
                                  force: query["force"] == "true", dryRun: query["dryRun"] != nil)
        }
        let manager = query["fieldManager"] ?? Self.defaultManager(request)
        return (try self.store.locked {
            guard let old = self.store.object(resource, namespace, name) else { throw KubeFailure.notFound(resource, name) }
            var patched: JSONValue
            do {
                switch contentType {
                case "application/json-patch+json": patched = try JSONPatch.apply(body, to: old)
                case "application/merge-patch+json": patched = JSONMergePatch.apply(body, to: old)
                case "application/strategic-merge-patch+json":
                    guard resource.builtIn else { throw KubeFailure.unsupportedPatch(builtIn: false) }
                    patched = try StrategicMergePatch.apply(body, to: old)
                default:
                    throw KubeFailure.unsupportedPatch(builtIn: resource.builtIn)
                }
            } catch let error as JSONPatchError {
                throw KubeFailure(code: 422, reason: "Invalid", message: "the patch could not be applied: \(error.message)")
            }
            if let sent = body.value(at: "metadata.resourceVersion")?.stringValue, !sent.isEmpty,
               sent != old.value(at: "metadata.resourceVersion")?.stringValue {
                throw KubeFailure.conflict(resource, name)
            }
            return try self.store(resource, old: old, new: patched, subresource: subresource, manager: manager, operation: "Update",
                                  dryRun: query["dryRun"] != nil)
        }, false)
    }

    /// Server-side apply with simplified field ownership: a field another manager set to a different value is a
    /// conflict unless forced; fields this manager applied before and omits now are removed.
    func apply(_ resource: ResourceType, namespace: String?, name: String, subresource: String?, config rawConfig: JSONValue, manager: String,
               force: Bool, dryRun: Bool = false) throws -> (JSONValue, Bool) {
        // Compare what the server would store: the CRD's defaults apply to the applied configuration too.
        let config = resource == .httpRoute && rawConfig["spec"] != nil ? KubeValidation.defaultHTTPRoute(rawConfig) : rawConfig
        guard config.objectValue != nil else { throw KubeFailure.badRequest("an apply patch must be an object") }
        if let configName = config.value(at: "metadata.name")?.stringValue, configName != name {
            throw KubeFailure.badRequest("the name of the object (\(configName)) does not match the name on the URL (\(name))")
        }
        return try self.store.locked {
            let key = Self.ownerKey(resource, namespace, name)
            guard let old = self.store.object(resource, namespace, name) else {
                guard subresource == nil else { throw KubeFailure.notFound(resource, name) }
                var object = config
                object.setValue(.string(name), at: "metadata.name")
                self.store.condition.unlock()
                defer { self.store.condition.lock() }
                let created = try self.create(resource, namespace: namespace, object: object, manager: manager, dryRun: dryRun)
                if !dryRun { self.store.locked { self.store.operations[key] = [manager: "Apply"] } }
                return (created, true)
            }
            let configPaths = FakeKubeFields.leafPaths(config, includeStatus: subresource == "status")
            var owners = self.store.managers[key] ?? [:]
            var conflicts: [(FieldPath, String)] = []
            for path in configPaths.sorted(by: { $0.joined(separator: ".") < $1.joined(separator: ".") })
                where FakeKubeFields.value(config, at: path) != FakeKubeFields.value(old, at: path) {
                for (other, paths) in owners where other != manager && paths.contains(path) { conflicts.append((path, other)) }
            }
            if !conflicts.isEmpty && !force {
                let causes: [JSONValue] = conflicts.map { path, other in
                    ["reason": "FieldManagerConflict", "message": .string("conflict with \"\(other)\""), "field": .string(FakeKubeFields.describe(path))]
                }
                let list = conflicts.map { "conflict with \"\($0.1)\": \(FakeKubeFields.describe($0.0))" }.joined(separator: "\n- ")
                throw KubeFailure(code: 409, reason: "Conflict",
                                  message: "Apply failed with \(conflicts.count) conflict\(conflicts.count == 1 ? "" : "s"): \(list)",
                                  details: ["causes": .array(causes)])
            }
            var next = JSONMergePatch.apply(self.withoutNulls(config), to: old)
            let previouslyOwned = owners[manager] ?? []
            for path in previouslyOwned.subtracting(configPaths) where !owners.contains(where: { $0.key != manager && $0.value.contains(path) }) {
                FakeKubeFields.remove(path, from: &next)
            }
            if dryRun { return (try self.store(resource, old: old, new: next, subresource: subresource, manager: manager, operation: "Apply", dryRun: true), false) }
            for other in owners.keys where other != manager { owners[other]?.subtract(configPaths) }
            owners[manager] = configPaths
            self.store.managers[key] = owners
            self.store.operations[key, default: [:]][manager] = "Apply"
            let stored = try self.store(resource, old: old, new: next, subresource: subresource, manager: manager, operation: "Apply")
            self.store.managers[key]?[manager] = configPaths
            return (self.withManagedFields(resource, stored, key: key), false)
        }
    }

    private func withoutNulls(_ value: JSONValue) -> JSONValue {
        guard case .object(let fields) = value else { return value }
        return .object(fields.filter { $0.value != .null }.mapValues(self.withoutNulls))
    }
}
