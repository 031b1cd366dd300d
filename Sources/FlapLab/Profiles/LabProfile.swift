import FlapCore
import Foundation

/// A lab data plane: a real proxy programmed the way a named product programs it (its translation of the API
/// objects and its update mechanics), so a result says which product's behaviour it measured. docs/lab.md lists
/// each profile's version, mechanics and known differences.
public enum LabProfile: String, CaseIterable, Sendable, Codable, Comparable {
    case ingressNginx = "ingress-nginx"
    case contour
    case nginxGatewayFabric = "nginx-gateway-fabric"
    case envoyGateway = "envoy-gateway"

    public enum Proxy: String, Sendable, Codable { case nginx, envoy }

    /// The API whose objects it serves.
    public var api: RouteTarget.Kind {
        switch self {
        case .ingressNginx, .contour: .ingress
        case .nginxGatewayFabric, .envoyGateway: .httpRoute
        }
    }

    public var proxy: Proxy {
        switch self {
        case .ingressNginx, .nginxGatewayFabric: .nginx
        case .contour, .envoyGateway: .envoy
        }
    }

    /// The product and the version whose behaviour the profile follows.
    public var product: String {
        switch self {
        case .ingressNginx: "ingress-nginx controller v1.12 (nginx; retired March 2026)"
        case .contour: "Contour v1.30 (Envoy)"
        case .nginxGatewayFabric: "NGINX Gateway Fabric 2.x with NGINX OSS"
        case .envoyGateway: "Envoy Gateway v1.4"
        }
    }

    /// How it applies a change, in one line (the report and `lab up` print it).
    public var mechanics: String {
        switch self {
        case .ingressNginx: "renders nginx.conf and reloads on route changes, batched by a sync period"
        case .contour: "xDS: a cluster per Service port, routes by RDS; 503 for a route whose Service is missing"
        case .nginxGatewayFabric: "renders nginx.conf and reloads on every change, endpoint changes included"
        case .envoyGateway: "xDS: one cluster per route rule (httproute/<ns>/<name>/rule/<i>), its backends as weighted localities"
        }
    }

    /// Where the lab's stand-in errs in a known direction, so a reader takes its figures as a bound.
    public var fidelity: String {
        switch self {
        case .ingressNginx:
            "reloads on endpoint changes too (ingress-nginx's Lua balancer does not): on a backend change its losses are an upper bound"
        case .contour, .envoyGateway:
            "endpoints inline, not by EDS, so clusters never warm again: on a backend change or rule reorder its losses are a lower bound (envoyproxy/gateway#6287, #9029)"
        case .nginxGatewayFabric:
            "nginx's own timeouts where NGF sets none; no NGINX Plus API (Plus changes upstreams without a reload)"
        }
    }

    /// The Gateway a Gateway API profile serves (in the lab's namespace), and the controller name its status carries.
    public var gatewayName: String { self == .envoyGateway ? "lab-gateway" : "lab-gateway-\(self.rawValue)" }
    var controllerName: String {
        switch self {
        case .envoyGateway: "gateway.envoyproxy.io/gatewayclass-controller"
        case .nginxGatewayFabric: "gateway.nginx.org/nginx-gateway-controller"
        default: ""
        }
    }

    /// The default factorial: each API through an nginx profile and an Envoy profile.
    public static let factorial: [LabProfile] = [.ingressNginx, .contour, .nginxGatewayFabric, .envoyGateway]

    public static func < (a: LabProfile, b: LabProfile) -> Bool {
        (Self.allCases.firstIndex(of: a) ?? 0) < (Self.allCases.firstIndex(of: b) ?? 0)
    }

    /// `ingress-nginx,envoy-gateway` or `all`; an unknown name says which exist.
    public static func parse(_ list: String) throws -> [LabProfile] {
        if list == "all" { return Self.allCases }
        var profiles: [LabProfile] = []
        for name in list.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            guard let profile = LabProfile(rawValue: name) else {
                throw LabError(.setup, "unknown profile \"\(name)\" (profiles: \(Self.allCases.map(\.rawValue).joined(separator: ", ")), or all)")
            }
            if !profiles.contains(profile) { profiles.append(profile) }
        }
        guard !profiles.isEmpty else { throw LabError(.setup, "--profiles needs at least one profile") }
        return profiles.sorted()
    }
}
