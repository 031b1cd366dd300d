import FlapJSON
import Foundation
import KubeClient

extension RestoreJournal {
    /// The first thing in this journal that a run would not have written, or nil when every entry is sound.
    /// A restore trusts nothing it has not checked: an entry whose `original` is the wrong type or names
    /// another object would otherwise "restore" a route by wiping it.
    package var defect: String? {
        if self.runID.isEmpty || self.runID.contains("/") { return "runID \"\(self.runID)\" is not a run's ID" }
        guard let server = URL(string: self.server), server.scheme != nil, server.host != nil else {
            return "server \"\(self.server)\" is not an API server URL"
        }
        var seen = Set<ObjectReference>()
        for (index, entry) in self.entries.enumerated() {
            let reference = entry.reference
            let at = "entry \(index) (\(reference))"
            guard seen.insert(reference).inserted else { return "\(at) appears twice" }
            guard let resource = reference.resourceType else { return "\(at): unknown kind \"\(reference.kind)\"" }
            if reference.name.isEmpty { return "\(at): empty name" }
            if resource.namespaced != (reference.namespace != nil) {
                return "\(at): a \(reference.kind) is \(resource.namespaced ? "namespaced" : "cluster-scoped")"
            }
            guard let original = entry.original else { continue }
            guard original.objectValue != nil else { return "\(at): original is \(Self.typeName(original)), not an object" }
            if original["kind"]?.stringValue != reference.kind {
                return "\(at): original is a \(original["kind"]?.stringValue ?? "object without kind"), not a \(reference.kind)"
            }
            if original["apiVersion"]?.stringValue != resource.apiVersion {
                return "\(at): original has apiVersion \(original["apiVersion"]?.stringValue ?? "none"), not \(resource.apiVersion)"
            }
            if original.value(at: "metadata.name")?.stringValue != reference.name
                || original.value(at: "metadata.namespace")?.stringValue != reference.namespace {
                return "\(at): original names another object (\(original.value(at: "metadata.namespace")?.stringValue ?? "-")/\(original.value(at: "metadata.name")?.stringValue ?? "-"))"
            }
            if original["spec"].map({ $0.objectValue == nil }) == true { return "\(at): original spec is \(Self.typeName(original["spec"]!)), not an object" }
        }
        return nil
    }

    static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .string: "a string"
        case .number: "a number"
        case .bool: "a boolean"
        case .null: "null"
        case .array: "an array"
        case .object: "an object"
        }
    }
}
