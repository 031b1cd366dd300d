import FlapJSON
import Foundation
import KubeClient

/// What an HAProxy profile makes of the routes: the configuration around the servers, and each backend's servers.
/// Servers are kept apart because HAProxy's controllers change them through the runtime API (server slots), and
/// reload only when anything else changes.
struct HAProxyConfiguration: Equatable, Sendable {
    struct Server: Equatable, Hashable, Sendable {
        /// `127.0.0.1:<port>`.
        var address: String
        var weight: Int
        /// The Service it belongs to (the lab's `X-Flap-Backend`).
        var service: String
    }

    struct Backend: Equatable, Sendable {
        var name: String
        var directives: [String]
        var servers: [Server]
    }

    /// The global, defaults and frontend sections, with ``NginxDataPlane/stampPlaceholder`` for the stamp.
    var head: String
    var backends: [Backend]

    /// Everything a reload would change; equal skeletons differ only in servers.
    var skeleton: [String] { [self.head] + self.backends.map { "\($0.name)\n" + $0.directives.joined(separator: "\n") } }
}

/// The translation of HAProxy's Kubernetes controllers (haproxytech's template: master-worker, a runtime socket
/// with `expose-fd listeners`, its default timeouts, `balance roundrobin`, server slots `SRV_<n>`): a backend per
/// Service port `<ns>_<service>_<port>` for Ingresses (of class `haproxy`, or none), one per HTTPRoute rule
/// `<ns>_<route>_rule<i>` whose servers carry their backendRef's weight, a frontend choosing backends by host
/// and path, 404 from the default backend, 503 from a backend without servers, 500 for a rule whose backendRefs
/// are all invalid.
struct HAProxyTranslator {
    let directory: String
    let port: Int

    var runtimeSocket: String { "\(self.directory)/run/runtime.sock" }
    static let invalidBackend = "flap_invalid_backend_500"
    static let defaultBackend = "flap_default_backend_404"

    static func backendName(namespace: String, service: String, port: String) -> String { "\(namespace)_\(service)_\(port)" }

    private struct Use {
        var host: String
        var path: String
        var exact: Bool
        var backend: String
        var headers: [(name: String, value: String)]
        var precedence: RulePrecedence
    }

    func translate(ingresses: [Ingress], httpRoutes: [HTTPRoute], backends: LabBackends) -> HAProxyConfiguration {
        var uses: [Use] = []
        var out: [String: HAProxyConfiguration.Backend] = [:]
        var claimed: Set<String> = []
        let ordered = ingresses.sorted { ($0.metadata.creationTimestamp ?? "", $0.namespace ?? "", $0.name) < ($1.metadata.creationTimestamp ?? "", $1.namespace ?? "", $1.name) }
        for ingress in ordered where ["haproxy", nil].contains(ingress.spec.ingressClassName) {
            let namespace = ingress.namespace ?? "default"
            for rule in ingress.spec.rules {
                for path in rule.paths {
                    guard let service = path.backend.serviceName else { continue }
                    let exact = path.pathType == "Exact"
                    let value = path.path ?? "/"
                    guard claimed.insert("\(rule.host ?? "") \(exact ? "=" : "")\(value)").inserted else { continue }
                    let port = path.backend.servicePort.map(String.init) ?? path.backend.servicePortName ?? "0"
                    let name = Self.backendName(namespace: namespace, service: service, port: port)
                    switch backends.resolve(namespace: namespace, service: service, port: path.backend.servicePort, portName: path.backend.servicePortName) {
                    case .endpoints(let endpoints):
                        out[name] = self.backend(name, servers: endpoints.map { .init(address: $0, weight: 1, service: service) })
                    case .noEndpoints, .invalid:
                        out[name] = self.backend(name, servers: [])  // no server available: 503
                    }
                    uses.append(Use(host: rule.host ?? "", path: value, exact: exact, backend: name, headers: [],
                                    precedence: RulePrecedence(exact: exact, length: value.count, created: ingress.metadata.creationTimestamp ?? "",
                                                               name: "\(namespace)/\(ingress.name)")))
                }
            }
        }
        for route in httpRoutes {
            let namespace = route.namespace ?? "default"
            for (index, rule) in route.spec.rules.enumerated() {
                var servers: [HAProxyConfiguration.Server] = []
                var valid = false
                for ref in rule.backendRefs {
                    switch backends.resolve(ref, from: namespace) {
                    case .endpoints(let endpoints):
                        valid = true
                        servers += endpoints.map { .init(address: $0, weight: min(256, ref.weight ?? 1), service: ref.name) }
                    case .noEndpoints: valid = true
                    case .invalid: break
                    }
                }
                let name = "\(namespace)_\(route.name)_rule\(index)"
                out[name] = self.backend(name, servers: servers)
                let backend = valid || rule.backendRefs.isEmpty ? name : Self.invalidBackend
                let headers = rule.filters.flatMap(\.responseHeadersSet)
                let matches: [JSONValue?] = rule.matches.isEmpty ? [nil] : rule.matches.map { $0 }
                for match in matches {
                    let value = match?["path"]?["value"]?.stringValue ?? "/"
                    let exact = match?["path"]?["type"]?.stringValue == "Exact"
                    for host in route.spec.hostnames.isEmpty ? [""] : route.spec.hostnames {
                        uses.append(Use(host: host, path: value, exact: exact, backend: backend, headers: headers,
                                        precedence: RulePrecedence(exact: exact, length: value.count, created: route.metadata.creationTimestamp ?? "",
                                                                   name: "\(namespace)/\(route.name)")))
                    }
                }
            }
        }
        return HAProxyConfiguration(head: self.head(uses.sorted { $0.precedence < $1.precedence }),
                                    backends: out.keys.sorted().map { out[$0]! } + self.fixedBackends)
    }

