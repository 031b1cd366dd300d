import FlapJSON
import Foundation
import KubeClient

/// What an Envoy profile's controller pushes: one route configuration, EDS clusters, and each cluster's
/// endpoints (a ClusterLoadAssignment), as a control plane serves them over RDS, CDS and EDS.
struct EnvoyResources: Equatable {
    var routes: JSONValue
    var clusters: [JSONValue]
    var assignments: [String: JSONValue]

    static let routeConfigurationName = "gateway-routes"
    static let clusterType = "type.googleapis.com/envoy.config.cluster.v3.Cluster"
    static let assignmentType = "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment"

    /// An EDS cluster; the data plane adds where its endpoints come from.
    static func cluster(_ name: String, connectTimeout: String, localityWeighted: Bool, policy: String = "ROUND_ROBIN") -> JSONValue {
        var cluster: JSONValue = ["@type": .string(clusterType), "name": .string(name), "type": "EDS", "connect_timeout": .string(connectTimeout),
                                  "lb_policy": .string(policy)]
        if localityWeighted { cluster[member: "common_lb_config"] = ["locality_weighted_lb_config": [:]] }
        return cluster
    }

    /// Endpoints grouped in localities with weights (Envoy Gateway's weighted backends), or one locality. Each
    /// endpoint carries its Service's name as metadata, for the lab's `X-Flap-Backend` answer header.
    static func assignment(_ name: String, localities: [(weight: Int, backend: String, endpoints: [String])]) -> JSONValue {
        let groups: [JSONValue] = localities.map { locality in
            var group: JSONValue = ["lb_endpoints": .array(locality.endpoints.map { Self.endpoint($0, backend: locality.backend) })]
            if localities.count > 1 { group[member: "load_balancing_weight"] = .int(max(1, locality.weight)) }
            return group
        }
        return ["@type": .string(assignmentType), "cluster_name": .string(name), "endpoints": .array(groups)]
    }

    static func endpoint(_ address: String, backend: String) -> JSONValue {
        let parts = address.split(separator: ":")
        return ["endpoint": ["address": ["socket_address": ["address": .string(String(parts.first ?? "127.0.0.1")),
                                                          "port_value": .int(Int(parts.last ?? "0") ?? 0)]]],
                "load_balancing_weight": 1, "metadata": ["filter_metadata": ["flap": ["backend": .string(backend)]]]]
    }

    /// The lab's instrumentation, not the product's: which Service answered, from the chosen endpoint's metadata
    /// (the probe proves a backend swap with it).
    static let backendHeader: JSONValue = ["header": ["key": "X-Flap-Backend", "value": #"%UPSTREAM_METADATA(["flap","backend"])%"#],
                                           "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"]

    static func routeConfiguration(_ virtualHosts: [JSONValue], ignorePortInHostMatching: Bool) -> JSONValue {
        var configuration: JSONValue = ["@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
                                        "name": .string(routeConfigurationName), "virtual_hosts": .array(virtualHosts)]
        if ignorePortInHostMatching { configuration[member: "ignore_port_in_host_matching"] = true }
        return [configuration]
    }

    /// `["localhost"]`, or with `localhost:*` where the host header keeps its port and the product matches it.
    static func domains(_ host: String, withPort: Bool) -> JSONValue {
        host == "*" ? ["*"] : withPort ? [.string(host), .string("\(host):*")] : [.string(host)]
    }

    static func pathMatch(_ match: JSONValue?) -> (matcher: JSONValue, precedence: (exact: Bool, length: Int)) {
        let value = match?["path"]?["value"]?.stringValue ?? "/"
        let exact = match?["path"]?["type"]?.stringValue == "Exact"
        return (exact ? ["path": .string(value)] : ["prefix": .string(value)], (exact, value.count))
    }
}

/// Gateway API's order among matching rules: Exact before Prefix, longer paths first, then the oldest route,
/// then namespace/name.
struct RulePrecedence: Comparable {
    var exact: Bool
    var length: Int
    var created: String
    var name: String
    static func < (a: Self, b: Self) -> Bool {
        if a.exact != b.exact { return a.exact }
        if a.length != b.length { return a.length > b.length }
        return (a.created, a.name) < (b.created, b.name)
    }
}

/// Envoy Gateway's translation: a virtual host per hostname (port ignored in host matching), one route per rule
/// match named `httproute/<ns>/<name>/rule/<i>/match/<j>`, and one cluster per rule, `httproute/<ns>/<name>/rule/<i>`,
/// whose backends are localities weighted by their backendRef weights (so changing a rule's backends changes only
/// its endpoints, while renaming or reordering rules renames clusters: envoyproxy/gateway#6287, #9029). A rule whose
/// backendRefs are all invalid answers 500; a backend without endpoints is a locality without endpoints.
struct EnvoyGatewayTranslator {
    static func clusterName(namespace: String, route: String, rule: Int) -> String { "httproute/\(namespace)/\(route)/rule/\(rule)" }

