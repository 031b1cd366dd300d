import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// A tiny in-process reverse proxy that routes by Host and path according to the Ingress or HTTPRoute objects
/// in a `FakeKubeAPIServer`, for testing flap's engine (attribution, phases, propagation) without real proxies.
/// It is not a data plane and nothing it does is ever reported as a proxy measurement: the lab uses nginx and Envoy.
public final class FakeRouteProxy: Sendable {
    public enum Mode: Sendable { case ingress, httpRoute }

    private let server: HTTPServer
    public var url: URL { self.server.baseURL }
    public var port: Int { self.server.port }

    /// - Parameter services: Service name -> where it listens.
    public init(mode: Mode, api: FakeKubeAPIServer, namespace: String = "default", services: [String: URL]) throws {
        let upstream = SocketHTTPClient()
        self.server = try HTTPServer { request in
            Self.forward(request, mode: mode, api: api, namespace: namespace, services: services, upstream: upstream)
        }
    }

    public func stop() { self.server.stop() }

    /// Closes every client connection, as a proxy reload would.
    public func dropAllConnections() { self.server.dropAllConnections() }

    struct Decision {
        var service: String
        var headers: [(String, String)]
    }

    private static func forward(_ request: HTTPServerRequest, mode: Mode, api: FakeKubeAPIServer, namespace: String,
                                services: [String: URL], upstream: SocketHTTPClient) -> HTTPServerResponse {
        let host = String((request.headers["Host"] ?? "").split(separator: ":").first ?? "")
        let decision = mode == .ingress ? self.ingress(api, namespace, host, request.path) : self.httpRoute(api, namespace, host, request.path)
        guard let decision, let base = services[decision.service] else {
            return .text("default backend - 404\n", status: 404)
        }
        var forwarded = HTTPClientRequest(method: request.method, url: URL(string: base.absoluteString + request.target)!, headers: request.headers, body: request.body)
        forwarded.headers.set("Host", request.headers["Host"] ?? host)
        let semaphore = DispatchSemaphore(value: 0)
        let box = ResponseBox()
        Task {
            do { box.result = .success(try await upstream.execute(forwarded, deadline: .now + .seconds(30))) } catch { box.result = .failure(error) }
            semaphore.signal()
        }
        semaphore.wait()
        guard case .success(let response)? = box.result else { return .text("upstream failed\n", status: 502) }
        var headers = response.headers
        headers.remove("Content-Length")
        headers.remove("Transfer-Encoding")
        headers.remove("Connection")
        headers.set("X-Flap-Backend", decision.service)
        for (name, value) in decision.headers { headers.set(name, value) }
        return HTTPServerResponse(status: response.status, headers: headers, body: response.body)
    }

    private static func ingress(_ api: FakeKubeAPIServer, _ namespace: String, _ host: String, _ path: String) -> Decision? {
        for object in api.objects(.ingress, namespace: namespace) {
            let ingress = Ingress(json: object.json)
            for rule in ingress.spec.rules where rule.host == nil || rule.host == host {
                for candidate in rule.paths where path.hasPrefix(candidate.path ?? "/") {
                    guard let service = candidate.backend.serviceName else { continue }
                    var headers: [(String, String)] = []
                    if let snippet = ingress.metadata.annotations["nginx.ingress.kubernetes.io/configuration-snippet"],
                       let range = snippet.range(of: #"more_set_headers "([^:]+): ([^"]*)""#, options: .regularExpression) {
                        let inner = snippet[range].dropFirst("more_set_headers \"".count).dropLast()
                        let parts = inner.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                        if parts.count == 2 { headers.append((parts[0], parts[1])) }
                    }
                    return Decision(service: service, headers: headers)
                }
            }
        }
        return nil
    }

    private static func httpRoute(_ api: FakeKubeAPIServer, _ namespace: String, _ host: String, _ path: String) -> Decision? {
        for object in api.objects(.httpRoute, namespace: namespace) {
            let route = HTTPRoute(json: object.json)
            guard route.spec.hostnames.isEmpty || route.spec.hostnames.contains(host) else { continue }
            for rule in route.spec.rules {
                let refs = rule.backendRefs.filter { ($0.weight ?? 1) > 0 }
                guard !refs.isEmpty else { continue }
                let total = refs.reduce(0) { $0 + ($1.weight ?? 1) }
                var pick = Int.random(in: 0..<total)
                var chosen = refs[0]
                for ref in refs {
                    pick -= ref.weight ?? 1
                    if pick < 0 { chosen = ref; break }
                }
                let headers = rule.filters.flatMap { $0.responseHeadersSet.map { ($0.name, $0.value) } }
                return Decision(service: chosen.name, headers: headers)
            }
        }
        return nil
    }
}

private final class ResponseBox: @unchecked Sendable {
    var result: Result<HTTPClientResponse, any Error>?
}
