import FlapJSON
import FlapSystem
import HTTPWire
import Foundation
import KubeClient

/// nginx as the ingress-nginx stand-in: a supervised `daemon off` master whose configuration is rendered from
/// Ingress objects the way ingress-nginx renders it (its defaults), reloaded with `nginx -s reload`.
final class NginxDataPlane: @unchecked Sendable {
    let binary: String
    let prefix: String
    let port: Int
    private var process: SupervisedProcess?
    /// Counts applied configurations; each one's stamp is served at ``stampPath`` once its workers run.
    private let stamps = Locked(0)
    static let stampPath = "/.flap/config-stamp"
    static let stampPlaceholder = "@FLAP_CONFIG_STAMP@"
    static let servingTimeout = Duration.seconds(10)

    init(binary: String, directory: String, port: Int) throws {
        self.binary = binary
        self.prefix = directory
        self.port = port
        for sub in ["run", "logs", "tmp", "conf"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
    }

    var confPath: String { "\(self.prefix)/conf/nginx.conf" }

    func start(initial: String, labDirectory: String) throws {
        try self.stamped(initial).configuration.write(toFile: self.confPath, atomically: true, encoding: .utf8)
        try self.test()
        self.process = try SupervisedProcess(name: "nginx", executable: self.binary,
                                             arguments: ["-p", self.prefix, "-c", self.confPath, "-g", "daemon off;"],
                                             log: "\(self.prefix)/logs/stderr.log", cleanup: labDirectory)
        guard FreePort.waitUntilListening(self.port) else {
            throw LabError.dataPlane("nginx", "did not start listening on 127.0.0.1:\(self.port): \(self.process?.logTail ?? "")")
        }
    }

    func test() throws {
        let result = try ProcessLauncher.run(self.binary, ["-t", "-q", "-p", self.prefix, "-c", self.confPath])
        guard result.status == 0 else { throw LabError.dataPlane("nginx", "configuration rejected: \(result.stderr.suffix(600))") }
    }

    /// Writes the new configuration, checks it, and reloads (a new generation of workers; old ones drain).
    /// Returns the stamp the new workers serve at ``stampPath``.
    @discardableResult
    func apply(_ configuration: String) throws -> String {
        let (stamped, stamp) = self.stamped(configuration)
        let temporary = self.confPath + ".new"
        try stamped.write(toFile: temporary, atomically: true, encoding: .utf8)
        let check = try ProcessLauncher.run(self.binary, ["-t", "-q", "-p", self.prefix, "-c", temporary])
        guard check.status == 0 else { throw LabError.dataPlane("nginx", "configuration rejected, previous one kept: \(check.stderr.suffix(600))") }
        guard rename(temporary, self.confPath) == 0 else { throw LabError.dataPlane("nginx", "cannot replace \(self.confPath)") }
        let reload = try ProcessLauncher.run(self.binary, ["-s", "reload", "-p", self.prefix, "-c", self.confPath])
        guard reload.status == 0 else { throw LabError.dataPlane("nginx", "reload failed: \(reload.stderr.suffix(600))") }
        return stamp
    }

    private func stamped(_ configuration: String) -> (configuration: String, stamp: String) {
        let stamp = "config-\(self.stamps.next())"
        return (configuration.replacingOccurrences(of: Self.stampPlaceholder, with: stamp), stamp)
    }

    /// Waits until a new connection is answered with `stamp`: the reloaded workers serve the configuration.
    func awaitServing(_ stamp: String) async -> Bool { await Self.awaitStamp(stamp, port: self.port) }

    /// Waits until a new connection to `port` is answered with `stamp` (any proxy serving the lab's stamp path).
    static func awaitStamp(_ stamp: String, port: Int) async -> Bool {
        let deadline = ContinuousClock.now + Self.servingTimeout
        // A host no Ingress has: the default server answers.
        let request = HTTPClientRequest(url: URL(string: "http://flap-config-stamp.invalid\(Self.stampPath)")!, connectTo: "127.0.0.1:\(port)")
        while ContinuousClock.now < deadline, !Task.isCancelled {
            // A client of its own per attempt: a kept-alive connection could still reach an old worker.
            if let response = try? await SocketHTTPClient().execute(request, deadline: .now + .seconds(1)),
               String(decoding: response.body, as: UTF8.self) == stamp {
                return true
            }
            try? await Task.sleep(for: .milliseconds(2))
        }
        return false
    }

    var exitedUnexpectedly: Bool { self.process?.exitedUnexpectedly ?? false }
    var logTail: String { self.process?.logTail ?? "" }
    /// The master's pid; its children are the workers (of every generation still running).
    var masterPID: Int32? { self.process?.childPID }

    func stop() { self.process?.stop() }
}

/// Renders nginx.conf from Ingress objects with ingress-nginx's defaults: worker_shutdown_timeout 240s,
/// keep-alive 75s / 1000 requests, upstream keep-alive, Host passed with its port, X-Forwarded-* headers, and a
/// default backend answering 404.
struct NginxConfigRenderer {
    let prefix: String
    let port: Int

