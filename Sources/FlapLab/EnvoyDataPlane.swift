import FlapJSON
import FlapSystem
import Foundation
import HTTPWire
import KubeClient

/// Envoy as the Gateway API stand-in, with file-based xDS: LDS, CDS and RDS files that are replaced atomically
/// by rename (Envoy ignores in-place writes), as a Gateway controller pushes configuration.
final class EnvoyDataPlane: @unchecked Sendable {
    let binary: String
    let directory: String
    let port: Int
    let adminPort: Int
    private var process: SupervisedProcess?
    private let lock = NSLock()
    private var version = 0
    private var servedClusters: JSONValue = []

    init(binary: String, directory: String, port: Int, adminPort: Int) throws {
        self.binary = binary
        self.directory = directory
        self.port = port
        self.adminPort = adminPort
        try FileManager.default.createDirectory(atPath: "\(directory)/xds", withIntermediateDirectories: true)
    }

    var lds: String { "\(self.directory)/xds/lds.json" }
    var cds: String { "\(self.directory)/xds/cds.json" }
    var rds: String { "\(self.directory)/xds/rds.json" }
    var accessLog: String { "\(self.directory)/access.log" }

    func start(routes: JSONValue, clusters: JSONValue, labDirectory: String) throws {
        try self.write(self.listener(), to: self.lds)
        try self.write(clusters, to: self.cds)
        try self.write(routes, to: self.rds)
        self.lock.withLock { self.servedClusters = clusters }
        let bootstrap = """
        node: {id: flap-lab, cluster: flap-lab}
        admin:
          address: {socket_address: {address: 127.0.0.1, port_value: \(self.adminPort)}}
        dynamic_resources:
          lds_config: {resource_api_version: V3, path_config_source: {path: \(self.lds)}}
          cds_config: {resource_api_version: V3, path_config_source: {path: \(self.cds)}}
        """
        try bootstrap.write(toFile: "\(self.directory)/bootstrap.yaml", atomically: true, encoding: .utf8)
        self.process = try SupervisedProcess(name: "envoy", executable: self.binary,
                                             arguments: ["-c", "\(self.directory)/bootstrap.yaml", "--concurrency", "2", "--disable-hot-restart", "-l", "warning",
                                                         "--file-flush-interval-msec", String(EnvoyAccessLog.flushMilliseconds)],
                                             log: "\(self.directory)/envoy.log", cleanup: labDirectory)
        guard FreePort.waitUntilListening(self.port, timeout: 20) else {
            throw LabError.dataPlane("envoy", "did not start listening on 127.0.0.1:\(self.port): \(self.process?.logTail ?? "")")
        }
    }

    /// Pushes new routes and clusters in the xDS protocol's make-before-break order, as a management server
    /// should: clusters added (old ones kept) before the routes that name them, and stale clusters removed only
    /// once Envoy reports the routes that named them gone (its config dump shows the new route version, as an ADS
    /// ACK would). What ordering cannot remove stays: Envoy warms a new cluster while the route naming it may
    /// already be active, so a request can meet it and get Envoy's own 503 `NC`.
    func apply(routes: JSONValue, clusters: JSONValue) async throws {
        let current = self.lock.withLock { self.servedClusters }
        let kept = Self.merging(current, clusters)
        if kept != current { try await self.writeOffPool(kept, to: self.cds) }
        let routeVersion = try await self.writeOffPool(routes, to: self.rds)
        if kept != clusters {
            guard await self.awaitRouteVersion(routeVersion, timeout: .seconds(5)) else {
                throw LabError.dataPlane("envoy", "did not load route version \(routeVersion) within 5 s; stale clusters kept")
            }
            try await self.writeOffPool(clusters, to: self.cds)
        }
        self.lock.withLock { self.servedClusters = clusters }
    }

