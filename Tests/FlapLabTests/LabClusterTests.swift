import FlapSystem
import Foundation
import HTTPWire
import XCTest

/// `lab up` as a cluster: kubectl habits unchanged, routes in any namespace to a user's own Services, endpoints
/// derived from pod labels, and the data planes' real answers for a Service without endpoints or one that is missing.
final class LabClusterTests: XCTestCase {
    func testKubectlHabitsAndAUserNamespaceAreServedByBothDataPlanes() async throws {
        let lab = try LabUpProcess(["--pod-namespace", "team-a"])
        defer { lab.stop() }
        let kubectl = try XCTUnwrap(ProcessLauncher.which("kubectl"))
        let environment = ["KUBECONFIG": try lab.kubeconfig]
        let directory = NSTemporaryDirectory() + "flap-lab-cluster-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        @discardableResult
        func run(_ arguments: String..., status: Int32 = 0) throws -> ProcessLauncher.Output {
            let result = try ProcessLauncher.run(kubectl, arguments, environment: environment)
            XCTAssertEqual(result.status, status, "kubectl \(arguments.joined(separator: " ")): \(result.stdout) \(result.stderr)")
            return result
        }
        func write(_ name: String, _ text: String) throws -> String {
            try text.write(toFile: "\(directory)/\(name)", atomically: true, encoding: .utf8)
            return "\(directory)/\(name)"
        }
        let ingress = try lab.ingressPort, gateway = try lab.gatewayPort

        // The pods lab up printed, as kubectl sees them.
        let pods = try run("get", "pods", "-n", "team-a", "-o", "wide", "--show-labels").stdout
        XCTAssertTrue(pods.contains("trino-coordinator-0") && pods.contains("trino-worker-0") && pods.contains("app.kubernetes.io/component=coordinator")
                      && pods.contains("127.0.0.1") && pods.contains("Running"), pods)
        XCTAssertTrue(lab.text.contains("team-a/trino-coordinator-0  ports http="), lab.text)

        // A user's Services (selecting the pods by label, targeting a port by name) and routes in team-a, applied
        // without --validate=false: both data planes serve them; the route to the workers gets their 404.
        try run("apply", "-f", try write("team-a.yaml", """
        apiVersion: v1
        kind: Service
        metadata: {name: trino-team, namespace: team-a}
        spec:
          selector: {app.kubernetes.io/name: trino, app.kubernetes.io/component: coordinator}
          ports: [{name: http, port: 8080, targetPort: http}]
        ---
        apiVersion: v1
        kind: Service
        metadata: {name: workers, namespace: team-a}
        spec:
          selector: {app.kubernetes.io/component: worker}
          ports: [{name: http, port: 8081, targetPort: http}]
        ---
        apiVersion: networking.k8s.io/v1
        kind: Ingress
        metadata: {name: team, namespace: team-a}
        spec:
          ingressClassName: nginx
          rules:
          - host: team.lab
            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: trino-team, port: {number: 8080}}}}]}
          - host: workers.lab
            http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: workers, port: {name: http}}}}]}
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: team, namespace: team-a}
        spec:
          parentRefs: [{name: lab-gateway, namespace: default}]
          hostnames: [team.lab]
          rules: [{backendRefs: [{name: trino-team, port: 8080}]}]
        """))
        let slices = try run("get", "endpointslices", "-n", "team-a", "-o", "wide").stdout
        XCTAssertTrue(slices.contains("trino-team") && slices.contains("127.0.0.1"), slices)
        try await Self.expect(200, host: "team.lab", port: ingress)
        try await Self.expect(200, host: "team.lab", port: gateway)
        try await Self.expect(404, method: "POST", path: "/v1/statement", host: "workers.lab", port: ingress)
        try run("wait", "--for=condition=Accepted", "gateway/lab-gateway", "--timeout=20s")
        try run("wait", "--for=condition=Programmed", "gateway/lab-gateway", "--timeout=20s")
        // An HTTPRoute keeps its conditions per parent (status.parents[].conditions), so kubectl's
        // --for=condition cannot see them on any cluster; jsonpath can.
        try run("wait", "--for=jsonpath={.status.parents[0].conditions[0].status}=True", "httproute/team", "-n", "team-a", "--timeout=20s")

        // A namespace created now, with kubectl's create commands (protobuf bodies): its Service has no pods to
        // select, so no endpoints (ingress-nginx 503, Envoy 503); a route to a Service that does not exist gets
        // ingress-nginx's 503 and the Gateway's 500 with ResolvedRefs=False.
        try run("create", "namespace", "team-b")
        try run("create", "configmap", "settings", "-n", "team-b", "--from-literal=mode=fast")
        try run("create", "secret", "generic", "token", "-n", "team-b", "--from-literal=key=s3cret")
        try run("create", "service", "clusterip", "empty", "-n", "team-b", "--tcp=8080:8080")
        try run("create", "ingress", "empty", "-n", "team-b", "--class=nginx", "--rule=empty.lab/*=empty:8080", "--rule=missing.lab/*=not-there:8080")
        let routes = try write("team-b.yaml", """
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: empty, namespace: team-b}
        spec:
          parentRefs: [{name: lab-gateway, namespace: default}]
          hostnames: [empty.lab]
          rules: [{backendRefs: [{name: empty, port: 8080}]}]
        ---
        apiVersion: gateway.networking.k8s.io/v1
        kind: HTTPRoute
        metadata: {name: missing, namespace: team-b}
        spec:
          parentRefs: [{name: lab-gateway, namespace: default}]
          hostnames: [missing.lab]
          rules: [{backendRefs: [{name: not-there, port: 8080}]}]
        """)
        try run("apply", "-f", routes)
        try await Self.expect(503, host: "empty.lab", port: ingress)
        try await Self.expect(503, host: "empty.lab", port: gateway)
        try await Self.expect(503, host: "missing.lab", port: ingress)
        try await Self.expect(500, host: "missing.lab", port: gateway)
        try run("wait", "--for=jsonpath={.status.parents[0].conditions[1].reason}=BackendNotFound", "httproute/missing", "-n", "team-b", "--timeout=20s")

        // The rest of the habits: diff (nothing changed: exit 0), explain, strict validation, get -o wide.
        try run("diff", "-f", routes)
        XCTAssertTrue(try run("explain", "pod.spec.containers.ports.name").stdout.contains("KIND:       Pod"))
        XCTAssertTrue(try run("explain", "httproute.spec.rules.backendRefs", "--output=plaintext-openapiv2").stdout.contains("BackendRefs defines the backend"))
        let typo = try write("typo.yaml", try String(contentsOfFile: routes, encoding: .utf8).replacingOccurrences(of: "hostnames:", with: "hostname:"))
        XCTAssertTrue(try run("apply", "-f", typo, status: 1).stderr.contains("strict decoding error: unknown field"))
        let wide = try run("get", "ingress,httproute,svc", "-A", "-o", "wide").stdout
        XCTAssertTrue(wide.contains("team-b") && wide.contains("missing.lab") && wide.contains("SELECTOR"), wide)
    }

    /// Polls until `host` through the data plane on `port` answers `path` with `status`.
    static func expect(_ status: Int, method: String = "GET", path: String = "/v1/info", host: String, port: Int, within seconds: Double = 20) async throws {
        let client = SocketHTTPClient()
        var last = "no answer"
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let request = HTTPClientRequest(method: method, url: URL(string: "http://\(host):\(port)\(path)")!, body: method == "POST" ? Array("SELECT 1".utf8) : [],
                                            connectTo: "127.0.0.1:\(port)")
            if let response = try? await client.execute(request, deadline: .now + .seconds(2)) {
                if response.status == status { return }
                last = "\(response.status) \(String(decoding: response.body.prefix(80), as: UTF8.self))"
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        XCTFail("\(host) through 127.0.0.1:\(port): expected \(status), last answer \(last)")
    }
}
