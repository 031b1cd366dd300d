extension JSONValue {
    /// Reads or writes a member of an object; writing `nil` removes it. Writing into a non-object makes it one.
    public subscript(member key: String) -> JSONValue? {
        get { self[key] }
        set {
            var fields = self.objectValue ?? [:]
            fields[key] = newValue
            self = .object(fields)
        }
    }

    /// The value at a dotted path of object members, e.g. `metadata.name`.
    public func value(at path: String) -> JSONValue? {
        var current: JSONValue? = self
        for key in path.split(separator: ".") { current = current?[String(key)] }
        return current
    }

    /// Sets the value at a dotted path, creating objects on the way; `nil` removes it.
    public mutating func setValue(_ value: JSONValue?, at path: String) {
        let keys = path.split(separator: ".").map(String.init)
        self.setValue(value, keys: keys[...])
    }

    private mutating func setValue(_ value: JSONValue?, keys: ArraySlice<String>) {
        guard let first = keys.first else { return }
        if keys.count == 1 {
            self[member: first] = value
            return
        }
        var child = self[first] ?? .object([:])
        child.setValue(value, keys: keys.dropFirst())
        self[member: first] = child
    }

    public static func string(_ text: String?) -> JSONValue { text.map { .string($0) } ?? .null }
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }

    /// Parses JSON text.
    public static func parse(_ text: String) throws(JSONError) -> JSONValue { try self.parse(Array(text.utf8)) }

    public var serializedBytes: [UInt8] { Array(self.serialized.utf8) }
}

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let b = try? container.decode(Bool.self) { self = .bool(b) }
        else if let i = try? container.decode(Int64.self) { self = .number(String(i)) }
        else if let d = try? container.decode(Double.self) { self = .number(String(d)) }
        else if let s = try? container.decode(String.self) { self = .string(s) }
        else if let a = try? container.decode([JSONValue].self) { self = .array(a) }
        else { self = .object(try container.decode([String: JSONValue].self)) }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            if let i = Int64(n) { try container.encode(i) } else { try container.encode(Double(n) ?? 0) }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
                     ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { $1 }))
    }
    public init(nilLiteral: ()) { self = .null }
}
