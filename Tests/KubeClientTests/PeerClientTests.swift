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
