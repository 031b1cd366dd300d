import FlapJSON

/// `gateway.networking.k8s.io/v1` HTTPRoute.
public struct HTTPRoute: KubeResource {
    public static var resourceType: ResourceType { .httpRoute }
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec {
        get { self.part("spec") }
        set { self.setPart("spec", newValue) }
    }

    public var status: RouteStatus {
        get { self.part("status") }
        set { self.setPart("status", newValue) }
    }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var parentRefs: [ParentReference] { get { self.list("parentRefs") } set { self.setList("parentRefs", newValue) } }
        public var hostnames: [String] { get { self.strings("hostnames") } set { self.setStrings("hostnames", newValue) } }
        public var rules: [Rule] { get { self.list("rules") } set { self.setList("rules", newValue) } }
    }

    public struct Rule: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(backendRefs: [BackendRef], pathPrefix: String = "/") {
            self.json = ["matches": [["path": ["type": "PathPrefix", "value": .string(pathPrefix)]]]]
            self.backendRefs = backendRefs
        }
        public var matches: [JSONValue] { self.json["matches"]?.arrayValue ?? [] }
        public var filters: [Filter] { get { self.list("filters") } set { self.setList("filters", newValue) } }
        public var backendRefs: [BackendRef] { get { self.list("backendRefs") } set { self.setList("backendRefs", newValue) } }
    }

    public struct BackendRef: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(name: String, port: Int, weight: Int? = nil) {
            self.json = ["name": .string(name), "port": .int(port)]
            self.weight = weight
        }
        public var name: String { get { self.string("name") ?? "" } set { self.setString("name", newValue) } }
        public var namespace: String? { get { self.string("namespace") } set { self.setString("namespace", newValue) } }
        public var port: Int? { get { self.int("port") } set { self.setInt("port", newValue) } }
        /// Defaults to 1 (the CRD's default).
        public var weight: Int? { get { self.int("weight") } set { self.setInt("weight", newValue) } }
        public var kind: String? { self.string("kind") }
    }

    /// Filters are kept as JSON with a typed `type`; `ResponseHeaderModifier` gets helpers because flap uses it as a marker.
    public struct Filter: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var type: String? { self.string("type") }

        public static func responseHeader(set name: String, to value: String) -> Filter {
            Filter(json: ["type": "ResponseHeaderModifier", "responseHeaderModifier": ["set": [["name": .string(name), "value": .string(value)]]]])
        }

        /// Headers a `ResponseHeaderModifier` sets (or adds).
        public var responseHeadersSet: [(name: String, value: String)] {
            let modifier = self.json["responseHeaderModifier"]
            return ((modifier?["set"]?.arrayValue ?? []) + (modifier?["add"]?.arrayValue ?? [])).compactMap { item in
                guard let name = item["name"]?.stringValue, let value = item["value"]?.stringValue else { return nil }
                return (name, value)
            }
        }
    }

    public struct RouteStatus: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var parents: [RouteParentStatus] { get { self.list("parents") } set { self.setList("parents", newValue) } }
    }

    public struct RouteParentStatus: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var parentRef: ParentReference { get { self.object("parentRef") } set { self.setObject("parentRef", newValue) } }
        public var controllerName: String? { get { self.string("controllerName") } set { self.setString("controllerName", newValue) } }
        public var conditions: [Condition] { get { self.conditions() } set { self.setConditions(newValue) } }
    }

    /// True when every parent reports `Accepted=True` for `generation` (the route's current one by default).
    public func isAccepted(generation: Int64? = nil) -> Bool {
        let wanted = generation ?? self.metadata.generation
        let parents = self.status.parents
        return !parents.isEmpty && parents.allSatisfy { parent in
            parent.conditions.contains { $0.type == "Accepted" && $0.isTrue && $0.observedGeneration == wanted }
        }
    }
}

/// A route's reference to its Gateway.
public struct ParentReference: JSONBacked {
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }
    public init(name: String, namespace: String? = nil, sectionName: String? = nil) {
        self.json = ["name": .string(name)]
        self.namespace = namespace
        self.sectionName = sectionName
    }
    public var name: String { get { self.string("name") ?? "" } set { self.setString("name", newValue) } }
    public var namespace: String? { get { self.string("namespace") } set { self.setString("namespace", newValue) } }
    public var sectionName: String? { get { self.string("sectionName") } set { self.setString("sectionName", newValue) } }
}
