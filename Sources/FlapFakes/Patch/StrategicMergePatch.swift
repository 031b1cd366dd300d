import FlapJSON

/// Kubernetes strategic merge patch for built-in types: a merge patch whose lists of objects merge by a key
/// (containers by `name`, ports by `port`, ...) instead of being replaced, plus the `$patch` directives.
public enum StrategicMergePatch {
    /// Merge keys of the lists flap's built-in types have, by field name (the Go structs' patchMergeKey tags).
    static let mergeKeys: [String: String] = [
        "containers": "name", "initContainers": "name", "ephemeralContainers": "name", "volumes": "name", "env": "name",
        "volumeMounts": "mountPath", "ports": "port", "ownerReferences": "uid", "imagePullSecrets": "name",
        "conditions": "type", "hostAliases": "ip", "tolerations": "key",
    ]
    /// Lists of scalars that merge as sets.
    static let setLists: Set<String> = ["finalizers"]

    public static func apply(_ patch: JSONValue, to target: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard case .object(var changes) = patch else { return patch }
        if let directive = changes["$patch"]?.stringValue {
            changes["$patch"] = nil
            switch directive {
            case "replace": return .object(changes)
            case "delete": return .null
            default: throw JSONPatchError("unknown $patch directive \"\(directive)\"")
            }
        }
        var result = target.objectValue ?? [:]
        for (key, change) in changes {
            if key.hasPrefix("$setElementOrder/") || key == "$retainKeys" { continue }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let remove = Set(change.arrayValue ?? [])
                result[field] = .array((result[field]?.arrayValue ?? []).filter { !remove.contains($0) })
                continue
            }
            if change == .null { result[key] = nil; continue }
            switch (change, result[key]) {
            case (.object, let existing?):
                let merged = try self.apply(change, to: existing)
                result[key] = merged == .null ? nil : merged
            case (.array(let items), .array(let existing)?) where self.mergeKeys[key] != nil:
                result[key] = .array(try self.mergeList(existing, items, key: self.mergeKeys[key]!))
            case (.array(let items), .array(let existing)?) where self.setLists.contains(key):
                result[key] = .array(existing + items.filter { !existing.contains($0) })
            case (.object, nil):
                result[key] = try self.apply(change, to: .object([:]))
            default:
                result[key] = change
            }
        }
        return .object(result)
    }

    static func mergeList(_ existing: [JSONValue], _ patch: [JSONValue], key: String) throws(JSONPatchError) -> [JSONValue] {
        var result = existing
        for item in patch {
            if item["$patch"]?.stringValue == "replace" { return patch.filter { $0["$patch"] == nil } }
            guard let id = item[key] else {
                throw JSONPatchError("an item of a list merged by \"\(key)\" has no \(key)")
            }
            let index = result.firstIndex { $0[key] == id }
            if item["$patch"]?.stringValue == "delete" {
                if let index { result.remove(at: index) }
            } else if let index {
                result[index] = try self.apply(item, to: result[index])
            } else {
                result.append(item)
            }
        }
        return result
    }
}
