import FlapCore
import FlapSystem
import FlapTesting
import Foundation
import XCTest

/// JUnit that CI can trust: an arm that loses to its control fails its testcase, gates carry a type and a body,
/// times are real, and a real JUnit reader (Python's junitparser, installed by scripts/test-deps) agrees.
final class JUnitTests: XCTestCase {
    func testADeadArmFailsItsTestcaseAndAJUnitReaderSeesIt() async throws {
        let environment = try await InProcessEnvironment()
        defer { environment.stop() }
        var configuration = environment.configuration([
            .init(target: environment.ingressTarget, mutator: ControlMutator()),
            .init(target: environment.ingressTarget, mutator: DeleteRecreateMutator()),
        ])
        configuration.gates = [Gate(.survival(arm: "ingress-control"), .ge, 0.9), Gate(.survival(arm: "ingress-delete-recreate"), .ge, 0.999)]
        let report = try await ExperimentRunner(configuration: configuration).run()
        let deleted = try XCTUnwrap(report.arm("ingress-delete-recreate"))
        XCTAssertLessThan(try XCTUnwrap(deleted.versusControl).fisherP, JUnitRenderer.significance, "this run must show a real loss: \(deleted.survival)")

        let path = environment.directory + "/junit.xml"
        try JUnitRenderer.render(report).write(toFile: path, atomically: true, encoding: .utf8)
        let reader = """
        import json, sys
        from junitparser import JUnitXml, Failure
        xml = JUnitXml.fromfile(sys.argv[1])
        cases = []
        for suite in xml:
            for case in suite:
                failures = [r for r in case.result if isinstance(r, Failure)]
                cases.append({"class": case.classname, "name": case.name, "time": case.time,
                              "failure": [{"type": f.type, "message": f.message, "text": f.text} for f in failures]})
            print(json.dumps({"tests": suite.tests, "failures": suite.failures, "cases": cases}))
        """
        let run = try ProcessLauncher.run("/usr/bin/env", ["python3", "-c", reader, path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let parsed = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
        let cases = try XCTUnwrap(parsed["cases"] as? [[String: Any]])
        func testcase(_ name: String) throws -> [String: Any] { try XCTUnwrap(cases.first { $0["name"] as? String == name }, name) }
        func failures(_ name: String) throws -> [[String: Any]] { try XCTUnwrap(try testcase(name)["failure"] as? [[String: Any]]) }

        XCTAssertEqual(parsed["tests"] as? Int, 4, "two arms and two gates")
        XCTAssertEqual(parsed["failures"] as? Int, 2, "the dead arm and its gate")
        XCTAssertTrue(try failures("ingress-control").isEmpty)
        let armFailure = try XCTUnwrap(try failures("ingress-delete-recreate").first)
        XCTAssertEqual(armFailure["type"] as? String, "survival")
        XCTAssertTrue((armFailure["message"] as? String)?.contains("failures: http-404×") == true, "\(armFailure)")
        XCTAssertTrue((armFailure["text"] as? String)?.contains("failing hop poll (hop ") == true, "the body names the hop that broke: \(armFailure)")
        XCTAssertGreaterThan(try testcase("ingress-delete-recreate")["time"] as? Double ?? 0, 0, "an arm's time is the time its slots ran, never 0")
        let gateFailure = try XCTUnwrap(try failures("survival(ingress-delete-recreate) >= 0.999").first)
        XCTAssertEqual(gateFailure["type"] as? String, "gate")
        XCTAssertTrue((gateFailure["text"] as? String)?.contains("measured") == true, "\(gateFailure)")
        XCTAssertTrue(try failures("survival(ingress-control) >= 0.9").isEmpty)

        var empty = report
        empty.arms[0].survival = Proportion(successes: 0, trials: 0)
        XCTAssertTrue(JUnitRenderer.render(empty).contains(#"<failure type="no-data" message="the arm ran no query: nothing was measured">"#),
                      "an arm with no query is not green")
    }
}
