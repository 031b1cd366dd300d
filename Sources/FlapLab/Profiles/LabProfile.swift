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
    case haproxy
    case haproxyGateway = "haproxy-gateway"

    public enum Proxy: String, Sendable, Codable, CaseIterable { case nginx, envoy, haproxy }

    /// The API whose objects it serves.
    public var api: RouteTarget.Kind {
        switch self {
        case .ingressNginx, .contour, .haproxy: .ingress
        case .nginxGatewayFabric, .envoyGateway, .haproxyGateway: .httpRoute
        }
    }

    public var proxy: Proxy {
        switch self {
        case .ingressNginx, .nginxGatewayFabric: .nginx
        case .contour, .envoyGateway: .envoy
        case .haproxy, .haproxyGateway: .haproxy
        }
    }

    /// The product and the version whose behaviour the profile follows.
    public var product: String {
        switch self {
        case .ingressNginx: "ingress-nginx controller v1.12 (nginx; retired March 2026)"
        case .contour: "Contour v1.30 (Envoy)"
        case .nginxGatewayFabric: "NGINX Gateway Fabric 2.x with NGINX OSS"
        case .envoyGateway: "Envoy Gateway v1.4"
        case .haproxy: "HAProxy Kubernetes Ingress Controller 3.x (haproxytech), HAProxy 2.6 from Debian"
        case .haproxyGateway: "HAProxy Ingress 0.15 Gateway API mode (haproxy-ingress.github.io), HAProxy 2.6 from Debian"
        }
    }

    /// How it applies a change, in one line (the report and `lab up` print it).
    public var mechanics: String {
        switch self {
        case .ingressNginx: "renders nginx.conf and reloads on route changes, batched by a sync period"
        case .contour: "xDS: a cluster per Service port, routes by RDS; 503 for a route whose Service is missing"
        case .nginxGatewayFabric: "renders nginx.conf and reloads on every change, endpoint changes included"
        case .envoyGateway: "xDS: one cluster per route rule (httproute/<ns>/<name>/rule/<i>), its backends as weighted localities"
        case .haproxy, .haproxyGateway: "servers and weights through the runtime API (server slots), a seamless master-worker reload for anything else"
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
        case .haproxy, .haproxyGateway:
            "host and path rules inline where the controllers use map files; hard-stop-after 30m is the lab's bound"
        }
    }

    /// The IngressClass an Ingress profile serves (besides Ingresses without a class).
    public var ingressClass: String? {
        switch self {
        case .ingressNginx: "nginx"
        case .contour: "contour"
        case .haproxy: "haproxy"
        default: nil
        }
    }

    /// The Gateway a Gateway API profile serves (in the lab's namespace), and the controller name its status carries.
    public var gatewayName: String { self == .envoyGateway ? "lab-gateway" : "lab-gateway-\(self.rawValue)" }
    var controllerName: String {
        switch self {
        case .envoyGateway: "gateway.envoyproxy.io/gatewayclass-controller"
        case .nginxGatewayFabric: "gateway.nginx.org/nginx-gateway-controller"
        case .haproxyGateway: "haproxy-ingress.github.io/controller"
        default: ""
        }
    }

    /// The profile an arm `<profile>-<mutation>` belongs to (the longest profile name that prefixes it, so
    /// `haproxy-gateway-control` is haproxy-gateway's), and the mutation's label.
    public static func owner(ofArm name: String) -> (profile: LabProfile, mutation: String)? {
        Self.allCases.filter { name.hasPrefix($0.rawValue + "-") }.max { $0.rawValue.count < $1.rawValue.count }
            .map { ($0, String(name.dropFirst($0.rawValue.count + 1))) }
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
