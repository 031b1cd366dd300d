import FlapJSON

/// `gateway.networking.k8s.io/v1` Gateway.
public struct Gateway: KubeResource {
    public static var resourceType: ResourceType { .gateway }
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec {
        get { self.part("spec") }
        set { self.setPart("spec", newValue) }
    }

    public var status: Status {
        get { self.part("status") }
        set { self.setPart("status", newValue) }
    }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var gatewayClassName: String? { get { self.string("gatewayClassName") } set { self.setString("gatewayClassName", newValue) } }
        public var listeners: [Listener] { get { self.list("listeners") } set { self.setList("listeners", newValue) } }
    }

    public struct Listener: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(name: String, port: Int, protocol proto: String = "HTTP", hostname: String? = nil) {
            self.json = ["name": .string(name), "port": .int(port), "protocol": .string(proto)]
            self.hostname = hostname
        }
        public var name: String { self.string("name") ?? "" }
        public var port: Int? { self.int("port") }
        public var hostname: String? { get { self.string("hostname") } set { self.setString("hostname", newValue) } }
    }

    public struct Status: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var conditions: [Condition] { get { self.conditions() } set { self.setConditions(newValue) } }
        public var listeners: [JSONValue] { self.json["listeners"]?.arrayValue ?? [] }
        public var addresses: [JSONValue] { self.json["addresses"]?.arrayValue ?? [] }
    }

    public var isProgrammed: Bool {
        self.status.conditions.contains { $0.type == "Programmed" && $0.isTrue && $0.observedGeneration == self.metadata.generation }
    }
}
