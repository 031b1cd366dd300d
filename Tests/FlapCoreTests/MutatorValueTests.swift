import FlapCore
import FlapTesting
import KubeClient
import XCTest

/// Mutators are values: what one remembers between steps lives in the arm's `MutationContext.state`, so one
/// mutator value used by two arms keeps each arm's memory apart.
final class MutatorValueTests: XCTestCase {
    func testOneMutatorValueFlappingTwoRoutesRecreatesEachFromItsOwnMemory() async throws {
        let environment = try await InProcessEnvironment()
        defer { environment.stop() }
        let mutator = DeleteRecreateMutator()
        let ingress = MutationContext(kube: environment.kube, target: environment.ingressTarget, runID: "value-test", marker: "m-1")
        let gateway = MutationContext(kube: environment.kube, target: environment.gatewayTarget, runID: "value-test", marker: "m-2")
        let ingressBefore = try await environment.kube.get(Ingress.self, name: "trino", namespace: "default")

        _ = try await mutator.apply(step: 0, in: ingress)
        _ = try await mutator.apply(step: 0, in: gateway)
        let recreated = try await mutator.apply(step: 1, in: ingress)

        XCTAssertEqual(recreated.description, "recreated Ingress default/trino")
        let ingressAfter = try await environment.kube.get(Ingress.self, name: "trino", namespace: "default")
        XCTAssertEqual(ingressAfter.spec.rules.map(\.host), ingressBefore.spec.rules.map(\.host), "the Ingress came back as it was, not as the HTTPRoute")
        _ = try await mutator.apply(step: 1, in: gateway)
        let route = try await environment.kube.get(HTTPRoute.self, name: "trino", namespace: "default")
        XCTAssertEqual(route.spec.hostnames, ["trino.example.com"])
    }

    func testStateIsTypedByItsKey() {
        let state = MutatorState()
        let count = MutatorStateKey<Int>("count")
        XCTAssertNil(state[count])
        state[count] = 3
        XCTAssertEqual(state[count], 3)
        XCTAssertNil(state[MutatorStateKey<String>("count")], "a key of another type reads nothing, never a wrong value")
        state[count] = nil
        XCTAssertNil(state[count])
    }
}
