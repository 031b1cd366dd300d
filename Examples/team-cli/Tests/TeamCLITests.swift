import FlapCore
import FlapFakes
import FlapSystem
import FlapTesting
import Foundation
import KubeClient
import XCTest

/// The team's executable (Sources/main.swift) uses its own mutator from `--mutation` and from a scenario file,
/// against an in-process environment; flap's own executable does not know the kind.
final class TeamCLITests: XCTestCase {
    static let timeoutAnnotation = "nginx.ingress.kubernetes.io/proxy-read-timeout"

    func executable(_ name: String) throws -> String {
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.appending(path: name), bundle.deletingLastPathComponent().appending(path: name)]
        return try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }, "\(name) must be built next to the tests").path
    }

    func arguments(_ environment: InProcessEnvironment, kubeconfig: String) -> [String] {
        ["run", "--kubeconfig", kubeconfig, "--ingress", "trino", "--ingress-url", "http://trino.example.com",
         "--connect-to", "127.0.0.1:\(environment.ingressProxy.port)", "--rate", "6", "--interval", "1200ms", "--iterations", "1"]
    }

    func testTheCustomMutatorRunsFromTheMutationFlagAndTheRouteIsPutBack() async throws {
        let environment = try await InProcessEnvironment()
        defer { environment.stop() }
        let kubeconfig = try environment.api.writeKubeconfig(to: environment.directory + "/kubeconfig")
        let checkpoint = environment.api.checkpoint()
        let output = environment.directory + "/out"
        let run = try ProcessLauncher.run(try self.executable("team-flap"), self.arguments(environment, kubeconfig: kubeconfig)
                                            + ["--mutation", "read-timeout:3", "--output", output],
                                          environment: ["FLAP_STATE_DIR": environment.directory + "/state"])
        XCTAssertEqual(run.status, 0, run.stderr + run.stdout)

        let report = try ExperimentReport.decode(try Data(contentsOf: URL(fileURLWithPath: output + "/report.json")))
        XCTAssertEqual(report.arms.map(\.name), ["ingress-control", "ingress-read-timeout-3s"])
        let steps = report.mutations.filter { $0.arm == "ingress-read-timeout-3s" }
        XCTAssertEqual(steps.map(\.description), ["set read timeout 3s on Ingress default/trino", "restored read timeout on Ingress default/trino"])
        XCTAssertTrue(steps.allSatisfy { $0.error == nil && $0.resourceVersion != nil }, "each step was one accepted write: \(steps)")
        let writes = environment.api.changes(since: checkpoint).filter { $0.kind == .modified && $0.resource == .ingress && $0.name == "trino" }
        XCTAssertGreaterThanOrEqual(writes.count, 2, "set and put back: \(writes)")
        let ingress = try await environment.kube.get(Ingress.self, name: "trino", namespace: "default")
        XCTAssertNil(ingress.metadata.annotations[Self.timeoutAnnotation], "the original Ingress had no timeout, and has none again")
    }

    func testTheCustomMutatorReadsItsParametersFromAScenarioFile() async throws {
        let environment = try await InProcessEnvironment()
        defer { environment.stop() }
        let kubeconfig = try environment.api.writeKubeconfig(to: environment.directory + "/kubeconfig")
        let scenario = environment.directory + "/scenario.json"
        try #"{"mutations": [{"kind": "read-timeout", "seconds": 4}]}"#.write(toFile: scenario, atomically: true, encoding: .utf8)
        let plan = try ProcessLauncher.run(try self.executable("team-flap"), self.arguments(environment, kubeconfig: kubeconfig)
                                             + ["--scenario", scenario, "--dry-run"], environment: [:])
        XCTAssertEqual(plan.status, 0, plan.stderr)
        XCTAssertTrue(plan.stdout.contains("ingress-read-timeout-4s: Ingress default/trino"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("step 0: PUT Ingress default/trino: set \(Self.timeoutAnnotation)=4"), plan.stdout)

        try #"{"mutations": [{"kind": "read-timeout", "secs": 4}]}"#.write(toFile: scenario, atomically: true, encoding: .utf8)
        let typo = try ProcessLauncher.run(try self.executable("team-flap"), self.arguments(environment, kubeconfig: kubeconfig)
                                             + ["--scenario", scenario, "--dry-run"], environment: [:])
        XCTAssertEqual(typo.status, 2)
        XCTAssertTrue(typo.stderr.contains(#"mutation read-timeout: unknown parameter "secs" (it takes seconds); did you mean "seconds"?"#), typo.stderr)

        let help = try ProcessLauncher.run(try self.executable("team-flap"), ["run", "--help"], environment: [:])
        XCTAssertTrue(help.stdout.contains("read-timeout[:SECONDS]"), "help is generated from the registry: \(help.stdout)")
        let stock = try ProcessLauncher.run(try self.executable("flap-cli"), self.arguments(environment, kubeconfig: kubeconfig)
                                              + ["--mutation", "read-timeout:3", "--dry-run"], environment: [:])
        XCTAssertEqual(stock.status, 2, "flap's own executable does not know the team's kind")
        XCTAssertTrue(stock.stderr.contains(#"unknown mutation kind "read-timeout""#), stock.stderr)
    }
}
