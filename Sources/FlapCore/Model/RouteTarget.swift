import Foundation
import KubeClient

/// A route flap changes, and the URL through which its proxy serves Trino.
public struct RouteTarget: Sendable, Codable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Codable, Hashable { case ingress, httpRoute = "httproute" }

    public var kind: Kind
    public var name: String
    public var namespace: String
    /// Where clients reach Trino through this route's proxy, as they address it (host name included).
    public var url: URL
    /// `address:port` to connect to instead of resolving the URL's host (curl's `--connect-to`): a proxy on a
    /// loopback port that routes by host name sees the host, and Trino builds nextUri from it.
    public var connectTo: String?

    public init(kind: Kind, name: String, namespace: String = "default", url: URL, connectTo: String? = nil) {
        self.kind = kind
        self.name = name
        self.namespace = namespace
        self.url = url
        self.connectTo = connectTo
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
