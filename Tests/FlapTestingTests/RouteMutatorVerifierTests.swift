import FlapCore
import FlapTesting
import KubeClient
import XCTest

final class RouteMutatorVerifierTests: XCTestCase {
    func testEveryBuiltInMutatorKeepsItsPromisesOnBothRouteKinds() async throws {
        let factories: [(RouteTarget.Kind, RouteMutatorVerifier.Factory)] = [
            (.httpRoute, { ControlMutator() }),
            (.httpRoute, { DeleteRecreateMutator() }),
            (.ingress, { DeleteRecreateMutator() }),
            (.httpRoute, { RemoveReaddBackendMutator(backend: "trino-b") }),
            (.httpRoute, { ShiftWeightsMutator(steps: [[100, 0], [50, 50], [0, 100]]) }),
            (.httpRoute, { SwapBackendMutator(from: "trino", to: "trino-c") }),
            (.httpRoute, { HeaderFilterToggleMutator() }),
            (.ingress, { HeaderFilterToggleMutator() }),
            (.ingress, { NeighbourChangeMutator(neighbour: "neighbour") }),
            (.httpRoute, { FillerRoutesMutator(count: 3) }),
            (.ingress, { TouchMutator() }),
        ]
        for (kind, factory) in factories {
            do {
                let passed = try await RouteMutatorVerifier(target: kind, makeMutator: factory).verify()
                XCTAssertEqual(passed.count, RouteMutatorVerifier.Check.allCases.count)
            } catch {
                XCTFail("\(factory().name) on \(kind): \(error)")
            }
        }
    }

    func testAWriteTouchedObjectsDidNotNameIsReportedWithTheObject() async throws {
        let error = try await self.verificationError { UndeclaredWriteMutator() }
        XCTAssertEqual(error.mutator, "undeclared-write")
        let violation = try XCTUnwrap(error.violations.first { $0.check == .declaresWrites })
        XCTAssertTrue(violation.detail.contains("HTTPRoute default/neighbour"), violation.detail)
        XCTAssertTrue(error.violations.contains { $0.check == .restoreAfterFlap }, "\(error)")
    }

    func testAWriteWithoutTheRunAnnotationIsReported() async throws {
        let error = try await self.verificationError { AppendingFilterMutator(annotate: false) }
        let violation = try XCTUnwrap(error.violations.first { $0.check == .flapAndAnnotate })
        XCTAssertTrue(violation.detail.contains(MutationContext.runAnnotation), violation.detail)
    }

    func testAStepThatStacksChangesWhenAppliedTwiceIsNotIdempotent() async throws {
        let error = try await self.verificationError { AppendingFilterMutator(annotate: true) }
        XCTAssertEqual(error.violations.map(\.check), [.idempotentSteps], "\(error)")
        XCTAssertTrue(error.violations[0].detail.contains("step 0 applied twice changed: HTTPRoute default/trino"), error.violations[0].detail)
    }

    func testAMutatorThatKeepsWritingAfterCancellationIsReported() async throws {
        let error = try await self.verificationError { DetachedWritesMutator() }
        let violation = try XCTUnwrap(error.violations.first { $0.check == .honoursCancellation }, "\(error)")
        XCTAssertTrue(violation.detail.contains("writes landed after cancellation"), violation.detail)
        XCTAssertTrue(error.description.contains("mutator detached-writes breaks"), error.description)
    }

    private func verificationError(_ factory: @escaping RouteMutatorVerifier.Factory) async throws -> RouteMutatorVerificationError {
        do {
            try await RouteMutatorVerifier(makeMutator: factory).verify()
        } catch let error as RouteMutatorVerificationError {
            return error
        }
        XCTFail("the verifier accepted \(factory().name)")
        throw CancellationError()
    }
}

/// Declares the target but also changes the neighbour route.
private struct UndeclaredWriteMutator: RouteMutator {
    var name: String { "undeclared-write" }
    func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }
    func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        try await context.kube.modify(HTTPRoute.self, name: "neighbour", namespace: "default") { route in
            route.spec.hostnames = step % 2 == 0 ? ["changed.example.com"] : ["neighbour.example.com", "again.example.com"]
            context.annotate(&route)
        }
        return MutationOutcome(description: "changed the neighbour")
    }
}

/// Appends a header filter on every apply instead of setting it, optionally without the run annotation.
private struct AppendingFilterMutator: RouteMutator {
    var annotate: Bool
    var name: String { "appending-filter" }
    func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }
    func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        try await context.kube.modify(HTTPRoute.self, name: context.target.name, namespace: context.target.namespace) { route in
            if step % 2 == 0 {
                route.spec.rules[0].filters.append(.responseHeader(set: "X-Stacked", to: context.marker))
            } else {
                route.spec.rules[0].filters.removeAll()
            }
            if self.annotate { context.annotate(&route) }
        }
        return MutationOutcome(description: "stacked a filter")
    }
}

/// Hands its writes to a task cancellation does not reach, so they keep landing after the run is cancelled.
private struct DetachedWritesMutator: RouteMutator {
    var name: String { "detached-writes" }
    var stepsPerFlap: Int { 1 }
    func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { [context.target.reference] }
    func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        let writes = Task.detached {
            for index in 0..<4 {
                try await context.kube.modify(HTTPRoute.self, name: context.target.name, namespace: context.target.namespace) { route in
                    route.spec.hostnames = ["trino.example.com", "extra-\(index).example.com"]
                    context.annotate(&route)
                }
            }
        }
        try await writes.value
        return MutationOutcome(description: "four writes")
    }
}