    func render(ingresses: [Ingress], backends: LabBackends) -> String {
        var upstreams: [String: [String]] = [:]
        var servers: [String: [String]] = [:]
        var claimed: Set<String> = []
        // The same host and path in two Ingresses: the oldest wins, as in ingress-nginx.
        let ordered = ingresses.sorted { ($0.metadata.creationTimestamp ?? "", $0.namespace ?? "", $0.name) < ($1.metadata.creationTimestamp ?? "", $1.namespace ?? "", $1.name) }
        for ingress in ordered where (ingress.spec.ingressClassName ?? "nginx") == "nginx" {
            let namespace = ingress.namespace ?? "default"
            let headers = Self.snippetHeaders(ingress.metadata.annotations["nginx.ingress.kubernetes.io/configuration-snippet"])
            for rule in ingress.spec.rules {
                let host = rule.host ?? "_"
                for path in rule.paths {
                    guard let service = path.backend.serviceName else { continue }
                    let location = path.pathType == "Exact" ? "= \(path.path ?? "/")" : (path.path ?? "/")
                    guard claimed.insert("\(host) \(location)").inserted else { continue }
                    let upstream = "\(namespace)-\(service)-\(path.backend.servicePort.map(String.init) ?? path.backend.servicePortName ?? "0")"
                    var block = "        location \(location) {\n"
                    switch backends.resolve(namespace: namespace, service: service, port: path.backend.servicePort, portName: path.backend.servicePortName) {
                    case .endpoints(let endpoints):
                        upstreams[upstream] = endpoints
                        block += """
                                    proxy_http_version 1.1;
                                    proxy_set_header Connection "";
                                    proxy_set_header Host $http_host;
                                    proxy_set_header X-Forwarded-For $remote_addr;
                                    proxy_set_header X-Forwarded-Host $http_host;
                                    proxy_set_header X-Forwarded-Port $server_port;
                                    proxy_set_header X-Forwarded-Proto $scheme;
                                    proxy_buffering off;
                                    proxy_pass http://\(upstream);
                                    add_header X-Flap-Backend "\(service)" always;

                        """
                        for (name, value) in headers { block += "            add_header \(name) \"\(value)\" always;\n" }
                    case .noEndpoints, .invalid:
                        // ingress-nginx answers 503 for a backend without endpoints, and for one it cannot find.
                        block += "            return 503 \"no endpoints for service \(namespace)/\(service)\\n\";\n"
                    }
                    block += "        }\n"
                    servers[host, default: []].append(block)
                }
            }
        }
        var text = """
        worker_processes 2;
        pid \(self.prefix)/run/nginx.pid;
        error_log \(self.prefix)/logs/error.log notice;
        worker_rlimit_nofile 65536;
        worker_shutdown_timeout 240s;
        events { worker_connections 16384; multi_accept on; }
        http {
            access_log off;
            client_body_temp_path \(self.prefix)/tmp/body;
            proxy_temp_path \(self.prefix)/tmp/proxy;
            fastcgi_temp_path \(self.prefix)/tmp/fastcgi;
            uwsgi_temp_path \(self.prefix)/tmp/uwsgi;
            scgi_temp_path \(self.prefix)/tmp/scgi;
            keepalive_timeout 75s;
            keepalive_requests 1000;
            server_names_hash_max_size 65536;
            server_names_hash_bucket_size 128;
            proxy_connect_timeout 5s;
            proxy_read_timeout 60s;
            proxy_send_timeout 60s;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 3;

        """
        for (name, endpoints) in upstreams.sorted(by: { $0.key < $1.key }) {
            let servers = endpoints.map { "        server \($0) max_fails=0;\n" }.joined()
            text += "    upstream \(name) {\n\(servers)        keepalive 320;\n        keepalive_timeout 60s;\n        keepalive_requests 10000;\n    }\n"
        }
        text += "    server {\n        listen 127.0.0.1:\(self.port) default_server reuseport backlog=4096;\n        server_name _;\n"
        // Which configuration the answering worker runs (the lab's measure of "served"; not in ingress-nginx).
        text += "        location = \(NginxDataPlane.stampPath) { return 200 \"\(NginxDataPlane.stampPlaceholder)\"; }\n"
        // Rules without a host live in the default server, as in ingress-nginx; otherwise it is the 404 backend.
        text += servers["_"]?.joined() ?? "        location / { return 404 \"default backend - 404\\n\"; }\n"
        text += "    }\n"
        for (host, locations) in servers.sorted(by: { $0.key < $1.key }) where host != "_" {
            text += "    server {\n        listen 127.0.0.1:\(self.port);\n        server_name \(host);\n" + locations.joined() + "    }\n"
        }
        return text + "}\n"
    }

    /// `more_set_headers "Name: value";` (ingress-nginx's headers-more) becomes `add_header`.
    static func snippetHeaders(_ snippet: String?) -> [(String, String)] {
        guard let snippet, let range = snippet.range(of: #"more_set_headers "([^":]+):\s*([^"]*)""#, options: .regularExpression) else { return [] }
        let inner = snippet[range].dropFirst("more_set_headers \"".count).dropLast()
        let parts = inner.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        return parts.count == 2 ? [(parts[0], parts[1])] : []
    }
}
