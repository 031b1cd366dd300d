import FlapJSON
import Foundation
import KubeClient

/// Which hosts a route serves, so `doctor` can tell whether an answer through a URL came through the route it
/// checks: the route must serve the URL's host, and no other route of its kind may claim that host too.
enum RouteHosts {
    static func hosts(_ object: KubeObject, resource: ResourceType) -> [String] {
        if resource == .httpRoute { return HTTPRoute(json: object.json).spec.hostnames }
        return Ingress(json: object.json).spec.rules.compactMap(\.host)
    }

    /// Whether `pattern` (a host or `*.domain`) matches `host`; a route without hosts matches every host.
    static func matches(_ pattern: String, _ host: String) -> Bool {
        let (pattern, host) = (pattern.lowercased(), host.lowercased())
        if pattern.hasPrefix("*.") { return host.hasSuffix(pattern.dropFirst()) && host.count > pattern.count - 1 }
        return pattern == host
    }

    /// The other routes of the kind, cluster-wide when this identity may list them, else in the route's namespace.
    static func others(of object: KubeObject, resource: ResourceType, kube: KubeClient) async throws -> [KubeObject] {
        let items: [JSONValue]
        if let all = try? await kube.raw("GET", path: resource.collectionPath(namespace: nil)) {
            items = all["items"]?.arrayValue ?? []
        } else {
            items = try await kube.list(resource, namespace: object.metadata.namespace).items.map(\.json)
        }
        return items.map(KubeObject.init(json:)).filter {
            $0.metadata.name != object.metadata.name || $0.metadata.namespace != object.metadata.namespace
        }
    }

    /// Why an answer through `url` may not come through `object`, or nil when it must.
    static func problem(_ object: KubeObject, url: String, others: [KubeObject]) -> String? {
        let resource: ResourceType = object.kind == "HTTPRoute" ? .httpRoute : .ingress
        let name = "\(resource.kind) \(object.metadata.namespace ?? "")/\(object.metadata.name ?? "")"
        guard let host = URL(string: url)?.host else { return "\(url) has no host" }
        let own = self.hosts(object, resource: resource)
        if !own.isEmpty, !own.contains(where: { self.matches($0, host) }) {
            return "\(name) does not serve \(host) (its hosts: \(own.joined(separator: ", "))): an answer through \(url) does not come through it"
        }
        let rivals = others.filter { other in self.hosts(other, resource: resource).contains { self.matches($0, host) } }
        guard rivals.isEmpty else {
            let names = rivals.map { "\($0.metadata.namespace ?? "")/\($0.metadata.name ?? "")" }.joined(separator: ", ")
            return "\(resource.kind) \(names) also serve\(rivals.count == 1 ? "s" : "") \(host): an answer through \(url) may not come through \(name)"
        }
        return nil
    }
}