    /// Polls the admin config dump until the dynamic route configuration carries `version`.
    private func awaitRouteVersion(_ version: Int, timeout: Duration) async -> Bool {
        let client = SocketHTTPClient()
        let url = URL(string: "http://127.0.0.1:\(self.adminPort)/config_dump?resource=dynamic_route_configs")!
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if let dump = try? await client.execute(HTTPClientRequest(url: url), deadline: .now + .seconds(1)),
               let json = try? JSONValue.parse(dump.body),
               (json["configs"]?.arrayValue ?? []).contains(where: { $0["version_info"]?.stringValue == String(version) }) {
                return true
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    /// `old` with `new`'s clusters added or replaced (by name), in name order.
    static func merging(_ old: JSONValue, _ new: JSONValue) -> JSONValue {
        var byName: [String: JSONValue] = [:]
        for cluster in (old.arrayValue ?? []) + (new.arrayValue ?? []) { byName[cluster["name"]?.stringValue ?? ""] = cluster }
        return .array(byName.keys.sorted().map { byName[$0]! })
    }

    /// `write` on a thread of its own: with thousands of routes the files are large, and the cooperative pool
    /// (two threads here) must not wait on the disk.
    @discardableResult
    private func writeOffPool(_ resources: JSONValue, to path: String) async throws -> Int {
        try await Blocking.run { try self.write(resources, to: path) }
    }

    /// Writes a DiscoveryResponse to a temporary file and renames it over the watched path; returns its version.
    @discardableResult
    private func write(_ resources: JSONValue, to path: String) throws -> Int {
        let version = self.lock.withLock { () -> Int in self.version += 1; return self.version }
        let document: JSONValue = ["version_info": .string(String(version)), "resources": resources]
        let temporary = path + ".tmp.\(version)"   // one per write: two writers never rename each other's file away
        try document.serialized.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else { throw LabError.dataPlane("envoy", "cannot rename \(temporary) onto \(path)") }
        return version
    }

    private func listener() -> JSONValue {
        [[
            "@type": "type.googleapis.com/envoy.config.listener.v3.Listener",
            "name": "http",
            "address": ["socket_address": ["address": "127.0.0.1", "port_value": .int(self.port)]],
            "filter_chains": [[
                "filters": [[
                    "name": "envoy.filters.network.http_connection_manager",
                    "typed_config": [
                        "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                        "stat_prefix": "gateway",
                        "rds": ["route_config_name": "gateway-routes",
                                "config_source": ["resource_api_version": "V3", "path_config_source": ["path": .string(self.rds)]]],
                        "access_log": EnvoyAccessLog.configuration(path: self.accessLog),
                        "http_filters": [["name": "envoy.filters.http.router",
                                          "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"]]],
                    ],
                ]],
            ]],
        ]]
    }

    /// Every request Envoy has logged so far (waits one flush interval so the latest ones are on disk).
    func loggedResponses() -> [EnvoyLoggedResponse] {
        Thread.sleep(forTimeInterval: 2 * Double(EnvoyAccessLog.flushMilliseconds) / 1000)
        guard let text = try? String(contentsOfFile: self.accessLog, encoding: .utf8) else { return [] }
        return EnvoyAccessLog.parse(text)
    }

    var exitedUnexpectedly: Bool { self.process?.exitedUnexpectedly ?? false }
    var logTail: String { self.process?.logTail ?? "" }

    func stop() { self.process?.stop() }
}

/// Renders Envoy routes and clusters from HTTPRoutes, as a Gateway API implementation translates them:
/// hostnames, path matches, weighted backends, ResponseHeaderModifier filters.
struct EnvoyConfigRenderer {
    static func clusterName(_ namespace: String, _ service: String, _ port: Int) -> String { "\(namespace)-\(service)-\(port)" }

    /// A backendRef that resolves to nothing gets a share of this empty cluster (Envoy answers 503 `UH`; Envoy
    /// Gateway answers 500 for that share: a known difference, see docs/lab.md). A rule with no valid backend at all
    /// answers 500 directly, as Envoy Gateway does.
    static let invalidBackendCluster = "flap-lab-invalid-backend"

