import FlapSystem
import FlapFakes
import Foundation
import KubeClient
import XCTest

/// Real clients against the fake: kubectl (also as our kubectl-proxy transport) and the official Python client.
final class PeerClientTests: XCTestCase {
    struct Run: Sendable { var status: Int32; var stdout: String; var stderr: String }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:], stopAfter: Duration? = nil) throws -> Run {
        let output = try ProcessLauncher.run(executable, arguments, environment: environment, terminateAfter: stopAfter)
        return Run(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }

    private func which(_ name: String) throws -> String {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/\(name)" }
        return try XCTUnwrap(path.first(where: FileManager.default.isExecutableFile(atPath:)), "\(name) must be installed for this test")
    }

    func testKubectlGetApplyServerSideDeleteAndWatch() async throws {
        let kubectl = try self.which("kubectl")
        let dir = try TempDirectory()
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let env = ["KUBECONFIG": try server.writeKubeconfig(to: "\(dir.path)/kubeconfig")]
        let manifest = try dir.write("route.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: web}
        spec:
          parentRefs: [{name: gw}]
          rules:
          - backendRefs: [{name: trino, port: 8080}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: web}
        spec:
          rules:
          - host: web.example.com
            http:
              paths: [{path: /, pathType: Prefix, backend: {service: {name: trino, port: {number: 8080}}}}]
        """)
        var result = try Self.run(kubectl, ["get", "namespaces", "-o", "name"], environment: env)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "namespace/default\nnamespace/kube-public\nnamespace/kube-system\n")
        result = try Self.run(kubectl, ["apply", "--validate=false", "-f", manifest], environment: env)
        XCTAssertEqual(result.stdout, "httproute.gateway.networking.k8s.io/web created\ningress.networking.k8s.io/web created\n", result.stderr)
        result = try Self.run(kubectl, ["apply", "--validate=false", "-f", manifest], environment: env)
        // As against a real cluster: the route's CRD defaults make kubectl send a patch, which changes nothing.
        XCTAssertEqual(result.stdout, "httproute.gateway.networking.k8s.io/web configured\ningress.networking.k8s.io/web unchanged\n", result.stderr)
        XCTAssertEqual(server.object(.httpRoute, name: "web")?.metadata.generation, 1)
        result = try Self.run(kubectl, ["apply", "--server-side", "--field-manager=flap-test", "--force-conflicts", "--validate=false", "-f", manifest], environment: env)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("httproute.gateway.networking.k8s.io/web serverside-applied"), result.stdout)
        result = try Self.run(kubectl, ["get", "httproute", "web", "-o", "jsonpath={.spec.rules[0].backendRefs[0].weight}"], environment: env)
        XCTAssertEqual(result.stdout, "1", "CRD defaults are visible to kubectl")

        let watchEnvironment = env
        let watcher = Task.detached { () throws -> Run in
            try PeerClientTests.run(kubectl, ["get", "httproutes", "--watch", "-o", "name"], environment: watchEnvironment, stopAfter: .seconds(3))
        }
        try await Task.sleep(for: .milliseconds(1200))
        var client = KubeClient.Configuration(server: server.url)
        client.userAgent = "flap-test"
        try await KubeClient(configuration: client).create(sampleRoute("watched"))
        let watched = try await watcher.value
        XCTAssertTrue(watched.stdout.contains("httproute.gateway.networking.k8s.io/web"), watched.stdout)
        XCTAssertTrue(watched.stdout.contains("httproute.gateway.networking.k8s.io/watched"), "the watch saw the new route: \(watched.stdout) \(watched.stderr)")

        result = try Self.run(kubectl, ["delete", "-f", manifest], environment: env)
        XCTAssertEqual(result.stdout, "httproute.gateway.networking.k8s.io \"web\" deleted\ningress.networking.k8s.io \"web\" deleted\n", result.stderr)
        result = try Self.run(kubectl, ["get", "ingress", "web"], environment: env)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("NotFound"), result.stderr)
    }

    func testKubectlProxyTransport() async throws {
        let kubectl = try self.which("kubectl")
        let dir = try TempDirectory()
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let path = try server.writeKubeconfig(to: "\(dir.path)/kubeconfig", namespace: "kube-system")
        let client = try await KubeClient.connect(Kubeconfig.Options(kubeconfigPath: path, environment: [:]), transport: .kubectlProxy, kubectl: kubectl)
        XCTAssertNotEqual(client.configuration.server.port, server.port, "requests go to the proxy, not the server")
        XCTAssertEqual(client.defaultNamespace, "kube-system")
        var unplaced = sampleIngress()
        unplaced.metadata.namespace = nil
        try await client.create(unplaced)
        let ingress = try await client.get(Ingress.self, name: "trino")
        XCTAssertEqual(ingress.namespace, "kube-system")
        XCTAssertNotNil(server.object(.ingress, name: "trino", namespace: "kube-system"))
        let events = EventCollector(try await client.watch(.ingress, options: WatchOptions(resourceVersion: ingress.metadata.resourceVersion)))
        try await client.delete(.ingress, name: "trino")
        let deleted = await events.wait { $0.contains { $0.kind == .deleted } }
        XCTAssertTrue(deleted, "watch streams through kubectl proxy")
        events.stop()
        let proxyURL = client.configuration.server
        client.shutdown()
        do {
            _ = try await SocketHTTPClientProbe.get(proxyURL)
            XCTFail("the proxy should be gone")
        } catch {}
    }

    func testAutoTransportIsDirectForPlainHTTP() async throws {
        let dir = try TempDirectory()
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let path = try server.writeKubeconfig(to: "\(dir.path)/kubeconfig")
        let client = try await KubeClient.connect(Kubeconfig.Options(kubeconfigPath: path, environment: [:]))
        XCTAssertEqual(client.configuration.server, server.url)
        _ = try await client.list(.namespace)
    }

    func testOfficialPythonClient() throws {
        let python = try self.which("python3")
        guard try Self.run(python, ["-c", "import kubernetes"]).status == 0 else {
            return XCTFail("the official Kubernetes Python client is not installed: run scripts/test-deps")
        }
        let dir = try TempDirectory()
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let path = try server.writeKubeconfig(to: "\(dir.path)/kubeconfig")
        let script = """
        from kubernetes import client, config
        from kubernetes.client.rest import ApiException
        config.load_kube_config(config_file="\(path)")
        net = client.NetworkingV1Api()
        custom = client.CustomObjectsApi()
        ing = client.V1Ingress(metadata=client.V1ObjectMeta(name="py"), spec=client.V1IngressSpec(rules=[client.V1IngressRule(host="py.example.com",
            http=client.V1HTTPIngressRuleValue(paths=[client.V1HTTPIngressPath(path="/", path_type="Prefix",
            backend=client.V1IngressBackend(service=client.V1IngressServiceBackend(name="trino", port=client.V1ServiceBackendPort(number=8080))))]))]))
        created = net.create_namespaced_ingress("default", ing)
        print("ingress", created.metadata.name, created.metadata.generation)
        patched = net.patch_namespaced_ingress("py", "default", {"metadata": {"labels": {"flap": "yes"}}})
        print("labels", patched.metadata.labels)
        print("read", net.read_namespaced_ingress("py", "default").spec.rules[0].host)
        route = {"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": "py"},
                 "spec": {"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [{"name": "trino", "port": 8080}, {"name": "trino-b", "port": 8080}]}]}}
        custom.create_namespaced_custom_object("gateway.networking.k8s.io", "v1", "default", "httproutes", route)
        got = custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "default", "httproutes", "py")
        got["spec"]["rules"][0]["backendRefs"].pop()
        custom.patch_namespaced_custom_object("gateway.networking.k8s.io", "v1", "default", "httproutes", "py", got)
        got = custom.get_namespaced_custom_object("gateway.networking.k8s.io", "v1", "default", "httproutes", "py")
        print("backends", [b["name"] for b in got["spec"]["rules"][0]["backendRefs"]], got["metadata"]["generation"])
        custom.delete_namespaced_custom_object("gateway.networking.k8s.io", "v1", "default", "httproutes", "py")
        net.delete_namespaced_ingress("py", "default", propagation_policy="Foreground", grace_period_seconds=5)
        try:
            net.read_namespaced_ingress("py", "default")
        except ApiException as e:
            print("gone", e.status, e.reason)
        """
        let result = try Self.run(python, ["-c", script])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout.split(separator: "\n").map(String.init), [
            "ingress py 1", "labels {'flap': 'yes'}", "read py.example.com", "backends ['trino'] 2", "gone 404 Not Found",
        ], result.stderr)
        XCTAssertTrue(server.objects(.httpRoute).isEmpty)
    }
}

import HTTPWire
enum SocketHTTPClientProbe {
    static func get(_ url: URL) async throws -> HTTPClientResponse {
        try await SocketHTTPClient().execute(HTTPClientRequest(url: url.appending(path: "version")), deadline: .now + .seconds(2))
    }
}

/// kubectl, a fake API server and a kubeconfig for it in a temporary directory.
struct KubectlAgainstTheFake {
    let kubectl: String
    let dir: TempDirectory
    let server: FakeKubeAPIServer
    let environment: [String: String]

    init() throws {
        let path = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/kubectl" }
        self.kubectl = try XCTUnwrap(path.first(where: FileManager.default.isExecutableFile(atPath:)), "kubectl must be installed for this test")
        self.dir = try TempDirectory()
        self.server = try FakeKubeAPIServer()
        self.environment = ["KUBECONFIG": try self.server.writeKubeconfig(to: "\(self.dir.path)/kubeconfig")]
    }
}

/// `kubectl create namespace|configmap|secret|service|ingress` send protobuf bodies; the fake decodes them as a real
/// API server does.
final class KubectlCreateTests: XCTestCase {
    func testKubectlCreateCommandsSucceedAndStoreWhatKubectlSent() async throws {
        let fake = try KubectlAgainstTheFake()
        defer { fake.server.stop() }
        let (kubectl, server, env) = (fake.kubectl, fake.server, fake.environment)
        for arguments in [
            ["create", "namespace", "gateway-system"],
            ["create", "configmap", "settings", "-n", "gateway-system", "--from-literal=mode=fast", "--from-literal=empty="],
            ["create", "secret", "generic", "token", "-n", "gateway-system", "--from-literal=key=s3cret"],
            ["create", "service", "clusterip", "trino-worker-service", "-n", "gateway-system", "--tcp=8081:8080"],
            ["create", "ingress", "minimal-ingress", "--rule=trino-legacy.example.com/v1*=trino:8080,tls=cert", "--class=nginx"],
        ] {
            let result = try PeerClientTests.run(kubectl, arguments, environment: env)
            XCTAssertEqual(result.status, 0, "\(arguments): \(result.stderr)")
        }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: server.url))
        let namespace = try await kube.get(.namespace, name: "gateway-system")
        XCTAssertNotNil(namespace.metadata.uid)
        let settings = try await kube.get(.configMap, name: "settings", namespace: "gateway-system")
        XCTAssertEqual(settings.json["data"], ["mode": "fast", "empty": ""])
        let token = try await kube.get(.secret, name: "token", namespace: "gateway-system")
        XCTAssertEqual(token.json["data"], ["key": .string(Data("s3cret".utf8).base64EncodedString())], "bytes arrive as base64, as in JSON")
        XCTAssertEqual(token.json["type"], "Opaque")
        let service = try await kube.get(.service, name: "trino-worker-service", namespace: "gateway-system")
        XCTAssertEqual(service.json.value(at: "spec.ports"), [["name": "8081-8080", "protocol": "TCP", "port": 8081, "targetPort": 8080]])
        XCTAssertEqual(service.json.value(at: "spec.selector"), ["app": "trino-worker-service"])
        XCTAssertEqual(service.json.value(at: "spec.type"), "ClusterIP")
        let ingress = Ingress(json: try await kube.get(.ingress, name: "minimal-ingress", namespace: "default").json)
        XCTAssertEqual(ingress.spec.rules.first?.host, "trino-legacy.example.com")
        XCTAssertEqual(ingress.json.value(at: "spec.rules")?.arrayValue?.first?.value(at: "http.paths"),
                       [["path": "/v1", "pathType": "Prefix", "backend": ["service": ["name": "trino", "port": ["number": 8080]]]]])
        XCTAssertEqual(ingress.json.value(at: "spec.tls"), [["hosts": ["trino-legacy.example.com"], "secretName": "cert"]])
        XCTAssertEqual(ingress.json.value(at: "spec.ingressClassName"), "nginx")

        // A kind the fake does not decode from protobuf, and a broken envelope, get the real server's answers.
        func post(_ path: String, _ body: [UInt8]) async throws -> HTTPClientResponse {
            let request = HTTPClientRequest(method: "POST", url: server.url.appending(path: path), headers: ["Content-Type": "application/vnd.kubernetes.protobuf"], body: body)
            return try await SocketHTTPClient().execute(request, deadline: .now + .seconds(5))
        }
        // A v1 Pod: a kind the fake does not serve, so it has no schema to decode it with.
        let unsupported = try await post("/api/v1/namespaces/default/configmaps", [0x6b, 0x38, 0x73, 0x00, 0x0a, 0x09, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x03, 0x50, 0x6f, 0x64])
        XCTAssertEqual(unsupported.status, 415)
        let broken = try await post("/api/v1/namespaces", [0x6b, 0x38, 0x73, 0x00, 0x0a, 0x50])
        let body = broken.body
        XCTAssertEqual(broken.status, 400, String(decoding: body, as: UTF8.self))
        XCTAssertTrue(String(decoding: body, as: UTF8.self).contains("past the end of the body"), String(decoding: body, as: UTF8.self))
    }
}

/// kubectl habits against the fake, as against a cluster: apply without --validate=false (the fake publishes
/// /openapi/v3 and validates fields itself), explain, get -o wide, diff and wait.
final class KubectlHabitsTests: XCTestCase {
    func testApplyExplainStrictValidationWideGetDiffAndWait() async throws {
        let fake = try KubectlAgainstTheFake()
        defer { fake.server.stop() }
        let (kubectl, dir, server, env) = (fake.kubectl, fake.dir, fake.server, fake.environment)
        func kubectlRun(_ arguments: String...) throws -> PeerClientTests.Run { try PeerClientTests.run(kubectl, arguments, environment: env) }
        let route = try dir.write("route.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: trino-api-route, namespace: default}
        spec:
          parentRefs: [{name: gw}]
          hostnames: [trino.example.com]
          rules:
          - backendRefs: [{name: trino, port: 8080}, {name: trino-worker-service, port: 8081}]
        """)
        var result = try kubectlRun("apply", "-f", route)
        XCTAssertEqual(result.status, 0, "no --validate=false needed: \(result.stderr)")
        XCTAssertEqual(result.stdout, "httproute.gateway.networking.k8s.io/trino-api-route created\n")

        // An unknown field: refused under the default (strict), warned about and dropped under --validate=warn.
        let typo = try dir.write("typo.yaml", """
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: minimal-ingress, namespace: default}
        spec:
          rules:
          - host: trino-legacy.example.com
            htpp: {}
            http:
              paths: [{path: /, pathType: Prefix, backend: {service: {name: trino, port: {number: 8080}}}}]
        """)
        result = try kubectlRun("apply", "-f", typo)
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains(#"strict decoding error: unknown field "spec.rules[0].htpp""#), result.stderr)
        XCTAssertNil(server.object(.ingress, name: "minimal-ingress"), "nothing was stored")
        result = try kubectlRun("apply", "--validate=warn", "-f", typo)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains(#"Warning: unknown field "spec.rules[0].htpp""#), result.stderr)
        XCTAssertNil(server.object(.ingress, name: "minimal-ingress")?.json.value(at: "spec.rules")?.arrayValue?.first?["htpp"], "dropped, as the real server drops it")

        result = try kubectlRun("explain", "httproute.spec.rules.backendRefs.port")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("KIND:       HTTPRoute"), result.stdout)
        XCTAssertTrue(result.stdout.contains("Port specifies the destination port number"), "the CRD's own description: \(result.stdout)")
        result = try kubectlRun("explain", "ingress.spec.rules.http.paths.pathType")
        XCTAssertTrue(result.stdout.contains("Exact, Prefix or ImplementationSpecific"), result.stdout)
        // The same from /openapi/v2 (the protobuf document kubectl asks for).
        result = try kubectlRun("explain", "httproute.spec.rules.backendRefs.port", "--output=plaintext-openapiv2")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("Port specifies the destination port number"), result.stdout)

        result = try kubectlRun("get", "httproute,ingress", "-o", "wide")
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("HOSTNAMES"), result.stdout)
        XCTAssertTrue(result.stdout.contains(#"["trino.example.com"]"#), result.stdout)
        XCTAssertTrue(result.stdout.contains("trino-legacy.example.com"), result.stdout)

        let changed = try dir.write("changed.yaml", try String(contentsOfFile: route, encoding: .utf8).replacingOccurrences(of: "trino.example.com", with: "trino-gw.example.com"))
        result = try kubectlRun("diff", "-f", changed)
        XCTAssertEqual(result.status, 1, "diff exits 1 when it finds a difference: \(result.stderr)")
        XCTAssertTrue(result.stdout.contains("+  - trino-gw.example.com"), result.stdout)
        XCTAssertEqual(server.object(.httpRoute, name: "trino-api-route")?.json.value(at: "spec.hostnames"), ["trino.example.com"], "diff wrote nothing")

        // kubectl wait sees the condition once a controller writes it.
        let kube = KubeClient(configuration: KubeClient.Configuration(server: server.url))
        var accepted = try await kube.get(HTTPRoute.self, name: "trino-api-route", namespace: "default")
        var parent = HTTPRoute.RouteParentStatus(json: [:])
        parent.parentRef = ParentReference(name: "gw")
        parent.controllerName = "example.com/controller"
        parent.conditions = [Condition(type: "Accepted", status: "True", reason: "Accepted", message: "ok",
                                       observedGeneration: accepted.metadata.generation ?? 1, lastTransitionTime: ISO8601DateFormatter().string(from: Date()))]
        accepted.status.parents = [parent]
        _ = try await kube.replaceStatus(accepted)
        result = try kubectlRun("wait", "--for=jsonpath={.status.parents[0].conditions[0].status}=True", "httproute/trino-api-route", "--timeout=10s")
        XCTAssertEqual(result.status, 0, result.stderr)
    }
}
