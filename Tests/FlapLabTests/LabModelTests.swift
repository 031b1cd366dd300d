@testable import FlapLab
import FlapFakes
import FlapJSON
import Foundation
import KubeClient
import XCTest

/// The lab's cluster model without proxies: EndpointSlices derived from pods, backend resolution, the renderers'
/// merging of routes that share a host, and `--manifests` errors.
final class LabModelTests: XCTestCase {
    static func pod(_ name: String, namespace: String = "default", labels: [String: String], ports: [(String, Int)], running: Bool = true) -> KubeObject {
        var object = LabPod(name: name, namespace: namespace, role: .coordinator, index: 0, ports: ports.map { .init(name: $0.0, port: $0.1) }).object
        object.metadata.labels = labels
        if !running { object.json.setValue("Pending", at: "status.phase") }
        return object
    }

    static func service(_ name: String, namespace: String = "default", selector: [String: String], ports: [JSONValue]) -> KubeObject {
        KubeObject(json: ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name), "namespace": .string(namespace)],
                          "spec": ["selector": .object(selector.mapValues(JSONValue.string)), "ports": .array(ports)]])
    }

    func testSlicesFollowSelectorsNamespacesNamedPortsAndPortSets() {
        let pods = [
            Self.pod("a", labels: ["app": "trino"], ports: [("http", 4001)]),
            Self.pod("b", labels: ["app": "trino"], ports: [("http", 4002)]),
            Self.pod("pending", labels: ["app": "trino"], ports: [("http", 4003)], running: false),
            Self.pod("elsewhere", namespace: "other", labels: ["app": "trino"], ports: [("http", 4004)]),
            Self.pod("no-http", labels: ["app": "trino"], ports: [("admin", 4005)]),
        ]
        let services = [
            Self.service("named", selector: ["app": "trino"], ports: [["name": "web", "port": 8080, "targetPort": "http"]]),
            Self.service("numeric", selector: ["app": "trino"], ports: [["port": 8080, "targetPort": 9999]]),
            Self.service("nobody", selector: ["app": "nobody"], ports: [["port": 8080]]),
        ]
        let derived = EndpointSliceDerivation.slices(services: services, pods: pods)
        func slices(of service: String) -> [KubeObject] { derived.filter { $0.metadata.labels["kubernetes.io/service-name"] == service } }
        // Two running pods with different port numbers for `http`: two slices, as the real controller groups them.
        let named = slices(of: "named")
        XCTAssertEqual(named.count, 2)
        XCTAssertEqual(Set(named.compactMap { $0.json["ports"]?.arrayValue?.first?["port"]?.intValue }), [4001, 4002])
        XCTAssertTrue(named.allSatisfy { $0.json["ports"]?.arrayValue?.first?["name"] == "web" }, "a slice port carries the Service port's name")
        XCTAssertFalse(named.contains { $0.json.serialized.contains("pending") || $0.json.serialized.contains("elsewhere") || $0.json.serialized.contains("no-http") })
        // A numeric targetPort is taken as it is, for every selected pod: one slice with all four.
        let numeric = slices(of: "numeric")
        XCTAssertEqual(numeric.count, 1)
        XCTAssertEqual(numeric.first?.json["endpoints"]?.arrayValue?.count, 3)
        XCTAssertEqual(numeric.first?.json["ports"]?.arrayValue?.first?["port"], 9999)
        // No pods: one empty slice.
        XCTAssertEqual(slices(of: "nobody").first?.json["endpoints"], [])

        let backends = LabBackends(services: services, slices: derived)
        XCTAssertEqual(backends.resolve(namespace: "default", service: "named", port: 8080), .endpoints(["127.0.0.1:4001", "127.0.0.1:4002"]))
        XCTAssertEqual(backends.resolve(namespace: "default", service: "named", port: nil, portName: "web"), .endpoints(["127.0.0.1:4001", "127.0.0.1:4002"]))
        XCTAssertEqual(backends.resolve(namespace: "default", service: "nobody", port: 8080), .noEndpoints)
        XCTAssertEqual(backends.resolve(namespace: "default", service: "named", port: 81), .invalid("Service default/named has no port 81"))
        XCTAssertEqual(backends.resolve(namespace: "other", service: "named", port: 8080), .invalid("Service other/named not found"))
        var crossNamespace = HTTPRoute.BackendRef(name: "named", port: 8080)
        crossNamespace.json[member: "namespace"] = "default"
        guard case .invalid(let why) = backends.resolve(crossNamespace, from: "team") else { return XCTFail("a cross-namespace ref needs a ReferenceGrant") }
        XCTAssertTrue(why.hasPrefix("RefNotPermitted"), why)
    }

    func testTheSliceControllerKeepsSlicesInStepWithPodsAndServices() async throws {
        let api = try FakeKubeAPIServer()
        defer { api.stop() }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        try await kube.create(Self.service("trino", selector: ["app": "trino"], ports: [["name": "http", "port": 8080, "targetPort": "http"]]))
        let pod = try await kube.create(Self.pod("a", labels: ["app": "trino"], ports: [("http", 4001)]))
        var running = pod
        running.json[member: "status"] = Self.pod("a", labels: [:], ports: []).json["status"]
        try await kube.replaceStatus(running)
        try await LabEndpointSliceController.sync(kube)
        var backends = try await LabBackends.load(kube)
        XCTAssertEqual(backends.resolve(namespace: "default", service: "trino", port: 8080), .endpoints(["127.0.0.1:4001"]))
        _ = try await kube.delete(.pod, name: "a", namespace: "default")
        try await LabEndpointSliceController.sync(kube)
        backends = try await LabBackends.load(kube)
        XCTAssertEqual(backends.resolve(namespace: "default", service: "trino", port: 8080), .noEndpoints)
        let remaining = try await kube.listAll(.endpointSlice, namespace: KubeClient.allNamespaces).items
        XCTAssertEqual(remaining.count, 1, "the old slice went, an empty one stays")
        _ = try await kube.delete(.service, name: "trino", namespace: "default")
        try await LabEndpointSliceController.sync(kube)
        let none = try await kube.listAll(.endpointSlice, namespace: KubeClient.allNamespaces).items
        XCTAssertEqual(none.count, 0)
    }

    func testRoutesSharingAHostShareOneVirtualHostAndTheOlderIngressWins() throws {
        let backends = LabBackends(services: [Self.service("trino", selector: ["app": "trino"], ports: [["port": 8080, "targetPort": "http"]])],
                                   slices: EndpointSliceDerivation.slices(services: [Self.service("trino", selector: ["app": "trino"], ports: [["port": 8080, "targetPort": "http"]])],
                                                                          pods: [Self.pod("a", labels: ["app": "trino"], ports: [("http", 4001)])]))
        func route(_ name: String, _ namespace: String, created: String, prefix: String) -> HTTPRoute {
            var route = HTTPRoute(name: name, namespace: namespace)
            route.metadata.json[member: "creationTimestamp"] = .string(created)
            route.spec.hostnames = ["localhost"]
            route.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080)], pathPrefix: prefix)]
            return route
        }
        let rendered = EnvoyGatewayTranslator().translate(routes: [route("new", "default", created: "2026-02-01T00:00:00Z", prefix: "/"),
                                                                   route("old", "team", created: "2026-01-01T00:00:00Z", prefix: "/"),
                                                                   route("long", "default", created: "2026-03-01T00:00:00Z", prefix: "/v1/statement")],
                                                          backends: backends)
        let hosts = rendered.routes.arrayValue?.first?["virtual_hosts"]?.arrayValue ?? []
        XCTAssertEqual(hosts.count, 1, "Envoy refuses a domain in two virtual hosts")
        let prefixes = hosts.first?["routes"]?.arrayValue?.compactMap { $0.value(at: "match.prefix")?.stringValue }
        XCTAssertEqual(prefixes, ["/v1/statement", "/", "/"], "the longer match first")
        let names = hosts.first?["routes"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        XCTAssertEqual(names, ["httproute/default/long/rule/0/match/0", "httproute/team/old/rule/0/match/0", "httproute/default/new/rule/0/match/0"],
                       "then the older route")
        XCTAssertEqual(hosts.first?["routes"]?.arrayValue?[1]["direct_response"], ["status": 500], "team has no Service trino: an invalid backend")

        func ingress(_ name: String, created: String, service: String) -> Ingress {
            var ingress = Ingress(name: name, namespace: "default")
            ingress.metadata.json[member: "creationTimestamp"] = .string(created)
            ingress.spec.rules = [Ingress.Rule(host: "localhost", paths: [Ingress.Path(backend: Ingress.Backend(service: service, port: 8080))])]
            return ingress
        }
        let nginx = NginxConfigRenderer(prefix: "/tmp/x", port: 1).render(ingresses: [ingress("b-new", created: "2026-02-01T00:00:00Z", service: "missing"),
                                                                                      ingress("a-old", created: "2026-01-01T00:00:00Z", service: "trino")],
                                                                          backends: backends)
        let localhost = try XCTUnwrap(nginx.components(separatedBy: "server_name localhost;").dropFirst().first)
        XCTAssertEqual(localhost.components(separatedBy: "location / {").count - 1, 1, "one location per host and path: nginx refuses duplicates")
        XCTAssertTrue(nginx.contains("server 127.0.0.1:4001"), "the older Ingress wins, as in ingress-nginx")
        XCTAssertFalse(nginx.contains("no endpoints for service default/missing"))
    }

    func testBadManifestsAreRefusedBeforeAnythingIsWritten() async throws {
        let api = try FakeKubeAPIServer()
        defer { api.stop() }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        let directory = NSTemporaryDirectory() + "flap-manifests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func refusal(_ path: String) async -> String {
            do {
                _ = try await LabManifests.apply(path, kube: kube)
                return "applied"
            } catch let error as LabError {
                XCTAssertEqual(error.code, .badManifest)
                return error.message
            } catch { return "\(error)" }
        }
        var message = await refusal(directory + "/nope")
        XCTAssertTrue(message.contains("does not exist"), message)
        message = await refusal(directory)
        XCTAssertTrue(message.contains("has no .yaml, .yml or .json file"), message)
        try "apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n".write(toFile: directory + "/a.yaml", atomically: true, encoding: .utf8)
        try "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: trino}\n".write(toFile: directory + "/b.yaml", atomically: true, encoding: .utf8)
        message = await refusal(directory)
        XCTAssertTrue(message.contains("b.yaml: Deployment apps/v1 is not a kind the lab serves"), message)
        XCTAssertNil(api.object(.namespace, name: "team", namespace: nil), "nothing was written")
        try "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: team}\ndata: [1\n".write(toFile: directory + "/b.yaml", atomically: true, encoding: .utf8)
        message = await refusal(directory)
        XCTAssertTrue(message.contains("b.yaml"), message)
        try "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: team}\ndata: {a: b}\n".write(toFile: directory + "/b.yaml", atomically: true, encoding: .utf8)
        let applied = try await LabManifests.apply(directory, kube: kube)
        XCTAssertEqual(applied.map(\.name), ["team", "x"])
        _ = try await LabManifests.apply(directory, kube: kube)
        XCTAssertNotNil(api.object(.configMap, name: "x", namespace: "team"), "applying again replaces")
    }
}
