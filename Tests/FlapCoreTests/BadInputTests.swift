import FlapCore
import FlapJSON
import FlapTesting
import Foundation
import KubeClient
import XCTest

/// Input that used to trap or mislead: each gives a specific error naming the field, before anything runs.
final class BadInputTests: XCTestCase {
    func testTheRunnerRefusesAnUnusableConfigurationBeforeWritingAJournal() async throws {
        let state = try TempState()
        var configuration = ExperimentConfiguration(
            arms: [.init(target: RouteTarget(kind: .ingress, name: "trino", url: URL(string: "http://x")!), mutator: ControlMutator())],
            workload: HTTPWorkload(), kube: KubeClient(configuration: KubeClient.Configuration(server: URL(string: "http://127.0.0.1:1")!)))
        configuration.journalDirectory = state.path + "/journals"
        for (change, expected) in [({ (c: inout ExperimentConfiguration) in c.load.cohort = -1 }, "load.cohort"),
                                   ({ $0.schedule.slot = .zero }, "schedule.slot"),
                                   ({ $0.load.arrival = .fixed(perSecond: .nan) }, "rate"),
                                   ({ $0.schedule.flapAt = 0.9; $0.schedule.unflapAt = 0.1 }, "flapAt")] {
            var bad = configuration
            change(&bad)
            do {
                _ = try await ExperimentRunner(configuration: bad).run()
                XCTFail("ran with \(expected)")
            } catch let error as ExperimentError {
                XCTAssertTrue(error.description.contains(expected), "\(error)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: state.path + "/journals"), "no journal was written")
    }

    func testDeeplyNestedDocumentsAreRefusedNotRecursedInto() {
        let deep = String(repeating: #"{"a":"#, count: 5000) + "1" + String(repeating: "}", count: 5000)
        XCTAssertThrowsError(try JSONValue.parse(deep)) { XCTAssertTrue("\($0)".contains("nesting deeper than"), "\($0)") }
        XCTAssertThrowsError(try YAML.parse("a: " + deep)) { XCTAssertTrue("\($0)".contains("nesting deeper than"), "\($0)") }
        let block = (0..<5000).map { String(repeating: " ", count: $0) + "k\($0):" }.joined(separator: "\n") + " 1"
        XCTAssertThrowsError(try YAML.parse(block)) { XCTAssertTrue("\($0)".contains("nesting deeper than"), "\($0)") }
        XCTAssertNoThrow(try JSONValue.parse(String(repeating: "[", count: 50) + String(repeating: "]", count: 50)))
    }
}

final class EmptyArmRenderingTests: XCTestCase {
    func testAnArmWithoutQueriesRendersAsNoDataNeverNaN() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: ControlMutator()),
                                               .init(target: lab.ingressTarget, mutator: TouchMutator())])
        configuration.schedule.rounds = 1
        configuration.schedule.slot = .milliseconds(300)
        configuration.schedule.arrivalWindow = 0
        let report = try await ExperimentRunner(configuration: configuration).run()
        XCTAssertEqual(report.queries.count, 0)
        XCTAssertNil(report.arm("ingress-touch")?.versusControl, "no difference without data")
        for (format, text) in [("text", TextRenderer.render(report)), ("markdown", MarkdownRenderer.render(report)), ("html", HTMLRenderer.render(report))] {
            XCTAssertFalse(text.lowercased().contains("nan%") || text.contains("nan-") || text.contains("nan–"), "\(format): \(text)")
            XCTAssertTrue(text.contains("no data"), "\(format) says so")
        }
    }
}

final class TamperedReportTests: XCTestCase {
    func testAReportWithImpossibleCountsIsRefusedNotRendered() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        var configuration = lab.configuration([.init(target: lab.ingressTarget, mutator: ControlMutator())])
        configuration.schedule.rounds = 1
        configuration.schedule.slot = .milliseconds(600)
        let report = try await ExperimentRunner(configuration: configuration).run()
        var json = try JSONValue.parse([UInt8](try report.encoded()))
        XCTAssertNoThrow(try ExperimentReport.decode(Data(json.serialized.utf8)))
        json.setValue(.int(-3), at: "droppedArrivals")
        XCTAssertThrowsError(try ExperimentReport.decode(Data(json.serialized.utf8))) { error in
            XCTAssertTrue("\(error)".contains("droppedArrivals is -3"), "\(error)")
        }
    }
}
