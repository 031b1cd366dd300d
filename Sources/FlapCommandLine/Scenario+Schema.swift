import FlapCore
import FlapJSON
import FlapSystem
import Foundation

/// Checks a scenario file's shape before decoding: every key is one the scenario knows (an unknown one is named
/// with its path and the nearest known key, since a misspelt key would otherwise be silently ignored), and every
/// whole number fits its field (so `"seed": -1` is not reported as invalid JSON). Field names come from the
/// types themselves, so the check cannot drift from the model. A mutation's keys are its kind's parameters, which
/// the ``MutatorRegistry`` checks when the scenario is validated.
enum ScenarioSchema {
    /// Known keys and their Swift types, per section.
    static func fields(of value: Any) -> [String: String] {
        Dictionary(uniqueKeysWithValues: Mirror(reflecting: value).children.compactMap { child in
            child.label.map { ($0, String(describing: type(of: child.value))) }
        })
    }

    static let sections: [String: [String: String]] = [
        "": fields(of: Scenario()),
        "cluster": fields(of: Scenario.Cluster()),
        "targets[]": fields(of: Scenario.Target(name: "", kind: .ingress, route: "", url: "")),
        "workload": fields(of: Scenario.Workload()),
        "load": fields(of: Scenario.Load()),
        "schedule": fields(of: Scenario.Schedule()),
    ]

    static func check(_ json: JSONValue) throws {
        try self.check(json, section: "", path: "")
    }

    private static func check(_ json: JSONValue, section: String, path: String) throws {
        guard let object = json.objectValue, let known = self.sections[section] else { return }
        for (key, value) in object.sorted(by: { $0.key < $1.key }) {
            let at = path.isEmpty ? key : "\(path).\(key)"
            guard let type = known[key] else {
                let nearest = NearestName.to(key, among: known.keys)
                throw ScenarioError.field(at, "unknown key" + (nearest.map { "; did you mean \"\($0)\"?" } ?? ""))
            }
            if let array = value.arrayValue, self.sections["\(key)[]"] != nil {
                for (index, element) in array.enumerated() { try self.check(element, section: "\(key)[]", path: "\(at)[\(index)]") }
            } else if self.sections[key] != nil, section.isEmpty {
                try self.check(value, section: key, path: at)
            } else {
                try self.checkNumber(value, type: type, at: at)
            }
        }
    }

    /// Whole-number fields must hold whole numbers their type can represent.
    private static func checkNumber(_ value: JSONValue, type: String, at: String) throws {
        guard case .number(let text) = value else { return }
        switch type {
        case "Optional<Int>":
            guard Int(text) != nil else { throw ScenarioError.field(at, "must be a whole number from \(Int.min) to \(Int.max), not \(text)") }
        case "Optional<UInt64>":
            guard UInt64(text) != nil else { throw ScenarioError.field(at, "must be a whole number from 0 to \(UInt64.max), not \(text)") }
        default: break
        }
    }
}
