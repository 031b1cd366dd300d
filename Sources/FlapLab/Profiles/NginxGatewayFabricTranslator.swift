import FlapJSON
import Foundation
import KubeClient

/// NGINX Gateway Fabric's translation of HTTPRoutes into nginx.conf (with NGINX OSS, which it reloads on every
/// change, endpoint changes included: nginx/nginx-gateway-fabric#5524): a server per hostname, a location per
/// path match, an upstream per Service port named `<ns>_<service>_<port>` (`random two least_conn`, a shared zone,
/// upstream keep-alive 16), weighted backends through `split_clients`, a Service without endpoints sent to an
/// internal server answering 503 and an invalid backendRef to one answering 500, as NGF's own stubs do. nginx's
/// defaults stand where NGF sets nothing (keep-alive 75 s; no worker_shutdown_timeout, so old workers wait for
/// their requests).
struct NginxGatewayFabricTranslator {
    let prefix: String
    let port: Int

    static func upstreamName(namespace: String, service: String, port: Int) -> String { "\(namespace)_\(service)_\(port)" }
    static let invalidBackend = "invalid-backend-ref"
    static let noEndpoints = "no-endpoints-503"

    var socket503: String { "\(self.prefix)/run/nginx-503-server.sock" }
    var socket500: String { "\(self.prefix)/run/nginx-500-server.sock" }

