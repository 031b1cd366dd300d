import FlapJSON
import Foundation

/// The fake's /openapi/v2: one Swagger 2.0 document with every served kind's definition (from the same schemas
/// as /openapi/v3), in JSON, or in the protobuf form (gnostic's `openapi.v2.Document`) kubectl asks for. As on a
/// real server, the CRDs' schemas lose what Swagger 2.0 cannot say (oneOf, anyOf, not, CEL validations); paths
/// are left out (kubectl reads only the definitions: `kubectl explain --output=plaintext-openapiv2`, and apply's
/// validation and patches when a server has no v3).
enum FakeOpenAPIV2 {
    static let protobufType = "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"
    /// What the real server answers with for the protobuf form.
    static let protobufResponseType = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"

    static let definitions: [(name: String, schema: JSONValue)] = {
        var all: [String: JSONValue] = [:]
        for document in FakeOpenAPI.documents.values {
            for (name, schema) in document.value(at: "components.schemas")?.objectValue ?? [:] { all[name] = convert(schema) }
        }
        return all.keys.sorted().map { ($0, all[$0]!) }
    }()

    static let document: JSONValue = {
        var definitions: [String: JSONValue] = [:]
        for (name, schema) in Self.definitions { definitions[name] = schema }
        return ["swagger": "2.0", "info": ["title": "Kubernetes (flap's fake API server)", "version": "v1.32.0"], "paths": [:],
                "definitions": .object(definitions)]
    }()

    static let protobuf: [UInt8] = {
        var document = ProtoWriter()
        document.string(1, "2.0")
        var info = ProtoWriter()
        info.string(1, "Kubernetes (flap's fake API server)")
        info.string(2, "v1.32.0")
        document.message(2, info)
        document.message(8, ProtoWriter())
        var definitions = ProtoWriter()
        for (name, schema) in Self.definitions {
            var named = ProtoWriter()
            named.string(1, name)
            named.message(2, Self.encode(schema))
            definitions.message(1, named)
        }
        document.message(9, definitions)
        return document.bytes
    }()

    /// An OpenAPI v3 schema as Swagger 2.0 has it: `#/definitions/` references, a lone `allOf` reference as the
    /// reference itself, and no keywords 2.0 lacks.
    static func convert(_ schema: JSONValue) -> JSONValue {
        guard var object = schema.objectValue else { return schema }
        if let only = object["allOf"]?.arrayValue, only.count == 1, let reference = only[0]["$ref"] {
            object["allOf"] = nil
            object["$ref"] = reference
        }
        if let reference = object["$ref"]?.stringValue {
            var referenced: [String: JSONValue] = ["$ref": .string(reference.replacingOccurrences(of: "#/components/schemas/", with: "#/definitions/"))]
            referenced["description"] = object["description"]
            return .object(referenced)
        }
        for dropped in ["oneOf", "anyOf", "not", "nullable", "x-kubernetes-validations"] { object[dropped] = nil }
        if let properties = object["properties"]?.objectValue { object["properties"] = .object(properties.mapValues(convert)) }
        if let items = object["items"] { object["items"] = convert(items) }
        if let additional = object["additionalProperties"], additional.objectValue != nil { object["additionalProperties"] = convert(additional) }
        if let allOf = object["allOf"]?.arrayValue { object["allOf"] = .array(allOf.map(convert)) }
        return .object(object)
    }

    /// gnostic's `openapi.v2.Schema` (field numbers from OpenAPIv2.proto).
    static func encode(_ schema: JSONValue) -> ProtoWriter {
        var out = ProtoWriter()
        if let reference = schema["$ref"]?.stringValue { out.string(1, reference) }
        if let format = schema["format"]?.stringValue { out.string(2, format) }
        if let title = schema["title"]?.stringValue { out.string(3, title) }
        if let description = schema["description"]?.stringValue { out.string(4, description) }
        if let value = schema["default"] { out.message(5, Self.any(value)) }
        for required in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] { out.string(19, required) }
        for value in schema["enum"]?.arrayValue ?? [] { out.message(20, Self.any(value)) }
        if let additional = schema["additionalProperties"] {
            var item = ProtoWriter()
            if let allowed = additional.boolValue { item.bool(2, allowed) } else { item.message(1, Self.encode(additional)) }
            out.message(21, item)
        }
        if let type = schema["type"]?.stringValue {
            var item = ProtoWriter()
            item.string(1, type)
            out.message(22, item)
        }
        if let items = schema["items"] {
            var item = ProtoWriter()
            item.message(1, Self.encode(items))
            out.message(23, item)
        }
        for part in schema["allOf"]?.arrayValue ?? [] { out.message(24, Self.encode(part)) }
        if let properties = schema["properties"]?.objectValue {
            var list = ProtoWriter()
            for name in properties.keys.sorted() {
                var named = ProtoWriter()
                named.string(1, name)
                named.message(2, Self.encode(properties[name]!))
                list.message(1, named)
            }
            out.message(25, list)
        }
        for (name, value) in (schema.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) where name.hasPrefix("x-") {
            var named = ProtoWriter()
            named.string(1, name)
            named.message(2, Self.any(value))
            out.message(31, named)
        }
        return out
    }

    /// gnostic's `Any`: the value as YAML text (JSON is YAML).
    private static func any(_ value: JSONValue) -> ProtoWriter {
        var any = ProtoWriter()
        any.string(2, value.serialized + "\n")
        return any
    }
}

/// Protocol buffers' wire format, for the few messages the fakes write.
struct ProtoWriter {
    private(set) var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var value = value
        while value >= 0x80 {
            self.bytes.append(UInt8(value & 0x7f) | 0x80)
            value >>= 7
        }
        self.bytes.append(UInt8(value))
    }

    mutating func key(_ field: Int, wire: UInt64) { self.varint(UInt64(field) << 3 | wire) }

    mutating func bytes(_ field: Int, _ payload: [UInt8]) {
        self.key(field, wire: 2)
        self.varint(UInt64(payload.count))
        self.bytes += payload
    }

    mutating func string(_ field: Int, _ text: String) { self.bytes(field, Array(text.utf8)) }
    mutating func message(_ field: Int, _ message: ProtoWriter) { self.bytes(field, message.bytes) }
    mutating func bool(_ field: Int, _ value: Bool) {
        self.key(field, wire: 0)
        self.varint(value ? 1 : 0)
    }
}
