import Foundation
import HTTPWire
import KubeClient

/// What a request addresses: discovery, or a resource collection/item/subresource.
enum FakeKubeRoute {
    case version, apiVersions, apiGroups, resourceList(group: String, version: String)
    /// `/openapi/<rest>`: `v3`, `v3/apis/networking.k8s.io/v1`, `v2`.
    case openAPI(String)
    case collection(ResourceType, namespace: String?)
    case item(ResourceType, namespace: String?, name: String, subresource: String?)
    case unknown

    static let served: [ResourceType] = [.ingress, .httpRoute, .gateway, .gatewayClass, .namespace, .service, .configMap, .secret, .lease,
                                         .pod, .endpointSlice, .selfSubjectAccessReview]

    init(path: String) {
        let parts = path.split(separator: "/").map(String.init)
        switch parts.first {
        case "version" where parts.count == 1: self = .version
        case "openapi": self = .openAPI(parts.dropFirst().joined(separator: "/"))
        case "api":
            if parts.count == 1 { self = .apiVersions; return }
            self = Self.resource(group: "", version: parts[1], rest: Array(parts.dropFirst(2)))
        case "apis":
            if parts.count == 1 { self = .apiGroups; return }
            guard parts.count >= 3 else { self = .unknown; return }
            self = Self.resource(group: parts[1], version: parts[2], rest: Array(parts.dropFirst(3)))
        default: self = .unknown
        }
    }

    private static func resource(group: String, version: String, rest: [String]) -> FakeKubeRoute {
        if rest.isEmpty { return .resourceList(group: group, version: version) }
        func find(_ plural: String) -> ResourceType? { self.served.first { $0.group == group && $0.version == version && $0.plural == plural } }
        var namespace: String?
        var remainder = rest[...]
        if rest.first == "namespaces", rest.count >= 3, let scoped = find(rest[2]), scoped.namespaced {
            namespace = rest[1]
            remainder = rest.dropFirst(2)
        }
        guard let plural = remainder.first, let resource = find(plural) else { return .unknown }
        if resource.namespaced && namespace == nil && remainder.count > 1 { return .unknown }
        let afterPlural = remainder.dropFirst()
        guard let name = afterPlural.first else { return .collection(resource, namespace: namespace) }
        let subresource = afterPlural.dropFirst().first
        if afterPlural.count > 2 { return .unknown }
        return .item(resource, namespace: resource.namespaced ? namespace : nil, name: name, subresource: subresource)
    }
}
