import FlapJSON
import Foundation

/// Decodes the protobuf request bodies kubectl sends for built-in kinds (`kubectl create namespace|configmap|
/// secret|service|ingress` post `application/vnd.kubernetes.protobuf`) into the JSON the fake stores.
///
/// The envelope is `k8s\0` and a `runtime.Unknown` (typeMeta 1 {apiVersion 1, kind 2}, raw 2); `raw` is the
/// object in the field numbers of k8s.io/api's generated.proto, of which the kinds below are transcribed. Fields
/// at their zero value are left out, as the JSON encoding's `omitempty` leaves them out; unknown fields are
/// dropped, as a protobuf decoder drops them.
enum KubeProtobuf {
    static let contentType = "application/vnd.kubernetes.protobuf"
    static let magic: [UInt8] = [0x6b, 0x38, 0x73, 0x00]

    struct DecodingFailure: Error, CustomStringConvertible {
        var description: String
        /// The body is sound but names a kind the fake does not decode (415, not 400).
        var unsupportedKind = false
    }

    /// The object as JSON, with `apiVersion` and `kind` from the envelope.
    static func decode(_ body: [UInt8]) throws(DecodingFailure) -> JSONValue {
        guard body.count >= 4, Array(body.prefix(4)) == self.magic else { throw DecodingFailure(description: "no k8s protobuf envelope (k8s\\0)") }
        var envelope = ProtoReader(body.dropFirst(4))
        var apiVersion = "", kind = "", raw: ArraySlice<UInt8> = []
        while let (field, value) = try envelope.next() {
            switch (field, value) {
            case (1, .bytes(let typeMeta)):
                var reader = ProtoReader(typeMeta)
                while let (field, value) = try reader.next() {
                    if case .bytes(let text) = value, field == 1 { apiVersion = String(decoding: text, as: UTF8.self) }
                    if case .bytes(let text) = value, field == 2 { kind = String(decoding: text, as: UTF8.self) }
                }
            case (2, .bytes(let bytes)): raw = bytes
            default: break
            }
        }
        guard let schema = Schemas.kinds[kind] else {
            throw DecodingFailure(description: "the fake API server decodes protobuf bodies of \(Schemas.kinds.keys.sorted().joined(separator: ", ")), not \(kind.isEmpty ? "an unnamed kind" : kind); send JSON",
                                  unsupportedKind: true)
        }
        var object = try schema.decode(raw).objectValue ?? [:]
        object["apiVersion"] = .string(apiVersion)
        object["kind"] = .string(kind)
        return .object(object)
    }
}

/// One protobuf field's value on the wire.
enum ProtoValue {
    case varint(UInt64)
    case bytes(ArraySlice<UInt8>)
    case fixed64(UInt64)
    case fixed32(UInt32)
}

/// Reads (field number, value) pairs from protobuf bytes.
struct ProtoReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: ArraySlice<UInt8>) { self.bytes = bytes }

    mutating func next() throws(KubeProtobuf.DecodingFailure) -> (Int, ProtoValue)? {
        guard !self.bytes.isEmpty else { return nil }
        let key = try self.varint()
        let field = Int(key >> 3)
        guard field > 0 else { throw KubeProtobuf.DecodingFailure(description: "field number 0") }
        switch key & 7 {
        case 0: return (field, .varint(try self.varint()))
        case 1: return (field, .fixed64(try self.fixed(8)))
        case 2:
            let length = try self.varint()
            guard length <= UInt64(self.bytes.count) else { throw KubeProtobuf.DecodingFailure(description: "a length of \(length) past the end of the body") }
            let value = self.bytes.prefix(Int(length))
            self.bytes = self.bytes.dropFirst(Int(length))
            return (field, .bytes(value))
        case 5: return (field, .fixed32(UInt32(try self.fixed(4))))
        default: throw KubeProtobuf.DecodingFailure(description: "unsupported wire type \(key & 7)")
        }
    }

    private mutating func varint() throws(KubeProtobuf.DecodingFailure) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while let byte = self.bytes.first {
            self.bytes = self.bytes.dropFirst()
            guard shift < 64 else { throw KubeProtobuf.DecodingFailure(description: "a varint longer than 10 bytes") }
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
        throw KubeProtobuf.DecodingFailure(description: "the body ends inside a varint")
    }

    private mutating func fixed(_ count: Int) throws(KubeProtobuf.DecodingFailure) -> UInt64 {
        guard self.bytes.count >= count else { throw KubeProtobuf.DecodingFailure(description: "the body ends inside a fixed-width value") }
        var result: UInt64 = 0
        for (index, byte) in self.bytes.prefix(count).enumerated() { result |= UInt64(byte) << (8 * UInt64(index)) }
        self.bytes = self.bytes.dropFirst(count)
        return result
    }
}

