import FlapJSON

/// A typed view over a JSON object that keeps every field it does not model.
public protocol JSONBacked: Sendable, Equatable {
    var json: JSONValue { get set }
    init(json: JSONValue)
}

extension JSONBacked {
    func string(_ key: String) -> String? { self.json[key]?.stringValue }
    mutating func setString(_ key: String, _ value: String?) { self.json[member: key] = value.map { .string($0) } }
    func int(_ key: String) -> Int? { self.json[key]?.int64Value.map { Int($0) } }
    mutating func setInt(_ key: String, _ value: Int?) { self.json[member: key] = value.map { .int($0) } }
    func list<T: JSONBacked>(_ key: String) -> [T] { (self.json[key]?.arrayValue ?? []).map(T.init(json:)) }
    mutating func setList<T: JSONBacked>(_ key: String, _ items: [T]) { self.json[member: key] = .array(items.map(\.json)) }
    func object<T: JSONBacked>(_ key: String) -> T { T(json: self.json[key] ?? [:]) }
    mutating func setObject<T: JSONBacked>(_ key: String, _ value: T) { self.json[member: key] = value.json }
    func strings(_ key: String) -> [String] { self.json[key]?.arrayValue?.compactMap(\.stringValue) ?? [] }
    mutating func setStrings(_ key: String, _ values: [String]) { self.json[member: key] = .array(values.map { .string($0) }) }
    func conditions(_ key: String = "conditions") -> [Condition] { (self.json[key]?.arrayValue ?? []).map(Condition.init(json:)) }
    mutating func setConditions(_ conditions: [Condition], _ key: String = "conditions") { self.json[member: key] = .array(conditions.map(\.json)) }
}

extension KubeResource {
    func part<T: JSONBacked>(_ key: String) -> T { T(json: self.json[key] ?? [:]) }
    mutating func setPart<T: JSONBacked>(_ key: String, _ value: T) { self.json[member: key] = value.json }
}
