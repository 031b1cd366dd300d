import FlapCore
import FlapSystem
import Foundation
import XCTest

/// The original experiment's script (Examples/original-experiment/experiment.py: the article's code with its
/// indentation restored; hosts, ports and waits are parameters) against `lab up`, and flap's run of the same pairing
/// on the same lab. The script sees one number per arm; flap's controls show what that number is made of.
final class OriginalScriptTests: XCTestCase {
    static var example: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appending(path: "Examples/original-experiment").path
    }

    func testTheOriginalScriptRunsUnmodifiedAgainstLabUpAndFlapExplainsWhatItPrinted() async throws {
        let example = Self.example
        // Queries run 3 s; the script deletes or patches 0.5 s into each.
        let lab = try LabUpProcess(["--no-routes", "--pod-namespace", "gateway-system", "--manifests", "\(example)/cluster", "--query-duration", "3s"])
        defer { lab.stop() }
        let kubeconfig = try lab.kubeconfig
        let python = try XCTUnwrap(ProcessLauncher.which("python3"))
        let script = try ProcessLauncher.run("/bin/sh", ["-c", "cd \"$EXAMPLE\" && exec \"$PYTHON\" experiment.py"], environment: [
            "EXAMPLE": example, "PYTHON": python, "KUBECONFIG": kubeconfig,
            "FLAP_INGRESS_HOST": "localhost", "FLAP_INGRESS_PORT": String(try lab.ingressPort),
            "FLAP_GATEWAY_HOST": "localhost", "FLAP_GATEWAY_PORT": String(try lab.gatewayPort),
            "FLAP_SETTLE_SECONDS": "1.5", "FLAP_IN_FLIGHT_SECONDS": "0.5", "FLAP_CONFLICT_SECONDS": "0.2",
        ], terminateAfter: .seconds(240))
        XCTAssertEqual(script.status, 0, script.stdout + script.stderr)
        let printed = ScriptOutput(script.stdout)
        XCTAssertEqual(printed.results.count, 2, script.stdout)
        XCTAssertEqual(printed.results.map(\.total), [10, 10], script.stdout)
        XCTAssertEqual(printed.gatewayFlaps, 10, "every iteration patched the route: \(script.stdout)")
        XCTAssertEqual(printed.ingressDeletes, 10, "and deleted the Ingress: \(script.stdout)")

        // What it printed. Ingress: the delete reaches nginx while the query polls, the next poll gets ingress-nginx's
        // default backend (404): every query "severed". Gateway: the script adds trino-worker-service to the route
        // before each query, and a worker answers the statement API with 404: the failures are the worker's
        // "Not Found", not the data plane's.
        XCTAssertEqual(printed.results.last?.successes, 0, script.stdout)
        XCTAssertTrue(printed.ingressFailures.allSatisfy { $0.contains("error 404: b'default backend - 404") }, script.stdout)
        XCTAssertFalse(printed.gatewayFailures.isEmpty, script.stdout)
        XCTAssertTrue(printed.gatewayFailures.allSatisfy { $0.contains("error 404: b'Not Found") }, script.stdout)

        // flap's run of the same pairing on the same lab, from the state the script's experiment starts in (the
        // Ingress applied, the worker backend in the route), with a control arm for each route.
        let kubectl = try XCTUnwrap(ProcessLauncher.which("kubectl"))
        for arguments in [["apply", "-f", "\(example)/dummyingress.yaml"],
                          ["patch", "httproute", "trino-api-route", "-n", "gateway-system", "--type=json", "-p",
                           #"[{"op":"add","path":"/spec/rules/0/backendRefs/-","value":{"name":"trino-worker-service","port":8081,"kind":"Service"}}]"#]] {
            let result = try ProcessLauncher.run(kubectl, arguments, environment: ["KUBECONFIG": kubeconfig])
            XCTAssertEqual(result.status, 0, result.stderr)
        }
        let output = NSTemporaryDirectory() + "flap-original-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: output) }
        let run = try ProcessLauncher.run(try LabTests.flapCLI().path, [
            "run", "--kubeconfig", kubeconfig,
            "--ingress", "minimal-ingress", "--ingress-url", try lab.ingressURL,
            "--httproute", "trino-api-route", "--httproute-namespace", "gateway-system", "--httproute-url", try lab.gatewayURL,
            "--mutation", "ingress:delete-recreate:Foreground:5", "--mutation", "httproute:remove-readd-backend:trino-worker-service",
            "--interval", "6s", "--iterations", "1", "--rate", "2", "--client-profile", "python", "--output", output,
        ], environment: ["FLAP_STATE_DIR": output + "-state"])
        defer { try? FileManager.default.removeItem(atPath: output + "-state") }
        XCTAssertTrue([0, 3].contains(run.status), run.stdout + run.stderr)
        let report = try ExperimentReport.decode(try XCTUnwrap(FileManager.default.contents(atPath: "\(output)/report.json"), run.stdout + run.stderr))
        func arm(_ name: ArmID) throws -> ArmReport { try XCTUnwrap(report.arm(name), "\(name.rawValue): \(run.stdout)") }
        // Agreement: deleting the Ingress fails queries with nginx's 404, as the script saw.
        XCTAssertGreaterThan(try arm("ingress-delete-recreate").failures["http-404"] ?? 0, 0, run.stdout)
        // What the script cannot see: the Gateway route fails queries with no change at all. Its control arm (the
        // worker backend in the route, nothing written) fails with the same 404 as the flapped arm, so the
        // script's Gateway number measures its route's backends, not route changes.
        let control = try arm("gateway-control")
        XCTAssertGreaterThan(control.failures["http-404"] ?? 0, 0, run.stdout)
        XCTAssertEqual(Set(control.failures.keys), ["http-404"], run.stdout)
        XCTAssertTrue(report.mutations.filter { $0.arm == "gateway-remove-readd-trino-worker-service" }.allSatisfy { $0.error == nil }, run.stdout)
    }
}

/// The lines the original script prints, by arm (Gateway first, then Ingress, as its main() runs them).
struct ScriptOutput {
    struct Result: Equatable { var successes: Int; var total: Int }
    var results: [Result] = []
    var gatewayFailures: [String] = []
    var ingressFailures: [String] = []
    var gatewayFlaps = 0
    var ingressDeletes = 0

    init(_ text: String) {
        var inIngress = false
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("--- Starting Ingress Stability Test") { inIngress = true }
            if line.hasPrefix("FAILURE:") { if inIngress { self.ingressFailures.append(line) } else { self.gatewayFailures.append(line) } }
            if line.hasPrefix("Starting Flap iteration"), !inIngress { self.gatewayFlaps += 1 }
            if line == "deleting ingress" { self.ingressDeletes += 1 }
            if line.hasPrefix("final results - Success:") {
                let counts = line.dropFirst("final results - Success:".count).split(separator: "/").compactMap { Int($0) }
                if counts.count == 2 { self.results.append(Result(successes: counts[0], total: counts[1])) }
            }
        }
    }
}