/// How one protobuf message's fields map to JSON names and types. (A class: schemas nest, and an indirect enum's
/// boxes in static lets read as leaks to the fuzzer's LeakSanitizer.)
final class ProtoSchema: Sendable {
    enum Kind: Sendable {
        case string, int, bool, bytes, stringMap, bytesMap, intOrString, time
        case message(ProtoSchema)
        /// A message whose fields JSON writes into the parent (`IngressRule`'s `http`, Go's `json:",inline"`).
        case inline(ProtoSchema)
    }

    struct Field: Sendable {
        var name: String
        var kind: Kind
        var repeated = false
    }

    let fields: [Int: Field]

    init(_ fields: [Int: Field]) { self.fields = fields }

    func decode(_ bytes: ArraySlice<UInt8>) throws(KubeProtobuf.DecodingFailure) -> JSONValue {
        var object: [String: JSONValue] = [:]
        var reader = ProtoReader(bytes)
        while let (number, value) = try reader.next() {
            guard let field = self.fields[number] else { continue }
            if case .inline(let schema) = field.kind {
                guard case .bytes(let inner) = value else { throw Self.mismatch(field) }
                for (key, nested) in try schema.decode(inner).objectValue ?? [:] { object[key] = nested }
                continue
            }
            let decoded = try Self.value(value, field)
            if field.repeated {
                object[field.name] = .array((object[field.name]?.arrayValue ?? []) + [decoded])
            } else if case .object(let entries) = decoded, case .object(let existing)? = object[field.name] {
                object[field.name] = .object(existing.merging(entries) { $1 })   // map entries arrive one by one
            } else if !Self.isZero(decoded) {
                object[field.name] = decoded
            }
        }
        return .object(object)
    }

    private static func value(_ value: ProtoValue, _ field: Field) throws(KubeProtobuf.DecodingFailure) -> JSONValue {
        switch (field.kind, value) {
        case (.string, .bytes(let bytes)): return .string(String(decoding: bytes, as: UTF8.self))
        case (.bytes, .bytes(let bytes)): return .string(Data(bytes).base64EncodedString())
        case (.int, .varint(let number)): return .number(String(Int64(bitPattern: number)))
        case (.bool, .varint(let number)): return .bool(number != 0)
        case (.stringMap, .bytes(let entry)), (.bytesMap, .bytes(let entry)):
            let pair = try (field.isBytesMap ? Schemas.bytesEntry : Schemas.stringEntry).decode(entry)
            return .object([pair["key"]?.stringValue ?? "": pair["value"] ?? .string("")])
        case (.intOrString, .bytes(let bytes)):
            let parts = try Schemas.intOrString.decode(bytes)
            return parts["type"]?.int64Value == 1 ? parts["strVal"] ?? .string("") : .number(String(parts["intVal"]?.int64Value ?? 0))
        case (.time, .bytes(let bytes)):
            let parts = try Schemas.time.decode(bytes)
            guard let seconds = parts["seconds"]?.int64Value, seconds != 0 else { return .null }
            let formatter = ISO8601DateFormatter()
            return .string(formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
        case (.message(let schema), .bytes(let bytes)): return try schema.decode(bytes)
        default: throw self.mismatch(field)
        }
    }

    private static func mismatch(_ field: Field) -> KubeProtobuf.DecodingFailure {
        KubeProtobuf.DecodingFailure(description: "field \(field.name) has the wrong wire type")
    }

    /// What JSON's `omitempty` leaves out.
    private static func isZero(_ value: JSONValue) -> Bool {
        switch value {
        case .null: true
        case .string(let text): text.isEmpty
        case .number(let text): text == "0"
        case .bool(let flag): !flag
        case .object(let fields): fields.isEmpty
        case .array(let items): items.isEmpty
        }
    }
}

extension ProtoSchema.Field {
    init(_ name: String, _ kind: ProtoSchema.Kind, repeated: Bool = false) {
        self.init(name: name, kind: kind, repeated: repeated)
    }

    var isBytesMap: Bool {
        if case .bytesMap = self.kind { return true }
        return false
    }
}

/// The kinds `kubectl create` sends as protobuf, transcribed from k8s.io/api's generated.proto (core/v1,
/// networking/v1) and apimachinery's ObjectMeta: only the fields a user can set.
enum Schemas {
    typealias F = ProtoSchema.Field

