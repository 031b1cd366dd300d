/// Where a kind of object lives in the API: group, version, plural, and whether it is namespaced or built in.
public struct ResourceType: Sendable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var plural: String
    public var singular: String
    public var kind: String
    public var namespaced: Bool
    /// Built-in types accept strategic merge patches and unconditional updates; custom resources do not.
    public var builtIn: Bool
    public var shortNames: [String]

    public init(group: String, version: String, plural: String, singular: String, kind: String, namespaced: Bool = true,
                builtIn: Bool, shortNames: [String] = []) {
        self.group = group
        self.version = version
        self.plural = plural
        self.singular = singular
        self.kind = kind
        self.namespaced = namespaced
        self.builtIn = builtIn
        self.shortNames = shortNames
    }

    public var apiVersion: String { self.group.isEmpty ? self.version : "\(self.group)/\(self.version)" }
    /// `ingresses.networking.k8s.io`, as the API server names resources in messages.
    public var qualifiedName: String { self.group.isEmpty ? self.plural : "\(self.plural).\(self.group)" }
    public var description: String { self.qualifiedName }

    var groupVersionPath: String { self.group.isEmpty ? "/api/\(self.version)" : "/apis/\(self.group)/\(self.version)" }

    /// A namespace of `KubeClient.allNamespaces` ("") addresses every namespace (list and watch only).
    public func collectionPath(namespace: String?) -> String {
        if self.namespaced, let namespace, !namespace.isEmpty { return "\(self.groupVersionPath)/namespaces/\(namespace)/\(self.plural)" }
        return "\(self.groupVersionPath)/\(self.plural)"
    }

    public func itemPath(name: String, namespace: String?) -> String {
        "\(self.collectionPath(namespace: namespace))/\(name)"
    }

    public static let ingress = ResourceType(group: "networking.k8s.io", version: "v1", plural: "ingresses", singular: "ingress",
                                             kind: "Ingress", builtIn: true, shortNames: ["ing"])
    public static let httpRoute = ResourceType(group: "gateway.networking.k8s.io", version: "v1", plural: "httproutes",
                                               singular: "httproute", kind: "HTTPRoute", builtIn: false)
    public static let gateway = ResourceType(group: "gateway.networking.k8s.io", version: "v1", plural: "gateways", singular: "gateway",
                                             kind: "Gateway", builtIn: false, shortNames: ["gtw"])
    public static let gatewayClass = ResourceType(group: "gateway.networking.k8s.io", version: "v1", plural: "gatewayclasses",
                                                  singular: "gatewayclass", kind: "GatewayClass", namespaced: false, builtIn: false, shortNames: ["gc"])
    public static let namespace = ResourceType(group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace",
                                               namespaced: false, builtIn: true, shortNames: ["ns"])
    public static let service = ResourceType(group: "", version: "v1", plural: "services", singular: "service", kind: "Service",
                                             builtIn: true, shortNames: ["svc"])
    public static let configMap = ResourceType(group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap",
                                               builtIn: true, shortNames: ["cm"])
    public static let secret = ResourceType(group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", builtIn: true)
    public static let pod = ResourceType(group: "", version: "v1", plural: "pods", singular: "pod", kind: "Pod", builtIn: true, shortNames: ["po"])
    public static let endpointSlice = ResourceType(group: "discovery.k8s.io", version: "v1", plural: "endpointslices", singular: "endpointslice",
                                                   kind: "EndpointSlice", builtIn: true)
    public static let lease = ResourceType(group: "coordination.k8s.io", version: "v1", plural: "leases", singular: "lease", kind: "Lease", builtIn: true)
    public static let selfSubjectAccessReview = ResourceType(group: "authorization.k8s.io", version: "v1", plural: "selfsubjectaccessreviews",
                                                             singular: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview",
                                                             namespaced: false, builtIn: true)

    /// The types flap knows by kind (manifests name their kind and apiVersion).
    public static let known: [ResourceType] = [.ingress, .httpRoute, .gateway, .gatewayClass, .namespace, .service, .configMap, .secret, .lease, .pod, .endpointSlice]

    public static func forKind(_ kind: String, apiVersion: String) -> ResourceType? {
        self.known.first { $0.kind == kind && $0.apiVersion == apiVersion }
    }
}
