import FlapCore
@testable import FlapLab
import FlapTesting
import Foundation
import KubeClient
import XCTest

/// The upstream incidents catalogue: its scenarios' mutators keep the runner's promises, every scenario shows on
/// the real proxies what the catalogue says (classes and counts), and docs/incidents.md cites each thread.
final class LabIncidentTests: XCTestCase {
    func testTheIncidentMutatorsKeepTheRunnersPromises() async throws {
        var services: [KubeObject] = []
        for name in ["trino", "trino-b"] {
            services.append(KubeObject(json: ["apiVersion": "v1", "kind": "Service", "metadata": ["name": .string(name), "namespace": "default"],
                                              "spec": ["selector": ["app.kubernetes.io/name": "trino"], "ports": [["port": 8080]]]]))
        }
        var twoRules = HTTPRoute(name: "trino", namespace: "default")
        twoRules.spec.parentRefs = [ParentReference(name: "gw")]
        twoRules.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080)]),
                               HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino-b", port: 8080)])]
        twoRules.spec.rules[0].json[member: "matches"] = [["path": ["type": "PathPrefix", "value": "/v1/statement"]]]
        let cases: [(RouteTarget.Kind, [KubeObject], RouteMutatorVerifier.Factory)] = [
            (.httpRoute, RouteMutatorVerifier.standardSeed(for: .httpRoute) + services, { EndpointsVanishMutator(services: ["trino", "trino-b"]) }),
            (.ingress, RouteMutatorVerifier.standardSeed(for: .ingress) + services, { EndpointsVanishMutator(services: ["trino"]) }),
            (.httpRoute, [KubeObject(json: twoRules.json)], { RuleReorderMutator() }),
        ]
        for (kind, seed, factory) in cases {
            do {
                let passed = try await RouteMutatorVerifier(target: kind, seed: seed, makeMutator: factory).verify()
                XCTAssertEqual(passed.count, RouteMutatorVerifier.Check.allCases.count)
            } catch {
                XCTFail("\(factory().name) on \(kind): \(error)")
            }
        }
    }

    func testReorderingOneRuleAndVanishingAMissingServiceAreRefusedBeforeAnyWrite() async throws {
        let bench = try await InProcessEnvironment()
        defer { bench.stop() }
        let context = MutationContext(kube: bench.kube, target: bench.gatewayTarget, runID: "test", marker: "m")
        await XCTAssertThrowsErrorAsync(try await RuleReorderMutator().check(in: context)) { error in
            XCTAssertTrue("\(error)".contains("reordering needs two or more"), "\(error)")
        }
        await XCTAssertThrowsErrorAsync(try await EndpointsVanishMutator(services: ["no-such-service"]).check(in: context)) { error in
            XCTAssertTrue("\(error)".contains("no-such-service"), "\(error)")
        }
    }

    /// Every incident through every profile, on the real proxies: each shows what the catalogue says (a reproduced
    /// incident's classes and counts; for one the lab does not reproduce, the absence the document explains).
    func testEveryIncidentShowsWhatTheCatalogueSaysOnEveryProfile() async throws {
        var configuration = Lab.Configuration()
        configuration.profiles = LabProfile.allCases
        let lab = try await Lab.start(configuration)
        defer { lab.stop() }
        XCTAssertTrue(lab.unavailable.isEmpty, "run scripts/lab-deps: \(lab.unavailable)")
        var options = LabIncidents.Options()
        options.longQuery = .seconds(10)
        for incident in LabIncidents.catalogue {
            let outcome = try await LabIncidents.run(incident, lab: lab, options: options)
            print(LabIncidents.table([outcome]), terminator: "")
            XCTAssertTrue(outcome.holds, "\(incident.id): \(outcome.problems)")
            XCTAssertEqual(Set(outcome.observed.keys), Set(incident.profiles(of: lab.profiles).map(\.rawValue)), incident.id)
        }
        let errors = await lab.controllerErrors()
        XCTAssertTrue(errors.isEmpty, "\(errors)")
    }

    func testTheDocumentCitesEveryThreadAndSaysWhyTheLabDoesNotReproduceOne() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "../../docs/incidents.md").standardized.path
        let document = try String(contentsOfFile: path, encoding: .utf8)
        for incident in LabIncidents.catalogue {
            XCTAssertTrue(document.contains("`\(incident.id)`"), "docs/incidents.md has \(incident.id)")
            for thread in incident.upstream { XCTAssertTrue(document.contains(thread), "\(incident.id) cites \(thread)") }
            if let why = incident.why {
                XCTAssertTrue(document.contains(String(why.prefix(60))), "\(incident.id): the document says why the lab does not reproduce it")
            }
        }
    }
}

func XCTAssertThrowsErrorAsync<T>(_ expression: @autoclosure () async throws -> T, _ handler: (any Error) -> Void, file: StaticString = #filePath, line: UInt = #line) async {
    do {
        _ = try await expression()
        XCTFail("no error thrown", file: file, line: line)
    } catch {
        handler(error)
    }
}
