import CustomMutatorExample
import FlapCore
import FlapTesting
import XCTest

final class ReadTimeoutMutatorTests: XCTestCase {
    func testTheMutatorKeepsEveryPromiseTheRunnerReliesOn() async throws {
        let passed = try await RouteMutatorVerifier(target: .ingress) { ReadTimeoutMutator(seconds: 5) }.verify()
        XCTAssertEqual(passed.count, RouteMutatorVerifier.Check.allCases.count)
    }

    func testItRefusesAnHTTPRouteBeforeWritingAnything() async throws {
        do {
            try await RouteMutatorVerifier(target: .httpRoute) { ReadTimeoutMutator() }.verify()
            XCTFail("an HTTPRoute target was accepted")
        } catch let error as RouteMutatorVerificationError {
            XCTAssertTrue(error.violations.allSatisfy { $0.detail.contains("is not an Ingress") }, "\(error)")
        }
    }

    func testTheBrokenMutatorFailsVerificationNamingTheObjectItLeaks() async throws {
        do {
            try await RouteMutatorVerifier(target: .ingress) { UndeclaredAuditMutator() }.verify()
            XCTFail("the verifier accepted a mutator that writes an undeclared ConfigMap")
        } catch let error as RouteMutatorVerificationError {
            XCTAssertEqual(error.mutator, "undeclared-audit")
            let checks = Set(error.violations.map(\.check))
            XCTAssertTrue(checks.isSuperset(of: [.declaresWrites, .restoreAfterFlap, .restoreAfterPartialFlap]), "\(error)")
            XCTAssertTrue(error.description.contains("ConfigMap default/flap-audit-0"), error.description)
        }
    }
}
