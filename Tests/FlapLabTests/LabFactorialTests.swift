import FlapCore
@testable import FlapLab
import XCTest

/// The API × data-plane attribution on runs whose answer is known.
final class LabFactorialTests: XCTestCase {
    static func survival(_ lost: [LabProfile: Int], trials: Int, mutation: String = "delete-recreate") -> [String: Proportion] {
        var arms: [String: Proportion] = [:]
        for profile in LabProfile.factorial {
            arms["\(profile.rawValue)-control"] = Proportion(successes: trials, trials: trials)
            arms["\(profile.rawValue)-\(mutation)"] = Proportion(successes: trials - (lost[profile] ?? 0), trials: trials)
        }
        return arms
    }

    func testTheDataPlaneDecidesWhenOnlyTheNginxProfilesLoseQueries() throws {
        let reading = LabFactorial.reading(survival: Self.survival([.ingressNginx: 20, .nginxGatewayFabric: 20], trials: 40), profiles: LabProfile.factorial)
        let row = try XCTUnwrap(reading.rows.first)
        XCTAssertEqual(row.decided, "data plane")
        XCTAssertEqual(try XCTUnwrap(row.dataPlane).estimate, 0.5, accuracy: 1e-9, "Envoy minus nginx: +50 points of survival")
        XCTAssertEqual(try XCTUnwrap(row.api).estimate, 0, accuracy: 1e-9)
        XCTAssertTrue(try XCTUnwrap(row.api).lower < 0 && row.api!.upper > 0)
        XCTAssertEqual(row.change["ingress-nginx"] ?? 0, -0.5, accuracy: 1e-9)
        XCTAssertTrue(reading.headline.contains("delete-recreate: data plane"), reading.headline)
        let table = reading.text(profiles: LabProfile.factorial)
        XCTAssertTrue(table.contains("+50% ["), table)
        XCTAssertTrue(table.contains("envoy-gateway: endpoints inline") && table.contains("lower bound"),
                      "the table says in which direction each stand-in errs: \(table)")
        XCTAssertTrue(table.contains("ingress-nginx: reloads on endpoint changes") && table.contains("upper bound"), table)
    }

    func testTheAPIDecidesWhenOnlyTheIngressProfilesLoseQueries() throws {
        let reading = LabFactorial.reading(survival: Self.survival([.ingressNginx: 20, .contour: 20], trials: 40), profiles: LabProfile.factorial)
        XCTAssertEqual(reading.rows.first?.decided, "API")
        XCTAssertEqual(try XCTUnwrap(reading.rows.first?.api).estimate, 0.5, accuracy: 1e-9, "HTTPRoute minus Ingress")
    }

    func testTheHTMLTableLeadsWithTheHeadlineAndNamesEachProfilesAPIAndProxy() throws {
        let reading = LabFactorial.reading(survival: Self.survival([.ingressNginx: 20, .nginxGatewayFabric: 20], trials: 40), profiles: LabProfile.factorial)
        let html = reading.html(profiles: LabProfile.factorial)
        XCTAssertTrue(html.hasPrefix("<p><b>API × data plane on this run: delete-recreate: data plane</b></p>"), html)
        XCTAssertTrue(html.contains("<th>contour<br/><small>Ingress · envoy</small></th>"), html)
        XCTAssertTrue(html.contains("<td><b>data plane</b></td>"), html)
        XCTAssertFalse(html.contains("<script"))
    }

    func testWhenNeitherDecidesTheReadingSaysHowLargeAnEffectTheRunRulesOut() throws {
        let small = LabFactorial.reading(survival: Self.survival([.ingressNginx: 1], trials: 3), profiles: LabProfile.factorial)
        let smallBound = try XCTUnwrap(small.rows.first?.decided)
        XCTAssertTrue(smallBound.hasPrefix("neither (each within ±"), smallBound)
        // Every profile lost every query: no factor decided, and forty queries a cell rule out more than a small effect.
        let all = Dictionary(uniqueKeysWithValues: LabProfile.factorial.map { ($0, 40) })
        let large = try XCTUnwrap(LabFactorial.reading(survival: Self.survival(all, trials: 40), profiles: LabProfile.factorial).rows.first?.decided)
        func points(_ text: String) -> Int { Int(text.split(separator: "±").last!.split(separator: " ").first!)! }
        XCTAssertLessThan(points(large), points(smallBound), "\(large) vs \(smallBound)")
    }

    func testAMutationOnlyOneAPIHasGetsOnlyTheDataPlaneEffect() throws {
        var arms = Self.survival([:], trials: 10)
        arms["envoy-gateway-remove-readd-trino-b"] = Proportion(successes: 10, trials: 10)
        arms["nginx-gateway-fabric-remove-readd-trino-b"] = Proportion(successes: 4, trials: 10)
        let row = try XCTUnwrap(LabFactorial.reading(survival: arms, profiles: LabProfile.factorial).rows.first { $0.mutation == "remove-readd-trino-b" })
        XCTAssertNil(row.api)
        XCTAssertEqual(try XCTUnwrap(row.dataPlane).estimate, 0.6, accuracy: 1e-9)
        XCTAssertEqual(row.decided, "data plane")
    }

    func testACombinationOfTwoIsNewcombesInterval() {
        let a = Proportion(successes: 18, trials: 20), b = Proportion(successes: 9, trials: 20)
        let combination = ProportionCombination([(1, a), (-1, b)])
        let newcombe = ProportionDifference(a, b)
        XCTAssertEqual(combination.estimate, newcombe.difference, accuracy: 1e-12)
        XCTAssertEqual(combination.lower, newcombe.lower, accuracy: 1e-12)
        XCTAssertEqual(combination.upper, newcombe.upper, accuracy: 1e-12)
    }
}
