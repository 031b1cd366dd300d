import FlapCore
import FlapFakes
import FlapSystem
import FlapTesting
import Foundation
import KubeClient
import XCTest

/// Examples/cluster-run as a user runs it, with the fake API server in place of the cluster: its manifests
/// apply, `doctor` passes for each route with the example's flags, the Role it prints is rbac.yaml's, and the
/// dry run plans every mutation without writing.
final class ClusterRunExampleTests: XCTestCase {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../Examples/cluster-run").standardized.path

    func testTheExampleManifestsCommandsAndRoleAgreeWithWhatFlapDoes() async throws {
        var configuration = FakeKubeAPIServer.Configuration()
        configuration.namespaces += ["trino"]
        let api = try FakeKubeAPIServer(configuration: configuration)
        let trino = try FakeTrinoServer()
        let services = ["trino": trino.url, "trino-b": trino.url]
        let ingressProxy = try FakeRouteProxy(mode: .ingress, api: api, namespace: "trino", services: services)
        let gatewayProxy = try FakeRouteProxy(mode: .httpRoute, api: api, namespace: "trino", services: services)
        let directory = NSTemporaryDirectory() + "flap-cluster-run-" + UUID().uuidString
        defer { ingressProxy.stop(); gatewayProxy.stop(); api.stop(); trino.stop(); try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let kubeconfig = try api.writeKubeconfig(to: directory + "/kubeconfig")
        let environment = ["FLAP_STATE_DIR": directory + "/state"]

        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        var applied: [String] = []
        for file in ["trino.yaml", "ingress.yaml", "gateway.yaml"] {
            for object in try Manifests.load(path: "\(Self.example)/manifests/\(file)") {
                guard let resource = ResourceType.forKind(object.kind ?? "", apiVersion: object.apiVersion ?? ""), resource != .namespace else { continue }
                try await kube.create(object)
                applied.append("\(object.kind ?? "") \(object.metadata.name ?? "")")
            }
        }
        XCTAssertEqual(applied.sorted(), ["Gateway trino-gw", "HTTPRoute neighbour", "HTTPRoute trino", "Ingress neighbour", "Ingress trino", "Service trino", "Service trino-b"])
        try await Self.accept(route: "trino", kube: kube)

        let (routes, mutations) = try Self.commandFlags()
        XCTAssertEqual(routes.count, 10, "commands.sh's ROUTES: -n NAMESPACE, then the ingress and the httproute with their URLs: \(routes)")
        guard routes.count == 10 else { return }
        XCTAssertEqual(routes.prefix(2), ["-n", "trino"])
        let ingressFlags = ["-n", "trino", "--kubeconfig", kubeconfig] + Array(routes[2..<6]) + ["--connect-to", "127.0.0.1:\(ingressProxy.port)"]
        let gatewayFlags = ["-n", "trino", "--kubeconfig", kubeconfig] + Array(routes[6..<10]) + ["--connect-to", "127.0.0.1:\(gatewayProxy.port)"]
        var roles: [String] = []
        for flags in [ingressFlags, gatewayFlags] {
            let doctor = try CLI.run(["doctor"] + flags + mutations, environment: environment)
            XCTAssertEqual(doctor.status, 0, doctor.stdout + doctor.stderr)
            roles.append(doctor.stdout)
        }
        let everything = try CLI.run(["doctor", "--kubeconfig", kubeconfig] + routes + mutations + ["--connect-to", "127.0.0.1:\(ingressProxy.port)"], environment: environment)
        let printedRole = try XCTUnwrap(everything.stdout.components(separatedBy: "apiVersion: rbac.authorization.k8s.io/v1\n").last).trimmingCharacters(in: .whitespacesAndNewlines)
        let exampleRole = try XCTUnwrap(try String(contentsOfFile: "\(Self.example)/rbac.yaml", encoding: .utf8)
            .components(separatedBy: "---\n").first { $0.contains("kind: Role\n") })
        XCTAssertTrue(exampleRole.trimmingCharacters(in: .whitespacesAndNewlines).hasSuffix(printedRole), "rbac.yaml's Role differs from what doctor prints:\n\(printedRole)")

        let checkpoint = api.checkpoint()
        let plan = try CLI.run(["run", "--kubeconfig", kubeconfig] + routes + mutations + ["--dry-run"], environment: environment)
        XCTAssertEqual(plan.status, 0, plan.stdout + plan.stderr)
        for arm in ["ingress-delete-recreate", "gateway-remove-readd-trino-b", "gateway-neighbour-neighbour"] {
            XCTAssertTrue(plan.stdout.contains(arm), "the dry run has no arm \(arm):\n\(plan.stdout)")
        }
        XCTAssertTrue(api.changes(since: checkpoint).isEmpty, "a dry run writes nothing")
    }

    /// The ROUTES and MUTATIONS arrays of commands.sh, as bash expands them.
    static func commandFlags() throws -> (routes: [String], mutations: [String]) {
        let script = #"eval "$(sed -n '/^ROUTES=/,/^MUTATIONS=/p' "$1/commands.sh")"; printf '%s\n' "${ROUTES[@]}"; echo ---; printf '%s\n' "${MUTATIONS[@]}""#
        let output = try ProcessLauncher.run("/bin/bash", ["-c", script, "bash", Self.example], environment: [:])
        XCTAssertEqual(output.status, 0, output.stderr)
        let parts = output.stdout.components(separatedBy: "---\n")
        let lines = { (text: String) in text.split(separator: "\n").map(String.init) }
        return (lines(parts[0]), lines(parts.count > 1 ? parts[1] : ""))
    }

    /// What Envoy Gateway writes once it accepts the route.
    static func accept(route name: String, namespace: String = "trino", kube: KubeClient) async throws {
        var route = try await kube.get(HTTPRoute.self, name: name, namespace: namespace)
        var parent = HTTPRoute.RouteParentStatus(json: [:])
        parent.parentRef = ParentReference(name: "trino-gw")
        parent.controllerName = "gateway.envoyproxy.io/gatewayclass-controller"
        parent.conditions = [Condition(type: "Accepted", status: "True", reason: "Accepted", message: "Route is accepted",
                                       observedGeneration: route.metadata.generation ?? 1, lastTransitionTime: ISO8601DateFormatter().string(from: Date()))]
        route.status.parents = [parent]
        try await kube.replaceStatus(route)
    }
}
