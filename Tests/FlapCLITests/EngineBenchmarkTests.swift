import FlapCore
@testable import FlapCommandLine
import FlapTesting
import Foundation
import XCTest

final class EngineBenchmarkTests: XCTestCase {
    /// Each level starts as many queries as it reports (fixed-rate arrivals used to leave the last one out).
    func testALevelStartsExactlyItsNumberOfQueries() async throws {
        let bench = try await InProcessEnvironment(queryDuration: .milliseconds(100))
        defer { bench.stop() }
        for level in [7, 20] {
            var configuration = EngineBenchmark.configuration(level: level, target: bench.gatewayTarget, ramp: .milliseconds(400),
                                                              hold: .milliseconds(200), kube: bench.kube)
            configuration.journalDirectory = bench.directory + "/journals"
            let report = try await ExperimentRunner(configuration: configuration).run()
            XCTAssertEqual(report.queries.count, level)
        }
    }
}
