import FlapCore
import FlapFakes
import FlapSystem
import Foundation
import KubeClient
import XCTest

/// The original experiment's pairing as the README's one command: the Ingress `minimal-ingress` in `default`
/// deleted (Foreground, grace 5 s) and recreated, the backend `trino-worker-service` removed from and re-added to
/// the HTTPRoute `trino-api-route` in `gateway-system`, each route through its own proxy.
final class SeedExperimentTests: XCTestCase {
    func testTheSeedsExperimentIsOneCommand() async throws {
        var configuration = FakeKubeAPIServer.Configuration()
        configuration.namespaces += ["gateway-system"]
        let api = try FakeKubeAPIServer(configuration: configuration)
        var trinoConfiguration = FakeTrinoServer.Configuration()
        trinoConfiguration.queryDuration = .milliseconds(400)
        trinoConfiguration.maxWait = .milliseconds(100)
        let trino = try FakeTrinoServer(configuration: trinoConfiguration)
        let services = ["trino": trino.url, "trino-worker-service": trino.url]
        let ingressProxy = try FakeRouteProxy(mode: .ingress, api: api, namespace: "default", services: services)
        let gatewayProxy = try FakeRouteProxy(mode: .httpRoute, api: api, namespace: "gateway-system", services: services)
        let directory = NSTemporaryDirectory() + "flap-seed-" + UUID().uuidString
        defer { ingressProxy.stop(); gatewayProxy.stop(); api.stop(); trino.stop(); try? FileManager.default.removeItem(atPath: directory) }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let kubeconfig = try api.writeKubeconfig(to: directory + "/kubeconfig")
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        var ingress = Ingress(name: "minimal-ingress", namespace: "default")
        ingress.spec.rules = [Ingress.Rule(host: "trino-legacy.example.com", paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
        try await kube.create(ingress)
        var route = HTTPRoute(name: "trino-api-route", namespace: "gateway-system")
        route.spec.parentRefs = [ParentReference(name: "gw")]
        route.spec.hostnames = ["trino.example.com"]
        route.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080),
                                                         HTTPRoute.BackendRef(name: "trino-worker-service", port: 8081)])]
        try await kube.create(route)
        let before = api.snapshot()

        // The README's command, with short slots and each proxy's address.
        let arguments = ["run", "--kubeconfig", kubeconfig,
                         "--ingress", "minimal-ingress", "--ingress-namespace", "default", "--ingress-url", "http://trino-legacy.example.com",
                         "--ingress-connect-to", "127.0.0.1:\(ingressProxy.port)",
                         "--httproute", "trino-api-route", "--httproute-namespace", "gateway-system", "--httproute-url", "http://trino.example.com",
                         "--httproute-connect-to", "127.0.0.1:\(gatewayProxy.port)",
                         "--mutation", "ingress:delete-recreate:Foreground:5",
                         "--mutation", "httproute:remove-readd-backend:trino-worker-service",
                         "--rate", "4", "--interval", "1.5s", "--iterations", "1", "--output", directory + "/out"]
        let result = try CLI.run(arguments, environment: ["FLAP_STATE_DIR": directory + "/state"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let report = try ExperimentReport.decode(try Data(contentsOf: URL(fileURLWithPath: directory + "/out/report.json")))
        XCTAssertEqual(report.arms.map(\.name), ["ingress-control", "ingress-delete-recreate", "gateway-control", "gateway-remove-readd-trino-worker-service"],
                       "each mutation on its own route, and a control per route")
        XCTAssertEqual(report.arm("ingress-delete-recreate")?.target.namespace, "default")
        XCTAssertEqual(report.arm("gateway-remove-readd-trino-worker-service")?.target.namespace, "gateway-system")
        XCTAssertEqual(report.arm("gateway-control")?.target.connectTo, "127.0.0.1:\(gatewayProxy.port)", "the gateway's queries go to its own proxy")
        XCTAssertEqual(report.verdict, .pass)
        XCTAssertTrue(report.mutations.allSatisfy { $0.error == nil }, "\(report.mutations.map(\.error))")
        XCTAssertEqual(report.mutations.filter { $0.arm == "ingress-delete-recreate" }.map(\.description),
                       ["deleted Ingress default/minimal-ingress", "recreated Ingress default/minimal-ingress"])
        XCTAssertEqual(report.mutations.filter { $0.arm == "gateway-remove-readd-trino-worker-service" }.map(\.description),
                       ["removed backend trino-worker-service from HTTPRoute gateway-system/trino-api-route",
                        "re-added backend trino-worker-service to HTTPRoute gateway-system/trino-api-route"])
        XCTAssertGreaterThan(report.arm("gateway-control")?.survival.successes ?? 0, 0, "queries reached Trino through the gateway-system route")
        XCTAssertEqual(api.snapshot().keys.sorted(), before.keys.sorted(), "both routes are back")

        // doctor checks each route in its own namespace, prints a Role per namespace, and says whether an answer
        // through each URL can only have come through the route it checks.
        try await ClusterRunExampleTests.accept(route: "trino-api-route", namespace: "gateway-system", kube: kube)
        let doctorArguments = ["doctor"] + arguments.dropFirst().prefix { $0 != "--rate" }
        let doctor = try CLI.run(doctorArguments, environment: [:])
        XCTAssertEqual(doctor.status, 0, doctor.stdout + doctor.stderr)
        XCTAssertTrue(doctor.stdout.contains("ok   may update httproutes.gateway.networking.k8s.io in gateway-system"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("ok   only HTTPRoute gateway-system/trino-api-route serves trino.example.com"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("ok   mutation gateway-remove-readd-trino-worker-service: remove-readd-backend can work on HTTPRoute gateway-system/trino-api-route"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("minimal Role per namespace"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("  namespace: default\n"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("  namespace: gateway-system\n"), doctor.stdout)
        // Another route claiming the gateway's host: the answer may come through it, and doctor says so.
        var rival = HTTPRoute(name: "rival", namespace: "default")
        rival.spec.hostnames = ["trino.example.com"]
        rival.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080)])]
        try await kube.create(rival)
        let shadowed = try CLI.run(doctorArguments, environment: [:])
        XCTAssertEqual(shadowed.status, 1)
        XCTAssertTrue(shadowed.stdout.contains("FAIL HTTPRoute default/rival also serves trino.example.com: an answer through http://trino.example.com may not come through HTTPRoute gateway-system/trino-api-route"),
                      shadowed.stdout)

        // A mutation for a route the command does not have is a usage error.
        let noGateway = try CLI.run(["run", "--kubeconfig", kubeconfig, "--ingress", "minimal-ingress", "--ingress-url", "http://trino-legacy.example.com",
                                     "--mutation", "httproute:remove-readd-backend:trino-worker-service", "--dry-run"], environment: [:])
        XCTAssertEqual(noGateway.status, 2)
        XCTAssertTrue(noGateway.stderr.contains("there is no httproute route (give --httproute NAME)"), noGateway.stderr)
    }
}
