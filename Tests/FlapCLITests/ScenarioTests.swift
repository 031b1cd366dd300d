import FlapCommandLine
import FlapCore
import Foundation
import XCTest

/// The scenario model (file and flags): every bad value gives a specific error naming the field.
final class ScenarioTests: XCTestCase {
    func scenarioError(_ json: String) -> String? {
        let path = NSTemporaryDirectory() + "flap-scenario-" + UUID().uuidString + ".json"
        _ = FileManager.default.createFile(atPath: path, contents: Data(json.utf8))
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            try Scenario.load(path: path).validate()
            return nil
        } catch {
            return "\(error)"
        }
    }

    let route = #""targets":[{"name":"gateway","kind":"httproute","route":"trino","url":"http://trino.local"}]"#
    let target = #""targets":[{"name":"gateway","kind":"httproute","route":"trino","url":"http://trino.local"}],"mutations":[{"kind":"touch"}]"#

    func testScenarioFilesWithBadValuesNameTheFieldAndTheRange() {
        let cases: [(String, String)] = [
            (#"{\#(target),"schedule":{"slots":"6s"}}"#, #"schedule.slots: unknown key; did you mean "slot"?"#),
            (#"{"targets":[{"name":"gateway","kind":"httproute","route":"trino","url":"http://trino.local"}],"mutations":[{"kind":"remove-readd-backend","bakend":"x"}]}"#,
             #"mutations[0]: mutation remove-readd-backend: unknown parameter "bakend" (it takes backend); did you mean "backend"?"#),
            (#"{\#(route),"mutations":[{"kind":"delete-recreat"}]}"#, #"unknown mutation kind "delete-recreat" (one of control, delete-recreate"#),
            (#"{\#(route),"mutations":[{"kind":"filler-routes","count":"many"}]}"#, "mutation filler-routes: count must be a whole number"),
            (#"{\#(target),"seed":-1}"#, "seed: must be a whole number from 0 to"),
            (#"{\#(target),"schedule":{"rounds":1e30}}"#, "schedule.rounds: must be a whole number"),
            (#"{\#(target),"schedule":{"slot":"0s","duration":"1m"}}"#, "schedule.slot: must be longer than 0s"),
            (#"{\#(target),"schedule":{"slot":"1e17s"}}"#, #"schedule.slot: "1e17s" is longer than 30 days"#),
            (#"{\#(target),"schedule":{"slot":"1ms","duration":"29d"}}"#, "schedule.duration: gives"),
            (#"{\#(target),"load":{"cohort":-1}}"#, "load.cohort: must be from 0 to 100000, not -1"),
            (#"{\#(target),"load":{"maxInFlight":-1}}"#, "load.maxInFlight: must be from 1"),
            (#"{\#(target),"workload":{"kind":"http","requestsPerQuery":-1}}"#, "workload.requestsPerQuery: must be from 1"),
            (#"{\#(target),"gates":["survival(gateway-touch) >= 2"]}"#, "is outside 0...1"),
        ]
        for (json, expected) in cases {
            let error = self.scenarioError(json)
            XCTAssertTrue(error?.contains(expected) == true, "\(json)\n  gave: \(error ?? "no error")\n  expected: \(expected)")
        }
        XCTAssertNil(self.scenarioError(#"{\#(target),"schedule":{"slot":"2s","rounds":2},"seed":7}"#), "a sound file passes")
    }

    func testScenarioValidationNamesTheField() throws {
        var scenario = Scenario()
        XCTAssertThrowsError(try scenario.validate())
        scenario.targets = [Scenario.Target(name: "gateway", kind: .httpRoute, route: "r", url: "http://trino.example.com")]
        scenario.mutations = [Scenario.Mutation(kind: "delete-recreate")]
        XCTAssertNoThrow(try scenario.validate())
        XCTAssertEqual(try scenario.arms().map(\.id), ["gateway-control", "gateway-delete-recreate"])
        let cases: [(inout Scenario) -> Void] = [
            { $0.load.rate = -1 },
            { $0.load.arrival = "bursty" },
            { $0.schedule.slot = "soon" },
            { $0.workload.clientProfile = "perl" },
            { $0.gates = ["survival(gateway) >>> 1"] },
            { $0.mutations = [Scenario.Mutation(kind: "shift-weights")] },
            { $0.targets[0].url = "ftp://x" },
        ]
        for change in cases {
            var broken = scenario
            change(&broken)
            XCTAssertThrowsError(try broken.validate())
        }
        let weights = try MutatorRegistry.builtIn.mutator(for: MutatorRegistry.builtIn.spec(parsing: "shift-weights:90/10,50/50"))
        XCTAssertEqual((weights as? ShiftWeightsMutator)?.steps, [[90, 10], [50, 50]])
        XCTAssertThrowsError(try MutatorRegistry.builtIn.spec(parsing: "filler-routes:many"))
    }
}
