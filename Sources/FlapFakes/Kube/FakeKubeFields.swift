import FlapJSON
import Foundation

/// A field path such as ["spec", "rules"] (annotation names may hold dots, so paths are lists).
typealias FieldPath = [String]

/// Simplified server-side-apply field ownership: leaf paths of an object (lists are atomic, as the Gateway API
/// and most built-in lists flap touches are), and `managedFields` rendered the way the real server writes them.
enum FakeKubeFields {
    /// Leaf paths, skipping server-owned metadata (only labels and annotations are owned) and, by default, status.
    static func leafPaths(_ object: JSONValue, includeStatus: Bool = false) -> Set<FieldPath> {
        var paths: Set<FieldPath> = []
        guard case .object(let fields) = object else { return paths }
        for (key, value) in fields {
            switch key {
            case "apiVersion", "kind": continue
            case "status" where !includeStatus: continue
            case "metadata":
                for sub in ["labels", "annotations"] {
                    for (k, _) in value[sub]?.objectValue ?? [:] { paths.insert(["metadata", sub, k]) }
                }
            default:
                self.collect(value, prefix: [key], into: &paths)
            }
        }
        return paths
    }

    private static func collect(_ value: JSONValue, prefix: FieldPath, into paths: inout Set<FieldPath>) {
        if case .object(let fields) = value, !fields.isEmpty {
            for (key, child) in fields { self.collect(child, prefix: prefix + [key], into: &paths) }
        } else {
            paths.insert(prefix)
        }
    }

    static func describe(_ path: FieldPath) -> String { "." + path.joined(separator: ".") }

    static func value(_ object: JSONValue, at path: FieldPath) -> JSONValue? {
        var current: JSONValue? = object
        for key in path { current = current?[key] }
        return current
    }

    static func remove(_ path: FieldPath, from object: inout JSONValue) {
        object = self.removing(path[...], from: object)
    }

    private static func removing(_ keys: ArraySlice<String>, from value: JSONValue) -> JSONValue {
        guard let first = keys.first, case .object(var fields) = value else { return value }
        if keys.count == 1 {
            fields[first] = nil
        } else if let child = fields[first] {
            let updated = self.removing(keys.dropFirst(), from: child)
            fields[first] = updated.objectValue?.isEmpty == true ? nil : updated
        }
        return .object(fields)
    }

    /// `metadata.managedFields` for the owners, in the FieldsV1 trie form.
    static func managedFields(_ owners: [String: Set<FieldPath>], apiVersion: String, operations: [String: String]) -> JSONValue {
        let time = ISO8601DateFormatter().string(from: Date())
        return .array(owners.keys.sorted().compactMap { manager in
            guard let paths = owners[manager], !paths.isEmpty else { return nil }
            var trie: JSONValue = [:]
            for path in paths { trie = self.inserting(path.map { "f:\($0)" }[...], into: trie) }
            return ["manager": .string(manager), "operation": .string(operations[manager] ?? "Update"), "apiVersion": .string(apiVersion),
                    "time": .string(time), "fieldsType": "FieldsV1", "fieldsV1": trie]
        })
    }

    private static func inserting(_ keys: ArraySlice<String>, into value: JSONValue) -> JSONValue {
        guard let first = keys.first else { return value }
        var fields = value.objectValue ?? [:]
        fields[first] = self.inserting(keys.dropFirst(), into: fields[first] ?? [:])
        return .object(fields)
    }
}
