import FlapJSON
/// A Trino SQL type, as the server describes a column.
public indirect enum TrinoType: Sendable, Equatable, Hashable, CustomStringConvertible {
    case boolean
    case tinyint, smallint, integer, bigint
    case real, double
    case decimal(precision: Int, scale: Int)
    case varchar(length: Int?)
    case char(length: Int)
    case varbinary
    case json
    case date
    case time(precision: Int)
    case timeWithTimeZone(precision: Int)
    case timestamp(precision: Int)
    case timestampWithTimeZone(precision: Int)
    case intervalYearToMonth
    case intervalDayToSecond
    case uuid
    case ipAddress
    /// The newer arbitrary-precision `number` type.
    case number
    case array(TrinoType)
    case map(key: TrinoType, value: TrinoType)
    case row([RowField])
    /// Any type this client does not model (Geometry, HyperLogLog, ...): values stay as JSON.
    case other(String)

    public struct RowField: Sendable, Equatable, Hashable {
        public var name: String?
        public var type: TrinoType
        public init(name: String?, type: TrinoType) {
            self.name = name
            self.type = type
        }
    }

    public var description: String {
        switch self {
        case .boolean: "boolean"
        case .tinyint: "tinyint"
        case .smallint: "smallint"
        case .integer: "integer"
        case .bigint: "bigint"
        case .real: "real"
        case .double: "double"
        case .decimal(let p, let s): "decimal(\(p),\(s))"
        case .varchar(let n): n.map { "varchar(\($0))" } ?? "varchar"
        case .char(let n): "char(\(n))"
        case .varbinary: "varbinary"
        case .json: "json"
        case .date: "date"
        case .time(let p): "time(\(p))"
        case .timeWithTimeZone(let p): "time(\(p)) with time zone"
        case .timestamp(let p): "timestamp(\(p))"
        case .timestampWithTimeZone(let p): "timestamp(\(p)) with time zone"
        case .intervalYearToMonth: "interval year to month"
        case .intervalDayToSecond: "interval day to second"
        case .uuid: "uuid"
        case .ipAddress: "ipaddress"
        case .number: "number"
        case .array(let t): "array(\(t))"
        case .map(let k, let v): "map(\(k), \(v))"
        case .row(let fields): "row(" + fields.map { ($0.name.map { "\($0) " } ?? "") + $0.type.description }.joined(separator: ", ") + ")"
        case .other(let raw): raw
        }
    }

    /// Builds the type from a column's `typeSignature`, accepting both the current shape
    /// (`arguments` with kind `TYPE`/`NAMED_TYPE`/`LONG`/`VARIABLE`) and the pre-321 one
    /// (`TYPE_SIGNATURE`/`NAMED_TYPE_SIGNATURE`/`LONG_LITERAL`).
    public init(signature: TypeSignature) {
        let longs = signature.arguments.compactMap { if case .long(let v) = $0 { Int(v) } else { nil } }
        let types = signature.arguments.compactMap { argument -> TrinoType? in
            switch argument {
            case .type(let s): TrinoType(signature: s)
            case .namedType(_, let s): TrinoType(signature: s)
            default: nil
            }
        }
        switch signature.rawType.lowercased() {
        case "boolean": self = .boolean
        case "tinyint": self = .tinyint
        case "smallint": self = .smallint
        case "integer": self = .integer
        case "bigint": self = .bigint
        case "real": self = .real
        case "double": self = .double
        case "decimal": self = .decimal(precision: longs.first ?? 38, scale: longs.dropFirst().first ?? 0)
        case "varchar": self = .varchar(length: longs.first.flatMap { $0 == Int(Int32.max) ? nil : $0 })
        case "char": self = .char(length: longs.first ?? 1)
        case "varbinary": self = .varbinary
        case "json": self = .json
        case "date": self = .date
        case "time": self = .time(precision: longs.first ?? 3)
        case "time with time zone": self = .timeWithTimeZone(precision: longs.first ?? 3)
        case "timestamp": self = .timestamp(precision: longs.first ?? 3)
        case "timestamp with time zone": self = .timestampWithTimeZone(precision: longs.first ?? 3)
        case "interval year to month": self = .intervalYearToMonth
        case "interval day to second": self = .intervalDayToSecond
        case "uuid": self = .uuid
        case "ipaddress": self = .ipAddress
        case "number": self = .number
        case "array": self = types.first.map { .array($0) } ?? .other(signature.rawType)
        case "map": self = types.count == 2 ? .map(key: types[0], value: types[1]) : .other(signature.rawType)
        case "row":
            self = .row(signature.arguments.compactMap { argument in
                switch argument {
                case .namedType(let name, let s): RowField(name: name, type: TrinoType(signature: s))
                case .type(let s): RowField(name: nil, type: TrinoType(signature: s))
                default: nil
                }
            })
        default: self = .other(signature.rawType)
        }
    }
}

/// The server's structured description of a type.
public struct TypeSignature: Sendable, Equatable, Hashable {
    public enum Argument: Sendable, Equatable, Hashable {
        case type(TypeSignature)
        case namedType(fieldName: String?, TypeSignature)
        case long(Int64)
        case variable(String)
    }

    public var rawType: String
    public var arguments: [Argument]

    public init(rawType: String, arguments: [Argument] = []) {
        self.rawType = rawType
        self.arguments = arguments
    }

    init(json: JSONValue) throws(TrinoProtocolError) {
        guard let raw = json["rawType"]?.stringValue else { throw .missingField("typeSignature.rawType") }
        self.rawType = raw
        var arguments: [Argument] = []
        for argument in json["arguments"]?.arrayValue ?? [] {
            guard let kind = argument["kind"]?.stringValue, let value = argument["value"] else {
                throw .wrongType(field: "typeSignature.arguments", expected: "{kind, value}")
            }
            switch kind {
            case "TYPE", "TYPE_SIGNATURE":
                arguments.append(.type(try TypeSignature(json: value)))
            case "NAMED_TYPE", "NAMED_TYPE_SIGNATURE":
                guard let inner = value["typeSignature"] else { throw .missingField("typeSignature.arguments.value.typeSignature") }
                let name = value["fieldName"]?["name"]?.stringValue
                arguments.append(.namedType(fieldName: name, try TypeSignature(json: inner)))
            case "LONG", "LONG_LITERAL":
                guard let number = value.int64Value else { throw .wrongType(field: "typeSignature LONG argument", expected: "integer") }
                arguments.append(.long(number))
            case "VARIABLE":
                arguments.append(.variable(value.stringValue ?? value.serialized))
            default:
                throw .wrongType(field: "typeSignature.arguments.kind", expected: "TYPE, NAMED_TYPE, LONG or VARIABLE (got \(kind))")
            }
        }
        self.arguments = arguments
    }
}

/// A result column.
public struct TrinoColumn: Sendable, Equatable, Hashable {
    public var name: String
    /// The type as the server spelled it, e.g. `varchar(25)`.
    public var typeName: String
    public var signature: TypeSignature
    public var type: TrinoType

    public init(name: String, typeName: String, signature: TypeSignature) {
        self.name = name
        self.typeName = typeName
        self.signature = signature
        self.type = TrinoType(signature: signature)
    }
}
