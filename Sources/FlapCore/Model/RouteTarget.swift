import Foundation
import KubeClient

/// A route flap changes, and the URL through which its proxy serves Trino.
public struct RouteTarget: Sendable, Codable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, Hashable { case ingress, httpRoute = "httproute" }

    public var kind: Kind
    public var name: String
    public var namespace: String
    /// Where clients reach Trino through this route's proxy.
    public var url: URL
    /// Sent as the Host header when the proxy routes by host and `url` is an address.
    public var hostHeader: String?

    public init(kind: Kind, name: String, namespace: String = "default", url: URL, hostHeader: String? = nil) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.url = url
        self.hostHeader = hostHeader
    }

    public var resourceType: ResourceType { self.kind == .ingress ? .ingress : .httpRoute }
    public var reference: ObjectReference { ObjectReference(resource: self.resourceType, namespace: self.namespace, name: self.name) }
    public var description: String { "\(self.kind == .ingress ? "Ingress" : "HTTPRoute") \(self.namespace)/\(self.name)" }
}

/// One object in the cluster.
public struct ObjectReference: Sendable, Codable, Hashable, CustomStringConvertible {
    public var group: String
    public var version: String
    public var plural: String
    public var kind: String
    public var namespace: String?
    public var name: String

    public init(resource: ResourceType, namespace: String?, name: String) {
        self.group = resource.group
        self.version = resource.version
        self.plural = resource.plural
        self.kind = resource.kind
        self.namespace = resource.namespaced ? namespace : nil
        self.name = name
    }

    public var resourceType: ResourceType? {
        ResourceType.known.first { $0.group == self.group && $0.version == self.version && $0.plural == self.plural }
    }

    public var description: String { "\(self.kind) \(self.namespace.map { "\($0)/" } ?? "")\(self.name)" }
}