    func translate(routes: [HTTPRoute], backends: LabBackends) -> EnvoyResources {
        var clusters: [JSONValue] = []
        var assignments: [String: JSONValue] = [:]
        var hostRoutes: [String: [(precedence: RulePrecedence, route: JSONValue)]] = [:]
        for route in routes {
            let namespace = route.namespace ?? "default"
            for (index, rule) in route.spec.rules.enumerated() {
                let name = Self.clusterName(namespace: namespace, route: route.name, rule: index)
                var localities: [(weight: Int, backend: String, endpoints: [String])] = []
                var anyValid = false
                for ref in rule.backendRefs where (ref.weight ?? 1) > 0 {
                    switch backends.resolve(ref, from: namespace) {
                    case .endpoints(let endpoints):
                        localities.append((ref.weight ?? 1, ref.name, endpoints))
                        anyValid = true
                    case .noEndpoints:
                        localities.append((ref.weight ?? 1, ref.name, []))
                        anyValid = true
                    case .invalid:
                        localities.append((ref.weight ?? 1, ref.name, []))
                    }
                }
                if anyValid {
                    // Envoy Gateway's defaults: least-request balancing, a 10 s connect timeout.
                    clusters.append(EnvoyResources.cluster(name, connectTimeout: "10s", localityWeighted: localities.count > 1, policy: "LEAST_REQUEST"))
                    assignments[name] = EnvoyResources.assignment(name, localities: localities)
                }
                var headers: [JSONValue] = rule.filters.flatMap(\.responseHeadersSet).map { header in
                    ["header": ["key": .string(header.name), "value": .string(header.value)], "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"]
                }
                let matches: [JSONValue?] = rule.matches.isEmpty ? [nil] : rule.matches.map { $0 }
                for (matchIndex, match) in matches.enumerated() {
                    let (matcher, specificity) = EnvoyResources.pathMatch(match)
                    var entry: JSONValue = ["name": .string("\(name)/match/\(matchIndex)"), "match": matcher]
                    if anyValid {
                        entry[member: "route"] = ["cluster": .string(name)]
                        if matchIndex == 0 { headers.append(EnvoyResources.backendHeader) }
                    } else {
                        entry[member: "direct_response"] = ["status": 500]
                    }
                    if !headers.isEmpty { entry[member: "response_headers_to_add"] = .array(headers) }
                    let precedence = RulePrecedence(exact: specificity.exact, length: specificity.length,
                                                    created: route.metadata.creationTimestamp ?? "", name: "\(namespace)/\(route.name)")
                    for hostname in route.spec.hostnames.isEmpty ? ["*"] : route.spec.hostnames {
                        hostRoutes[hostname, default: []].append((precedence, entry))
                    }
                }
            }
        }
        let hosts: [JSONValue] = hostRoutes.keys.sorted().map { hostname in
            ["name": .string(hostname), "domains": EnvoyResources.domains(hostname, withPort: false),
             "routes": .array(hostRoutes[hostname]!.sorted { $0.precedence < $1.precedence }.map(\.route))]
        }
        return EnvoyResources(routes: EnvoyResources.routeConfiguration(hosts, ignorePortInHostMatching: true),
                              clusters: clusters.sorted { ($0["name"]?.stringValue ?? "") < ($1["name"]?.stringValue ?? "") },
                              assignments: assignments)
    }
}

/// Contour's translation of Ingresses: a virtual host per host (`host` and `host:*`), a route per path, and a
/// cluster per Service port named `<ns>/<service>/<port>/<hash of its settings>` with endpoints by EDS. A path
/// whose Service or port is missing is programmed as a 503 (projectcontour/contour#4834). The oldest Ingress wins
/// a host and path claimed twice.
struct ContourTranslator {
    /// Contour's hash of a cluster's settings; the lab uses the defaults, whose hash this is.
    static let defaultSettingsHash = "da39a3ee5e"

