import FlapJSON
import FlapSystem
import Foundation
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

    func start(routes: JSONValue, clusters: JSONValue, labDirectory: String) throws {
        try self.write(self.listener(), to: self.lds)
        try self.write(clusters, to: self.cds)
        try self.write(routes, to: self.rds)
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
                                             arguments: ["-c", "\(self.directory)/bootstrap.yaml", "--concurrency", "2", "--disable-hot-restart", "-l", "warning"],
                                             log: "\(self.directory)/envoy.log", cleanup: labDirectory)
        guard FreePort.waitUntilListening(self.port, timeout: 20) else {
            throw LabError.dataPlane("envoy", "did not start listening on 127.0.0.1:\(self.port): \(self.process?.logTail ?? "")")
        }
    }

    /// Pushes new routes and clusters: clusters first, so no route points at a cluster Envoy lacks (503).
    func apply(routes: JSONValue, clusters: JSONValue) throws {
        try self.write(clusters, to: self.cds)
        try self.write(routes, to: self.rds)
    }

    /// Writes a DiscoveryResponse to a temporary file and renames it over the watched path.
    private func write(_ resources: JSONValue, to path: String) throws {
        let version = self.lock.withLock { () -> Int in self.version += 1; return self.version }
        let document: JSONValue = ["version_info": .string(String(version)), "resources": resources]
        let temporary = path + ".tmp"
        try document.serialized.write(toFile: temporary, atomically: false, encoding: .utf8)
        guard rename(temporary, path) == 0 else { throw LabError.dataPlane("envoy", "cannot rename \(temporary) onto \(path)") }
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
                        "http_filters": [["name": "envoy.filters.http.router",
                                          "typed_config": ["@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"]]],
                    ],
                ]],
            ]],
        ]]
    }

    func stop() { self.process?.stop() }
}

/// Renders Envoy routes and clusters from HTTPRoutes, as a Gateway API implementation translates them:
/// hostnames, path matches, weighted backends, ResponseHeaderModifier filters.
struct EnvoyConfigRenderer {
    static func clusterName(_ namespace: String, _ service: String, _ port: Int) -> String { "\(namespace)-\(service)-\(port)" }

    func render(routes: [HTTPRoute], endpoints: [String: String]) -> (routes: JSONValue, clusters: JSONValue) {
        var clusters: [String: JSONValue] = [:]
        var hosts: [JSONValue] = []
        for route in routes.sorted(by: { $0.name < $1.name }) {
            let namespace = route.namespace ?? "default"
            var envoyRoutes: [JSONValue] = []
            for rule in route.spec.rules {
                let headers: [JSONValue] = rule.filters.flatMap(\.responseHeadersSet).map { header in
                    ["header": ["key": .string(header.name), "value": .string(header.value)], "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"]
                }
                var weighted: [JSONValue] = []
                for ref in rule.backendRefs where (ref.weight ?? 1) > 0 {
                    guard let endpoint = endpoints[ref.name], let port = ref.port else { continue }
                    let name = Self.clusterName(ref.namespace ?? namespace, ref.name, port)
                    clusters[name] = self.cluster(name, endpoint: endpoint)
                    weighted.append(["name": .string(name), "weight": .int(ref.weight ?? 1),
                                     "response_headers_to_add": [["header": ["key": "X-Flap-Backend", "value": .string(ref.name)],
                                                                  "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"]]])
                }
                for match in rule.matches.isEmpty ? [["path": ["type": "PathPrefix", "value": "/"]]] : rule.matches {
                    let value = match["path"]?["value"]?.stringValue ?? "/"
                    let matcher: JSONValue = match["path"]?["type"]?.stringValue == "Exact" ? ["path": .string(value)] : ["prefix": .string(value)]
                    var entry: JSONValue = ["match": matcher]
                    if weighted.isEmpty {
                        entry[member: "direct_response"] = ["status": 500]
                    } else {
                        entry[member: "route"] = ["weighted_clusters": ["clusters": .array(weighted)], "timeout": "0s"]
                    }
                    if !headers.isEmpty { entry[member: "response_headers_to_add"] = .array(headers) }
                    envoyRoutes.append(entry)
                }
            }
            let names = route.spec.hostnames.isEmpty ? ["*"] : route.spec.hostnames.flatMap { [$0, "\($0):*"] }
            hosts.append(["name": .string("\(namespace)/\(route.name)"), "domains": .array(names.map { .string($0) }), "routes": .array(envoyRoutes)])
        }
        let configuration: JSONValue = ["@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration", "name": "gateway-routes",
                                        "virtual_hosts": .array(hosts)]
        return ([configuration], .array(clusters.keys.sorted().map { clusters[$0]! }))
    }

    private func cluster(_ name: String, endpoint: String) -> JSONValue {
        let parts = endpoint.split(separator: ":")
        return ["@type": "type.googleapis.com/envoy.config.cluster.v3.Cluster", "name": .string(name), "type": "STATIC", "connect_timeout": "1s",
                "load_assignment": ["cluster_name": .string(name), "endpoints": [["lb_endpoints": [["endpoint": ["address": ["socket_address": [
                    "address": .string(String(parts.first ?? "127.0.0.1")), "port_value": .int(Int(parts.last ?? "0") ?? 0)]]]]]]]]]
    }
}
