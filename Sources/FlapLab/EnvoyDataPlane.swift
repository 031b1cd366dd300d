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

    /// The clusters with their endpoints inline (STATIC), where the products use EDS: file-based EDS needs an
    /// inotify instance per cluster, and Linux allows a user 128 by default (thousands of routes are thousands of
    /// clusters). An endpoint change is then a cluster update: Envoy warms the new version and swaps it in (no
    /// cluster_not_found window, in-flight requests finish; upstream connections are drained, which clients do not see).
    private func sourced(_ resources: EnvoyResources) -> JSONValue {
        .array(resources.clusters.map { cluster in
            var cluster = cluster
            let name = cluster["name"]?.stringValue ?? ""
            cluster[member: "type"] = "STATIC"
            cluster[member: "load_assignment"] = resources.assignments[name].map { assignment in
                var inline = assignment
                inline[member: "@type"] = nil
                return inline
            } ?? ["cluster_name": .string(name), "endpoints": []]
            return cluster
        })
    }

    func start(_ resources: EnvoyResources, labDirectory: String) throws {
        try self.write(self.listener(), to: self.lds)
        let clusters = self.sourced(resources)
        try self.write(clusters, to: self.cds)
        try self.write(resources.routes, to: self.rds)
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
    func apply(_ resources: EnvoyResources) async throws {
        let clusters = self.sourced(resources)
        let current = self.lock.withLock { self.servedClusters }
        let kept = Self.merging(current, clusters)
        if kept != current { try await self.writeOffPool(kept, to: self.cds) }
        let routeVersion = try await self.writeOffPool(resources.routes, to: self.rds)
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
