import KubeClient

/// What flap knows about a route kind beyond its object: how its API says a new generation was taken up. The
/// runner asks the target's adapter; it knows no route kind's status itself.
public struct RouteKindAdapter: Sendable {
    /// Whether the route reports `generation` as accepted by its controller; nil when the kind has no such status.
    public var isAccepted: (@Sendable (_ kube: KubeClient, _ target: RouteTarget, _ generation: Int64) async throws -> Bool)?

    public init(isAccepted: (@Sendable (KubeClient, RouteTarget, Int64) async throws -> Bool)?) {
        self.isAccepted = isAccepted
    }

    /// Ingress has no status that says a controller took a change up.
    public static let ingress = RouteKindAdapter(isAccepted: nil)

    /// Gateway API: the route's `Accepted` condition for that generation, from every parent's status.
    public static let httpRoute = RouteKindAdapter { kube, target, generation in
        try await kube.get(HTTPRoute.self, name: target.name, namespace: target.namespace).isAccepted(generation: generation)
    }
}

extension RouteTarget.Kind {
    public var adapter: RouteKindAdapter {
        switch self {
        case .ingress: .ingress
        case .httpRoute: .httpRoute
        }
    }
}