    func render(routes: [HTTPRoute], backends: LabBackends) -> (routes: JSONValue, clusters: JSONValue) {
        var clusters: [String: JSONValue] = [:]
        // Envoy refuses two virtual hosts with one domain: routes sharing a hostname share its virtual host, their
        // rules ordered by Gateway API precedence (the more specific match, then the older route).
        var hostRoutes: [String: [(precedence: RulePrecedence, route: JSONValue)]] = [:]
        for route in routes {
            let namespace = route.namespace ?? "default"
            for (ruleIndex, rule) in route.spec.rules.enumerated() {
                let headers: [JSONValue] = rule.filters.flatMap(\.responseHeadersSet).map { header in
                    ["header": ["key": .string(header.name), "value": .string(header.value)], "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"]
                }
                var weighted: [JSONValue] = []
                var anyValid = false
                for ref in rule.backendRefs where (ref.weight ?? 1) > 0 {
                    var name = Self.clusterName(ref.namespace ?? namespace, ref.name, ref.port ?? 0)
                    switch backends.resolve(ref, from: namespace) {
                    case .endpoints(let endpoints):
                        clusters[name] = self.cluster(name, endpoints: endpoints)
                        anyValid = true
                    case .noEndpoints:
                        clusters[name] = self.cluster(name, endpoints: [])
                        anyValid = true
                    case .invalid:
                        name = Self.invalidBackendCluster
                        clusters[name] = self.cluster(name, endpoints: [])
                    }
                    weighted.append(["name": .string(name), "weight": .int(ref.weight ?? 1),
                                     "response_headers_to_add": [["header": ["key": "X-Flap-Backend", "value": .string(ref.name)],
                                                                  "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"]]])
                }
                for match in rule.matches.isEmpty ? [["path": ["type": "PathPrefix", "value": "/"]]] : rule.matches {
                    let value = match["path"]?["value"]?.stringValue ?? "/"
                    let matcher: JSONValue = match["path"]?["type"]?.stringValue == "Exact" ? ["path": .string(value)] : ["prefix": .string(value)]
                    var entry: JSONValue = ["match": matcher, "name": .string("httproute/\(namespace)/\(route.name)/rule/\(ruleIndex)")]
                    if !anyValid {
                        entry[member: "direct_response"] = ["status": 500]
                    } else {
                        entry[member: "route"] = ["weighted_clusters": ["clusters": .array(weighted)], "timeout": "0s"]
                    }
                    if !headers.isEmpty { entry[member: "response_headers_to_add"] = .array(headers) }
                    let precedence = RulePrecedence(exact: match["path"]?["type"]?.stringValue == "Exact", length: value.count,
                                                    created: route.metadata.creationTimestamp ?? "", name: "\(namespace)/\(route.name)")
                    for hostname in route.spec.hostnames.isEmpty ? ["*"] : route.spec.hostnames {
                        hostRoutes[hostname, default: []].append((precedence, entry))
                    }
                }
            }
        }
        let hosts: [JSONValue] = hostRoutes.keys.sorted().map { hostname in
            let domains: [JSONValue] = hostname == "*" ? ["*"] : [.string(hostname), .string("\(hostname):*")]
            let ordered = hostRoutes[hostname]!.sorted { $0.precedence < $1.precedence }.map(\.route)
            return ["name": .string(hostname), "domains": .array(domains), "routes": .array(ordered)]
        }
        let configuration: JSONValue = ["@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "gateway-routes",
                                        "virtual_hosts": .array(hosts)]
        return ([configuration], .array(clusters.keys.sorted().map { clusters[$0]! }))
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

    private func cluster(_ name: String, endpoints: [String]) -> JSONValue {
        let members: [JSONValue] = endpoints.map { endpoint in
            let parts = endpoint.split(separator: ":")
            return ["endpoint": ["address": ["socket_address": ["address": .string(String(parts.first ?? "127.0.0.1")), "port_value": .int(Int(parts.last ?? "0") ?? 0)]]]]
        }
        return ["@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": .string(name), "type": "STATIC", "connect_timeout": "1s",
                "load_assignment": ["cluster_name": .string(name), "endpoints": [["lb_endpoints": .array(members)]]]]
    }

}
