import FlapJSON

/// A Kubernetes object as JSON, with typed access to what flap needs. Every field it does not model is kept
/// untouched, so a read-modify-write never drops what another controller or a newer API version set.
public protocol KubeResource: Sendable, Equatable {
    static var resourceType: ResourceType { get }
    var json: JSONValue { get set }
    init(json: JSONValue)
}

extension KubeResource {
    public var metadata: ObjectMeta {
        get { ObjectMeta(json: self.json["metadata"] ?? [:]) }
        set { self.json[member: "metadata"] = newValue.json }
    }

    public var apiVersion: String? { self.json["apiVersion"]?.stringValue }
    public var kind: String? { self.json["kind"]?.stringValue }
    public var name: String { self.metadata.name ?? "" }
    public var namespace: String? { self.metadata.namespace }

    /// A new object of this type with apiVersion, kind, name and namespace set.
    public init(name: String, namespace: String?) {
        self.init(json: ["apiVersion": .string(Self.resourceType.apiVersion), "kind": .string(Self.resourceType.kind), "metadata": [:]])
        self.metadata.name = name
        if Self.resourceType.namespaced { self.metadata.namespace = namespace }
    }
}

/// Any object, untyped.
public struct KubeObject: KubeResource {
    public static var resourceType: ResourceType { .configMap }
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    /// The resource type its apiVersion and kind name, if flap knows it.
    public var resourceType: ResourceType? {
        guard let kind = self.kind, let apiVersion = self.apiVersion else { return nil }
        return ResourceType.forKind(kind, apiVersion: apiVersion)
    }

    public init<T: KubeResource>(_ typed: T) { self.json = typed.json }
    public func typed<T: KubeResource>(as type: T.Type) -> T { T(json: self.json) }
}

/// `metadata`.
public struct ObjectMeta: Sendable, Equatable {
    public var json: JSONValue
    public init(json: JSONValue = [:]) { self.json = json }

    public var name: String? {
        get { self.json["name"]?.stringValue }
        set { self.json[member: "name"] = newValue.map { .string($0) } }
    }
    public var namespace: String? {
        get { self.json["namespace"]?.stringValue }
        set { self.json[member: "namespace"] = newValue.map { .string($0) } }
    }
    public var uid: String? { self.json["uid"]?.stringValue }
    public var resourceVersion: String? {
        get { self.json["resourceVersion"]?.stringValue }
        set { self.json[member: "resourceVersion"] = newValue.map { .string($0) } }
    }
    public var generation: Int64? { self.json["generation"]?.int64Value }
    public var creationTimestamp: String? { self.json["creationTimestamp"]?.stringValue }
    public var deletionTimestamp: String? { self.json["deletionTimestamp"]?.stringValue }
    public var labels: [String: String] {
        get { Self.strings(self.json["labels"]) }
        set { self.json[member: "labels"] = newValue.isEmpty ? nil : .object(newValue.mapValues { .string($0) }) }
    }
    public var annotations: [String: String] {
        get { Self.strings(self.json["annotations"]) }
        set { self.json[member: "annotations"] = newValue.isEmpty ? nil : .object(newValue.mapValues { .string($0) }) }
    }
    public var finalizers: [String] { self.json["finalizers"]?.arrayValue?.compactMap(\.stringValue) ?? [] }

    static func strings(_ value: JSONValue?) -> [String: String] {
        (value?.objectValue ?? [:]).compactMapValues(\.stringValue)
    }
}

/// `metav1.Condition`.
public struct Condition: Sendable, Equatable {
    public var type: String
    public var status: String
    public var reason: String
    public var message: String
    public var observedGeneration: Int64?
    public var lastTransitionTime: String

    public init(type: String, status: String, reason: String, message: String = "", observedGeneration: Int64?, lastTransitionTime: String) {
        self.type = type
        self.status = status
        self.reason = reason
        self.message = message
        self.observedGeneration = observedGeneration
        self.lastTransitionTime = lastTransitionTime
    }

    public init(json: JSONValue) {
        self.type = json["type"]?.stringValue ?? ""
        self.status = json["status"]?.stringValue ?? "Unknown"
        self.reason = json["reason"]?.stringValue ?? ""
        self.message = json["message"]?.stringValue ?? ""
        self.observedGeneration = json["observedGeneration"]?.int64Value
        self.lastTransitionTime = json["lastTransitionTime"]?.stringValue ?? ""
    }

    public var json: JSONValue {
        var fields: [String: JSONValue] = ["type": .string(self.type), "status": .string(self.status), "reason": .string(self.reason),
                                           "message": .string(self.message), "lastTransitionTime": .string(self.lastTransitionTime)]
        if let observedGeneration { fields["observedGeneration"] = .number(String(observedGeneration)) }
        return .object(fields)
    }

    public var isTrue: Bool { self.status == "True" }
}