    func render(routes: [HTTPRoute], backends: LabBackends) -> String {
        var upstreams: [String: [String]] = [:]
        var serviceOfEndpoint: [String: String] = [:]
        var splits: [String: [(percent: Double, upstream: String)]] = [:]
        var hostLocations: [String: [(precedence: RulePrecedence, block: String)]] = [:]
        for route in routes {
            let namespace = route.namespace ?? "default"
            for (index, rule) in route.spec.rules.enumerated() {
                let refs = rule.backendRefs.filter { ($0.weight ?? 1) > 0 }
                let targets: [(weight: Int, upstream: String)] = refs.map { ref in
                    switch backends.resolve(ref, from: namespace) {
                    case .endpoints(let endpoints):
                        let name = Self.upstreamName(namespace: namespace, service: ref.name, port: ref.port ?? 0)
                        upstreams[name] = endpoints
                        for endpoint in endpoints { serviceOfEndpoint[endpoint] = ref.name }
                        return (ref.weight ?? 1, name)
                    case .noEndpoints:
                        let name = Self.upstreamName(namespace: namespace, service: ref.name, port: ref.port ?? 0)
                        upstreams[name] = ["unix:\(self.socket503)"]
                        return (ref.weight ?? 1, name)
                    case .invalid:
                        return (ref.weight ?? 1, Self.invalidBackend)
                    }
                }
                let pass: String
                if targets.count > 1 {
                    let variable = "group_\(namespace)__\(route.name)_rule\(index)".replacingOccurrences(of: "-", with: "_")
                    let total = Double(targets.map(\.weight).reduce(0, +))
                    splits[variable] = targets.map { (Double($0.weight) * 100 / total, $0.upstream) }
                    pass = "http://$\(variable)$request_uri"
                } else if let only = targets.first {
                    pass = "http://\(only.upstream)$request_uri"
                } else {
                    pass = "http://\(Self.invalidBackend)$request_uri"
                }
                let headers = rule.filters.flatMap(\.responseHeadersSet)
                let matches: [JSONValue?] = rule.matches.isEmpty ? [nil] : rule.matches.map { $0 }
                for match in matches {
                    let value = match?["path"]?["value"]?.stringValue ?? "/"
                    let exact = match?["path"]?["type"]?.stringValue == "Exact"
                    var block = "        location \(exact ? "= " : "")\(value) {\n"
                    block += """
                                proxy_http_version 1.1;
                                proxy_set_header Connection "";
                                proxy_set_header Host "$gw_api_compliant_host";
                                proxy_set_header X-Forwarded-For "$proxy_add_x_forwarded_for";
                                proxy_set_header X-Real-IP "$remote_addr";
                                proxy_set_header X-Forwarded-Proto "$scheme";
                                proxy_set_header X-Forwarded-Host "$host";
                                proxy_set_header X-Forwarded-Port "$server_port";
                                proxy_pass \(pass);

                    """
                    block += "            add_header X-Flap-Backend $flap_backend always;\n"
                    for header in headers { block += "            add_header \(header.name) \"\(header.value)\" always;\n" }
                    block += "        }\n"
                    let precedence = RulePrecedence(exact: exact, length: value.count, created: route.metadata.creationTimestamp ?? "",
                                                    name: "\(namespace)/\(route.name)")
                    for hostname in route.spec.hostnames.isEmpty ? ["_"] : route.spec.hostnames {
                        hostLocations[hostname, default: []].append((precedence, block))
                    }
                }
            }
        }
        var text = """
        worker_processes 2;
        pid \(self.prefix)/run/nginx.pid;
        error_log \(self.prefix)/logs/error.log notice;
        worker_rlimit_nofile 65536;
        events { worker_connections 16384; }
        http {
            access_log off;
            client_body_temp_path \(self.prefix)/tmp/body;
            proxy_temp_path \(self.prefix)/tmp/proxy;
            fastcgi_temp_path \(self.prefix)/tmp/fastcgi;
            uwsgi_temp_path \(self.prefix)/tmp/uwsgi;
            scgi_temp_path \(self.prefix)/tmp/scgi;
            server_names_hash_bucket_size 512;
            server_names_hash_max_size 1024;
            variables_hash_bucket_size 512;
            variables_hash_max_size 1024;
            map_hash_bucket_size 512;
            map_hash_max_size 2048;
            map $http_host $gw_api_compliant_host { '' $host; default $http_host; }

        """
        // The lab's instrumentation, not NGF's: which Service answered, from the endpoint nginx chose.
        text += "    map $upstream_addr $flap_backend {\n        default \"\";\n"
        text += serviceOfEndpoint.sorted { $0.key < $1.key }.map { "        \"\($0.key)\" \"\($0.value)\";\n" }.joined()
        text += "    }\n"
        for (variable, distribution) in splits.sorted(by: { $0.key < $1.key }) {
            text += "    split_clients $request_id $\(variable) {\n"
            for (index, part) in distribution.enumerated() {
                // split_clients needs the parts to add up to at most 100%; the last takes the rest (`*`).
                if index == distribution.count - 1 {
                    text += "        * \(part.upstream);\n"
                } else {
                    let percent = (part.percent * 100).rounded(.down) / 100
                    text += "        \(String(format: "%.2f", percent))% \(part.upstream);\n"
                }
            }
            text += "    }\n"
        }
        for (name, servers) in upstreams.sorted(by: { $0.key < $1.key }) {
            text += "    upstream \(name) {\n        random two least_conn;\n        zone \(name) 512k;\n"
            text += servers.map { "        server \($0);\n" }.joined()
            text += "        keepalive 16;\n    }\n"
        }
        text += "    upstream \(Self.invalidBackend) {\n        server unix:\(self.socket500);\n    }\n"
        // NGF's stubs: internal servers answering for backends it cannot send to.
        text += "    server {\n        listen unix:\(self.socket503);\n        access_log off;\n        return 503;\n    }\n"
        text += "    server {\n        listen unix:\(self.socket500);\n        access_log off;\n        return 500;\n    }\n"
        text += "    server {\n        listen 127.0.0.1:\(self.port) default_server reuseport backlog=4096;\n        server_name _;\n"
        text += "        location = \(NginxDataPlane.stampPath) { return 200 \"\(NginxDataPlane.stampPlaceholder)\"; }\n"
        if let unnamed = hostLocations["_"] {
            text += unnamed.sorted { $0.precedence < $1.precedence }.map(\.block).joined()
        } else {
            text += "        location / { return 404; }\n"
        }
        text += "    }\n"
        for (host, locations) in hostLocations.sorted(by: { $0.key < $1.key }) where host != "_" {
            // nginx refuses one location twice in a server: the higher-precedence rule keeps it.
            var seen: Set<String> = []
            let blocks = locations.sorted { $0.precedence < $1.precedence }.map(\.block)
                .filter { seen.insert(String($0.prefix { $0 != "{" })).inserted }
            text += "    server {\n        listen 127.0.0.1:\(self.port);\n        server_name \(host);\n" + blocks.joined() + "    }\n"
        }
        return text + "}\n"
    }
}