    static let ownerReference = ProtoSchema([1: F("kind", .string), 3: F("name", .string), 4: F("uid", .string), 5: F("apiVersion", .string),
                                             6: F("controller", .bool), 7: F("blockOwnerDeletion", .bool)])
    static let objectMeta = ProtoSchema([
        1: F("name", .string), 2: F("generateName", .string), 3: F("namespace", .string), 4: F("selfLink", .string), 5: F("uid", .string),
        6: F("resourceVersion", .string), 7: F("generation", .int), 8: F("creationTimestamp", .time), 9: F("deletionTimestamp", .time),
        10: F("deletionGracePeriodSeconds", .int), 11: F("labels", .stringMap), 12: F("annotations", .stringMap),
        13: F("ownerReferences", .message(ownerReference), repeated: true), 14: F("finalizers", .string, repeated: true),
    ])
    // Map entries, IntOrString and metav1.Time as their messages are on the wire.
    static let stringEntry = ProtoSchema([1: F("key", .string), 2: F("value", .string)])
    static let bytesEntry = ProtoSchema([1: F("key", .string), 2: F("value", .bytes)])
    static let intOrString = ProtoSchema([1: F("type", .int), 2: F("intVal", .int), 3: F("strVal", .string)])
    static let time = ProtoSchema([1: F("seconds", .int), 2: F("nanos", .int)])

    // Every schema is a static of its own: a global holds each one (nested anonymous ones would read as leaks).
    static let namespaceSpec = ProtoSchema([1: F("finalizers", .string, repeated: true)])
    static let namespace = ProtoSchema([1: F("metadata", .message(objectMeta)), 2: F("spec", .message(namespaceSpec))])
    static let configMap = ProtoSchema([1: F("metadata", .message(objectMeta)), 2: F("data", .stringMap), 3: F("binaryData", .bytesMap), 4: F("immutable", .bool)])
    static let secret = ProtoSchema([
        1: F("metadata", .message(objectMeta)), 2: F("data", .bytesMap), 3: F("type", .string), 4: F("stringData", .stringMap), 5: F("immutable", .bool),
    ])
    static let servicePort = ProtoSchema([
        1: F("name", .string), 2: F("protocol", .string), 3: F("port", .int), 4: F("targetPort", .intOrString), 5: F("nodePort", .int), 6: F("appProtocol", .string),
    ])
    static let serviceSpec = ProtoSchema([
        1: F("ports", .message(servicePort), repeated: true), 2: F("selector", .stringMap), 3: F("clusterIP", .string), 4: F("type", .string),
        5: F("externalIPs", .string, repeated: true), 7: F("sessionAffinity", .string), 8: F("loadBalancerIP", .string),
        9: F("loadBalancerSourceRanges", .string, repeated: true), 10: F("externalName", .string), 11: F("externalTrafficPolicy", .string),
        12: F("healthCheckNodePort", .int), 13: F("publishNotReadyAddresses", .bool), 17: F("ipFamilyPolicy", .string),
        18: F("clusterIPs", .string, repeated: true), 19: F("ipFamilies", .string, repeated: true), 20: F("allocateLoadBalancerNodePorts", .bool),
        21: F("loadBalancerClass", .string), 22: F("internalTrafficPolicy", .string),
    ])
    static let service = ProtoSchema([1: F("metadata", .message(objectMeta)), 2: F("spec", .message(serviceSpec))])
    static let typedLocalObjectReference = ProtoSchema([1: F("apiGroup", .string), 2: F("kind", .string), 3: F("name", .string)])
    static let serviceBackendPort = ProtoSchema([1: F("name", .string), 2: F("number", .int)])
    static let ingressServiceBackend = ProtoSchema([1: F("name", .string), 2: F("port", .message(serviceBackendPort))])
    static let ingressBackend = ProtoSchema([3: F("resource", .message(typedLocalObjectReference)), 4: F("service", .message(ingressServiceBackend))])
    static let ingressPath = ProtoSchema([1: F("path", .string), 2: F("backend", .message(ingressBackend)), 3: F("pathType", .string)])
    static let httpIngressRuleValue = ProtoSchema([1: F("paths", .message(ingressPath), repeated: true)])
    static let ingressRuleValue = ProtoSchema([1: F("http", .message(httpIngressRuleValue))])
    static let ingressRule = ProtoSchema([1: F("host", .string), 2: F("ingressRuleValue", .inline(ingressRuleValue))])
    static let ingressTLS = ProtoSchema([1: F("hosts", .string, repeated: true), 2: F("secretName", .string)])
    static let ingressSpec = ProtoSchema([
        1: F("defaultBackend", .message(ingressBackend)), 2: F("tls", .message(ingressTLS), repeated: true),
        3: F("rules", .message(ingressRule), repeated: true), 4: F("ingressClassName", .string),
    ])
    static let ingress = ProtoSchema([1: F("metadata", .message(objectMeta)), 2: F("spec", .message(ingressSpec))])

    static let kinds: [String: ProtoSchema] = ["Namespace": namespace, "ConfigMap": configMap, "Secret": secret, "Service": service, "Ingress": ingress]
}