    static func clusterName(namespace: String, service: String, port: String) -> String {
        "\(namespace)/\(service)/\(port)/\(Self.defaultSettingsHash)"
    }

    func translate(ingresses: [Ingress], backends: LabBackends) -> EnvoyResources {
        var clusters: [String: JSONValue] = [:]
        var assignments: [String: JSONValue] = [:]
        var hostRoutes: [String: [(precedence: RulePrecedence, route: JSONValue)]] = [:]
        var claimed: Set<String> = []
        let ordered = ingresses.sorted { ($0.metadata.creationTimestamp ?? "", $0.namespace ?? "", $0.name) < ($1.metadata.creationTimestamp ?? "", $1.namespace ?? "", $1.name) }
        for ingress in ordered where ["contour", nil].contains(ingress.spec.ingressClassName) {
            let namespace = ingress.namespace ?? "default"
            for rule in ingress.spec.rules {
                let host = rule.host ?? "*"
                for path in rule.paths {
                    guard let service = path.backend.serviceName else { continue }
                    let exact = path.pathType == "Exact"
                    let value = path.path ?? "/"
                    guard claimed.insert("\(host) \(exact ? "=" : "")\(value)").inserted else { continue }
                    var entry: JSONValue = ["match": exact ? ["path": .string(value)] : ["prefix": .string(value)]]
                    let port = path.backend.servicePort.map(String.init) ?? path.backend.servicePortName ?? "0"
                    switch backends.resolve(namespace: namespace, service: service, port: path.backend.servicePort, portName: path.backend.servicePortName) {
                    case .endpoints(let endpoints):
                        let name = Self.clusterName(namespace: namespace, service: service, port: port)
                        clusters[name] = EnvoyResources.cluster(name, connectTimeout: "2s", localityWeighted: false)
                        assignments[name] = EnvoyResources.assignment(name, localities: [(1, service, endpoints)])
                        entry[member: "route"] = ["cluster": .string(name)]
                        entry[member: "response_headers_to_add"] = [EnvoyResources.backendHeader]
                    case .noEndpoints:
                        let name = Self.clusterName(namespace: namespace, service: service, port: port)
                        clusters[name] = EnvoyResources.cluster(name, connectTimeout: "2s", localityWeighted: false)
                        assignments[name] = EnvoyResources.assignment(name, localities: [(1, service, [])])
                        entry[member: "route"] = ["cluster": .string(name)]
                    case .invalid:
                        entry[member: "direct_response"] = ["status": 503]
                    }
                    let precedence = RulePrecedence(exact: exact, length: value.count, created: ingress.metadata.creationTimestamp ?? "",
                                                    name: "\(namespace)/\(ingress.name)")
                    hostRoutes[host, default: []].append((precedence, entry))
                }
            }
        }
        let hosts: [JSONValue] = hostRoutes.keys.sorted().map { host in
            ["name": .string(host), "domains": EnvoyResources.domains(host, withPort: true),
             "routes": .array(hostRoutes[host]!.sorted { $0.precedence < $1.precedence }.map(\.route))]
        }
        return EnvoyResources(routes: EnvoyResources.routeConfiguration(hosts, ignorePortInHostMatching: false),
                              clusters: clusters.keys.sorted().map { clusters[$0]! }, assignments: assignments)
    }
}
