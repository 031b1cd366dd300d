import FlapJSON

/// `networking.k8s.io/v1` Ingress.
public struct Ingress: KubeResource {
    public static var resourceType: ResourceType { .ingress }
    public var json: JSONValue
    public init(json: JSONValue) { self.json = json }

    public var spec: Spec {
        get { self.part("spec") }
        set { self.setPart("spec", newValue) }
    }

    public struct Spec: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public var ingressClassName: String? { get { self.string("ingressClassName") } set { self.setString("ingressClassName", newValue) } }
        public var rules: [Rule] { get { self.list("rules") } set { self.setList("rules", newValue) } }
        public var defaultBackend: Backend? {
            get { self.json["defaultBackend"].map(Backend.init(json:)) }
            set { self.json[member: "defaultBackend"] = newValue?.json }
        }
    }

    public struct Rule: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(host: String?, paths: [Path]) {
            self.json = [:]
            self.host = host
            self.paths = paths
        }
        public var host: String? { get { self.string("host") } set { self.setString("host", newValue) } }
        public var paths: [Path] {
            get { (self.json["http"]?["paths"]?.arrayValue ?? []).map(Path.init(json:)) }
            set { self.json.setValue(.array(newValue.map(\.json)), at: "http.paths") }
        }
    }

    public struct Path: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(path: String = "/", pathType: String = "Prefix", backend: Backend) {
            self.json = ["path": .string(path), "pathType": .string(pathType), "backend": backend.json]
        }
        public var path: String? { get { self.string("path") } set { self.setString("path", newValue) } }
        public var pathType: String? { get { self.string("pathType") } set { self.setString("pathType", newValue) } }
        public var backend: Backend { get { self.object("backend") } set { self.setObject("backend", newValue) } }
    }

    /// `backend.service{name, port{number|name}}`.
    public struct Backend: JSONBacked {
        public var json: JSONValue
        public init(json: JSONValue) { self.json = json }
        public init(service: String, port: Int) {
            self.json = ["service": ["name": .string(service), "port": ["number": .int(port)]]]
        }
        public var serviceName: String? { self.json["service"]?["name"]?.stringValue }
        public var servicePort: Int? { self.json["service"]?["port"]?["number"]?.int64Value.map { Int($0) } }
        public var servicePortName: String? { self.json["service"]?["port"]?["name"]?.stringValue }
    }
}