    private func backend(_ name: String, servers: [HAProxyConfiguration.Server]) -> HAProxyConfiguration.Backend {
        .init(name: name, directives: ["mode http", "balance roundrobin", "option forwardfor", "no option abortonclose"], servers: servers)
    }

    private var fixedBackends: [HAProxyConfiguration.Backend] {
        [.init(name: Self.defaultBackend, directives: ["mode http", "http-request return status 404"], servers: []),
         .init(name: Self.invalidBackend, directives: ["mode http", "http-request return status 500"], servers: [])]
    }

    private func head(_ uses: [Use]) -> String {
        var text = """
        global
            master-worker
            pidfile \(self.directory)/run/haproxy.pid
            stats socket \(self.runtimeSocket) mode 600 level admin expose-fd listeners
            hard-stop-after 30m
        defaults
            mode http
            timeout http-request 5s
            timeout connect 5s
            timeout client 50s
            timeout queue 5s
            timeout server 50s
            timeout tunnel 1h
            timeout http-keep-alive 60s
        frontend http
            bind 127.0.0.1:\(self.port) name v4
            http-request return status 200 content-type text/plain string "\(NginxDataPlane.stampPlaceholder)" if { path \(NginxDataPlane.stampPath) }
            http-request set-var(txn.host) req.hdr(host),field(1,:),lower
            http-response set-var(res.server) srv_name
            http-response set-header X-Flap-Backend %[be_name,concat(/,res.server),map(\(self.serviceMap))] if { var(res.server) -m found }

        """
        // The first matching rule (in precedence order) names the backend and any response headers it sets.
        for (index, use) in uses.enumerated() {
            let host = use.host.isEmpty ? "" : " { var(txn.host) -m str \(use.host.lowercased()) }"
            let path = use.exact ? " { path \(use.path) }" : (use.path == "/" ? "" : " { path_beg \(use.path) }")
            text += "    http-request set-var(txn.rule) int(\(index)) if\(host)\(path) !{ var(txn.rule) -m found }\n"
        }
        for (index, use) in uses.enumerated() {
            text += "    use_backend \(use.backend) if { var(txn.rule) -m int \(index) }\n"
            for header in use.headers {
                text += "    http-response set-header \(header.name) \"\(header.value)\" if { var(txn.rule) -m int \(index) }\n"
            }
        }
        return text + "    default_backend \(Self.defaultBackend)\n"
    }

    /// The lab's instrumentation, not the controllers': which Service each `<backend>/SRV_<n>` slot serves.
    var serviceMap: String { "\(self.directory)/conf/services.map" }
}
