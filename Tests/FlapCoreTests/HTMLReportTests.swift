@testable import FlapCore
import FlapJSON
import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import XCTest

/// The HTML report as a reader meets it: parseable, verdict first, every arm labelled in every chart, colours that
/// stay distinct for colour-blind readers, a bounded page at 100,000 queries, and a layout for phones and print.
final class HTMLReportTests: XCTestCase {
    /// `arms` arms (the first a control) sharing `queries` queries; every 7th fails with 404, every 11th is reset.
    static func report(arms: Int, queries: Int, name: (Int) -> String = { "arm-\($0)" }) throws -> ExperimentReport {
        let ok = QueryOutcome(succeeded: true)
        let notFound = QueryOutcome(succeeded: false, failureClass: .httpStatus, detail: "HTTP 404", failedHop: 2, httpStatus: 404)
        let reset = QueryOutcome(succeeded: false, failureClass: .connectionReset, detail: "reset", failedHop: 1)
        let template = QueryRecordFixture.make(outcome: ok, hops: [])
        var records: [QueryRecord] = []
        records.reserveCapacity(queries)
        for index in 0..<queries {
            var q = template
            q.id = index
            q.arm = ArmID(name(index % arms))
            q.intendedStart = Double(index) * 0.001
            q.actualStart = q.intendedStart
            q.end = q.intendedStart + 1.8 + Double(index % 13) * 0.05
            q.outcome = index % arms == 0 ? ok : index % 7 == 0 ? notFound : index % 11 == 0 ? reset : ok
            records.append(q)
        }
        var report = ExperimentReportFixture.with(queries: records)
        report.duration = Double(queries) * 0.001 + 2
        let encoder = JSONEncoder()
        func json(_ value: some Encodable) throws -> JSONValue { try JSONValue.parse(Array(try encoder.encode(value))) }
        for k in 0..<arms {
            let mine = records.filter { $0.arm.rawValue == name(k) }
            let succeeded = mine.filter(\.outcome.succeeded)
            var failures: [String: JSONValue] = [:]
            for q in mine where !q.outcome.succeeded { failures[q.outcome.label] = .int((failures[q.outcome.label]?.intValue ?? 0) + 1) }
            let latency = LatencySummary(seconds: succeeded.map(\.latency))
            let arm: JSONValue = [
                "name": .string(name(k)), "target": ["kind": "ingress", "name": "trino", "namespace": "default", "url": "http://localhost:8080"],
                "mutator": k == 0 ? "control" : "delete-recreate", "isControl": .bool(k == 0), "queries": .int(mine.count),
                "survival": try json(Proportion(successes: succeeded.count, trials: mine.count)), "failures": .object(failures),
                "latency": latency.map { ["all": try! json($0)] } ?? [:],
                "latencyHistogram": ["counts": [:], "count": 0, "minMicros": 0, "maxMicros": 0, "sumMicros": 0],
                "connections": ["opened": 1, "reconnects": 0, "queriesWithReconnects": 0, "attributableToMutations": 0], "profiles": [:],
            ]
            report.arms.append(try JSONDecoder().decode(ArmReport.self, from: Data(arm.serializedBytes)))
        }
        return report
    }

    static func parse(_ html: String) throws -> XMLDocument {
        try XMLDocument(xmlString: html, options: [])
    }

    func testAHundredThousandQueriesMakeABoundedWellFormedPageWithEveryArmLabelled() throws {
        let report = try Self.report(arms: 18, queries: 100_000)
        let html = HTMLRenderer.render(report)
        XCTAssertLessThan(html.utf8.count, 1_500_000, "queries are binned, not drawn one by one")
        let document = try Self.parse(html)
        let labels = try document.nodes(forXPath: "//*[local-name()='svg']/*[local-name()='text']").compactMap(\.stringValue)
        for k in 0..<18 {
            XCTAssertEqual(labels.filter { $0 == "arm-\(k)" }.count, 3, "arm-\(k) labels its row in the survival, timeline and latency charts")
        }
        let half = HTMLRenderer.render(try Self.report(arms: 18, queries: 50_000))
        XCTAssertLessThan(Double(html.utf8.count), Double(half.utf8.count) * 1.1, "twice the queries, the same page: it grows with arms and time bins only")
    }

    func testTheVerdictAndWhatFailedComeFirst() throws {
        let report = try Self.report(arms: 3, queries: 300)
        let html = HTMLRenderer.render(report)
        let verdict = try XCTUnwrap(html.range(of: "<span class=\"verdict"))
        let arms = try XCTUnwrap(html.range(of: "<h2>Arms</h2>"))
        XCTAssertLessThan(verdict.lowerBound, arms.lowerBound)
        let header = String(html[..<arms.lowerBound])
        XCTAssertTrue(header.contains("<b>arm-1</b>: ") && header.contains("http-404 ×"), header)
        XCTAssertFalse(header.contains("<b>arm-0</b>"), "the control lost nothing and is not listed")
    }

    func testColoursAreDistinctAndEveryMarkAlsoSaysItsClass() throws {
        let colors = HTMLRenderer.outcomeColors.map(\.color)
        XCTAssertEqual(Set(colors).count, colors.count)
        let html = HTMLRenderer.render(try Self.report(arms: 3, queries: 300))
        XCTAssertTrue(html.contains("http-404</title>") || html.contains(" http-404 from "), "a failure mark names its class")
        for (label, color) in HTMLRenderer.outcomeColors {
            XCTAssertTrue(html.contains("background:\(color)\"></i>\(label)</span>"), "the key names \(label)")
        }
    }

    func testPhonesAndPrintGetEveryColumn() throws {
        let html = HTMLRenderer.render(try Self.report(arms: 4, queries: 400))
        XCTAssertTrue(html.contains("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>"))
        let document = try Self.parse(html)
        let svgs = try document.nodes(forXPath: "//*[local-name()='svg']")
        XCTAssertFalse(svgs.isEmpty)
        for svg in svgs {
            let element = try XCTUnwrap(svg as? XMLElement)
            let attributes = (element.attributes ?? []).compactMap(\.name)
            XCTAssertTrue(attributes.contains("viewBox"), "every chart scales: \(attributes)")
            XCTAssertFalse(attributes.contains("width"), "no fixed width")
        }
        XCTAssertTrue(html.contains("@media print{") && html.contains(".scroll,.chart{overflow:visible}"), "printing shows every column")
        XCTAssertFalse(html.contains("<script"))
        XCTAssertFalse(html.contains("http://") && html.contains("src=\"http"), "no external resources")
    }

    func testNamesAreEscapedEverywhere() throws {
        let report = try Self.report(arms: 2, queries: 40) { $0 == 0 ? "control" : "<script>alert(1)</script>|a&b" }
        let html = HTMLRenderer.render(report)
        XCTAssertFalse(html.contains("<script>"))
        XCTAssertNoThrow(try Self.parse(html))
    }

    func testLatencyUsesALogAxisWhenTheSpreadIsWide() throws {
        var report = try Self.report(arms: 2, queries: 100)
        report.arms[1].latency["all"] = LatencySummary(seconds: [0.002, 0.003, 4.0])
        let html = HTMLRenderer.render(report)
        XCTAssertTrue(html.contains("log scale"), "2 ms to 4 s")
        XCTAssertTrue(html.contains(">10 ms</text>") && html.contains(">1.00 s</text>"), "ticks labelled with units")
    }
}
