@testable import FlapCore
import FlapFakes
import FlapJSON
import FlapTesting
import Foundation
import HTTPWire
import KubeClient
import TrinoClient
import XCTest

final class AnalysisTests: XCTestCase {
    private func trace(_ hops: [QueryTrace.Hop]) -> QueryTrace {
        QueryTrace(transport: "socket", queryID: "q", start: .now, end: .now, hops: hops)
    }

    private func hop(_ index: Int, _ failures: [HopFailure?], method: String = "GET") -> QueryTrace.Hop {
        QueryTrace.Hop(index: index, purpose: index == 0 ? .submit : .poll, method: index == 0 ? "POST" : method, uri: "http://x/\(index)",
                       attempts: failures.map { failure in
                           QueryTrace.Attempt(start: .now, end: .now, status: failure == nil ? 200 : nil, bytesSent: 0, bytesReceived: 0,
                                              connection: nil, connectionEvents: [], failure: failure)
                       })
    }

    func testClassificationNamesTheClassAndTheHopThatBroke() {
        let broken = self.trace([self.hop(0, [nil]), self.hop(1, [nil]), self.hop(2, [.status(404, retryAfter: nil)])])
        let notFound = QueryOutcome.classify(trinoError: TrinoProtocolError.unexpectedStatus(status: 404, method: "GET", uri: "u", bodyExcerpt: ""), trace: broken)
        XCTAssertEqual(notFound.failureClass, .httpStatus)
        XCTAssertEqual(notFound.httpStatus, 404)
        XCTAssertEqual(notFound.failedHop, 2)
        XCTAssertEqual(notFound.label, "http-404")
        let reset = QueryOutcome.classify(trinoError: TrinoTransportError(method: "GET", uri: "u", attempts: 1, underlying: .connectionReset(reusedConnection: true)), trace: broken)
        XCTAssertEqual(reset.label, "connection-reset")
        let closed = QueryOutcome.classify(trinoError: TrinoTransportError(method: "GET", uri: "u", attempts: 1, underlying: .closedBeforeComplete(received: 0, reusedConnection: true)), trace: broken)
        XCTAssertEqual(closed.label, "connection-closed")
        let refused = QueryOutcome.classify(HTTPRequestFailure(error: .connectionRefused(host: "h", port: 1)), trace: broken)
        XCTAssertEqual(refused.label, "connection-refused")
        let timeout = QueryOutcome.classify(trinoError: TrinoTransportError(method: "GET", uri: "u", attempts: 1, underlying: .readTimedOut(received: 0)), trace: broken)
        XCTAssertEqual(timeout.label, "timeout")
        let gaveUp = QueryOutcome.classify(trinoError: TrinoClientError.deadlineExceeded(after: .seconds(1), queryID: "q"), trace: broken)
        XCTAssertEqual(gaveUp.label, "client-gave-up")
        let html = QueryOutcome.classify(trinoError: TrinoProtocolError.notJSON(status: 200, contentType: "text/html", uri: "u", bodyExcerpt: "<html>", parseError: "x"), trace: broken)
        XCTAssertEqual(html.label, "protocol-error")
    }

    func testSinceMutationCountsFromTheLastWriteBeforeTheFailure() {
        // Delete at 16.0 s, recreate at 17.2 s, the query failed at 16.6 s: 0.6 s after the delete, not 0.6 s before
        // the recreate (the nearest write, which is what schema 1 reported).
        XCTAssertEqual(ReportBuilder.sinceMutation(16.6, writes: [16.0, 17.2])!, 0.6, accuracy: 1e-9)
        XCTAssertEqual(ReportBuilder.sinceMutation(17.5, writes: [16.0, 17.2])!, 0.3, accuracy: 1e-9)
        XCTAssertEqual(ReportBuilder.sinceMutation(5, writes: [6, 7])!, -1, accuracy: 1e-9, "before any write: negative, to the first")
        XCTAssertNil(ReportBuilder.sinceMutation(5, writes: []), "a control arm has no write")
    }

    func testEveryOutputNamesAFailureWithOneVocabulary() throws {
        let notFound = QueryOutcome(succeeded: false, failureClass: .httpStatus, detail: "HTTP 404", failedHop: 2, httpStatus: 404)
        let json = String(decoding: try JSONEncoder().encode(notFound), as: UTF8.self)
        XCTAssertTrue(json.contains(#""failureClass":"http-404""#), json)
        XCTAssertEqual(try JSONDecoder().decode(QueryOutcome.self, from: Data(json.utf8)), notFound)
        let abandoned = QueryOutcome(succeeded: false, failureClass: .trinoError, trinoErrorName: "ABANDONED_QUERY")
        XCTAssertTrue(String(decoding: try JSONEncoder().encode(abandoned), as: UTF8.self).contains(#""failureClass":"trino:ABANDONED_QUERY""#))
        let legacy = #"{"succeeded":false,"failureClass":"http-status","httpStatus":503}"#
        XCTAssertEqual(try JSONDecoder().decode(QueryOutcome.self, from: Data(legacy.utf8)).failureClass, .httpStatus, "schema 1 reports still read")
        let csv = CSVRenderer.render(ExperimentReportFixture.with(queries: [QueryRecordFixture.make(outcome: notFound, hops: [])]))
        let header = csv.split(separator: "\n")[0].split(separator: ",", omittingEmptySubsequences: false)
        let row = csv.split(separator: "\n")[1].split(separator: ",", omittingEmptySubsequences: false)
        XCTAssertEqual(row[header.firstIndex(of: "failure_class")!], "http-404")
        XCTAssertEqual(row[header.firstIndex(of: "http_status")!], "404")
        XCTAssertEqual(header.count, CSVRenderer.queryColumns.count)
        XCTAssertEqual(row.count, header.count, "every row has every column")
    }

    func testClientProfilesAreComputedFromTheAttempts() {
        func record(_ failures: [String], method: String = "GET", succeeded: Bool, failureClass: QueryOutcome.FailureClass? = nil) -> QueryRecord {
            let hop = HopRecordFixture.make(method: method, attemptFailures: failures)
            return QueryRecordFixture.make(outcome: QueryOutcome(succeeded: succeeded, failureClass: failureClass), hops: [hop])
        }
        // A profile that would retry the failure that ended the query: whether that retry would have been answered,
        // the run did not test.
        let badGateway = record(["status:502"], succeeded: false, failureClass: .httpStatus)
        XCTAssertEqual(RetryPolicy.presets.map { ClientProfiles.verdict(badGateway, under: $0) }, [.fails, .unknown, .unknown, .unknown, .unknown])
        let reset = record(["wire:connectionReset"], succeeded: false, failureClass: .connectionReset)
        XCTAssertEqual(RetryPolicy.presets.map { ClientProfiles.verdict(reset, under: $0) }, [.fails, .fails, .unknown, .unknown, .fails])
        let resetOnPost = record(["wire:connectionReset"], method: "POST", succeeded: false, failureClass: .connectionReset)
        XCTAssertEqual(RetryPolicy.presets.map { ClientProfiles.verdict(resetOnPost, under: $0) }, [.fails, .fails, .fails, .unknown, .fails])
        // Retries the run made itself have known answers: the trace decides.
        let threeFailures = record(["status:503", "status:503", "status:503"], succeeded: true)
        XCTAssertEqual(ClientProfiles.verdict(threeFailures, under: .pythonClient), .fails, "python makes 3 attempts in all")
        XCTAssertEqual(ClientProfiles.verdict(threeFailures, under: .javaClient), .survives)
        let abandoned = record([], succeeded: false, failureClass: .trinoError)
        XCTAssertFalse(RetryPolicy.presets.contains { ClientProfiles.verdict(abandoned, under: $0) != .fails }, "no client survives a server-side failure")
    }

    /// The counterfactual agrees with the server: run with no retries, then with each profile's retries, against
    /// the same faults, and compare with what FakeTrinoServer's ledger says happened.
    func testProfilesAgreeWithTheLedgerWhenQueriesAreRerun() async throws {
        for policy in [RetryPolicy.javaClient, .pythonClient, .goClient] {
            let trino = try FakeTrinoServer()
            defer { trino.stop() }
            let target = RouteTarget(kind: .ingress, name: "r", url: trino.url)
            trino.inject(FakeTrinoFault(.closeWithoutResponse, on: .poll, count: 1))
            let raw = await TrinoQueryWorkload(retryPolicy: .none).run(0, through: target, deadline: .now + .seconds(10))
            XCTAssertFalse(raw.outcome.succeeded)
            let clock = RunClock(origin: raw.trace.start)
            let record = QueryRecordFixture.make(outcome: raw.outcome, hops: raw.trace.hops.map { HopRecord($0, clock: clock) })
            let predicted = ClientProfiles.verdict(record, under: policy) != .fails   // the bound's upper end
            trino.inject(FakeTrinoFault(.closeWithoutResponse, on: .poll, count: 1))
            let rerun = await TrinoQueryWorkload(retryPolicy: policy).run(1, through: target, deadline: .now + .seconds(10))
            XCTAssertEqual(predicted, rerun.outcome.succeeded, "\(policy.name)")
            XCTAssertEqual(trino.ledger.last?.outcome == .finished, predicted, "the server's ledger agrees for \(policy.name)")
        }
    }

    func testReportRoundTripsThroughJSON() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        var configuration = lab.configuration([
            .init(target: lab.gatewayTarget, mutator: ControlMutator()),
            .init(target: lab.gatewayTarget, mutator: TouchMutator()),
        ])
        configuration.schedule.rounds = 1
        configuration.schedule.slot = .milliseconds(800)
        configuration.gates = [try Gate.parse("survival(gateway-control) >= 0.5"), try Gate.parse("p99(gateway-touch) < 30s")]
        let report = try await ExperimentRunner(configuration: configuration).run()
        XCTAssertEqual(report.gates.map(\.expression), ["survival(gateway-control) >= 0.5", "p99(gateway-touch) < 30s"], "the builder judged the gates")
        let json = try report.encoded()
        let decoded = try ExperimentReport.decode(json)
        XCTAssertEqual(try decoded.encoded(), json, "JSON -> report -> JSON is lossless")
        XCTAssertEqual(decoded.arms, report.arms)
        XCTAssertEqual(decoded.queries, report.queries)
        XCTAssertEqual(decoded.schemaVersion, ExperimentReport.currentSchemaVersion)
        XCTAssertTrue(decoded.gatesPassed)
        for format in ReportFormat.allCases { XCTAssertFalse(try format.render(decoded).isEmpty, "\(format)") }
        var future = try JSONSerialization.jsonObject(with: try report.encoded()) as! [String: Any]
        future["schemaVersion"] = 99
        XCTAssertThrowsError(try ExperimentReport.decode(try JSONSerialization.data(withJSONObject: future)))
    }

    func testCancellingARunAtRandomMomentsRestoresEveryObject() async throws {
        var generator = SplitMix(seed: 7)
        for attempt in 0..<3 {
            let lab = try await InProcessEnvironment(queryDuration: .milliseconds(300))
            let before = lab.api.snapshot()
            var configuration = lab.configuration([
                .init(target: lab.ingressTarget, mutator: DeleteRecreateMutator()),
                .init(target: lab.gatewayTarget, mutator: FillerRoutesMutator(count: 3)),
                .init(target: lab.gatewayTarget, mutator: HeaderFilterToggleMutator()),
            ])
            configuration.schedule.slot = .milliseconds(600)
            configuration.schedule.rounds = 3
            let runner = ExperimentRunner(configuration: configuration)
            let task = Task { try await runner.run() }
            try await Task.sleep(for: .milliseconds(Int64.random(in: 300...2500, using: &generator)))
            task.cancel()
            _ = try? await task.value
            let after = lab.api.snapshot()
            XCTAssertEqual(Set(after.keys), Set(before.keys), "attempt \(attempt): no object left created or deleted")
            XCTAssertEqual(after.mapValues(Self.spec), before.mapValues(Self.spec), "attempt \(attempt): every spec is back")
            XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: configuration.journalDirectory).isEmpty)
            lab.stop()
        }
    }

    func testStopRequestGivesAPartialReportAndARunCannotStartTwice() async throws {
        let lab = try await InProcessEnvironment()
        defer { lab.stop() }
        let runner = ExperimentRunner(configuration: lab.configuration([.init(target: lab.gatewayTarget, mutator: TouchMutator())]))
        await runner.requestStop()
        let report = try await runner.run()
        XCTAssertTrue(report.partial)
        do {
            _ = try await runner.run()
            XCTFail("a second run must be refused")
        } catch let error as ExperimentError {
            XCTAssertEqual(error.code, .alreadyFinished)
        }
    }

    static func spec(_ object: JSONValue) -> JSONValue { object["spec"] ?? .null }
}

enum HopRecordFixture {
    static func make(method: String, attemptFailures: [String]) -> HopRecord {
        let json: JSONValue = ["index": 1, "purpose": "poll", "method": .string(method), "start": 0, "end": 0, "attempts": .int(max(1, attemptFailures.count)),
                               "bytes": 0, "attemptFailures": .array(attemptFailures.map { .string($0) }), "connectionEvents": []]
        return try! JSONDecoder().decode(HopRecord.self, from: Data(json.serialized.utf8))
    }
}

enum QueryRecordFixture {
    static func make(outcome: QueryOutcome, hops: [HopRecord]) -> QueryRecord {
        let json: JSONValue = ["id": 0, "arm": "a", "round": 0, "label": "q", "intendedStart": 0, "actualStart": 0, "end": 1, "rows": 0,
                               "hops": [], "connectionsOpened": 1, "reconnects": 0, "phase": "during", "transport": "socket",
                               "outcome": (try? JSONValue.parse([UInt8](JSONEncoder().encode(outcome)))) ?? .null]
        var record = try! JSONDecoder().decode(QueryRecord.self, from: Data(json.serialized.utf8))
        record.hops = hops
        return record
    }
}

enum ExperimentReportFixture {
    static func with(queries: [QueryRecord]) -> ExperimentReport {
        let json: JSONValue = ["schemaVersion": .int(ExperimentReport.currentSchemaVersion), "runID": "r", "name": "n", "startedAt": "2026-12-02T00:00:00Z",
                               "duration": 1, "partial": false, "arms": [], "comparisons": [], "mutations": [], "queries": [], "droppedArrivals": 0, "gates": []]
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        var report = try! decoder.decode(ExperimentReport.self, from: Data(json.serialized.utf8))
        report.queries = queries
        return report
    }
}

final class ClientProfileBoundTests: XCTestCase {
    /// The issue's observation: against a closed port every hop is refused, and a profile that retries was shown as
    /// 100% survival. Its retries were never answered, so it is a bound from 0 to 100%, labelled so.
    func testEveryHopRefusedIsABoundNotAHundredPercent() throws {
        let refused = (0..<10).map { _ in
            QueryRecordFixture.make(outcome: QueryOutcome(succeeded: false, failureClass: .connectionRefused, failedHop: 0),
                                    hops: [HopRecordFixture.make(method: "POST", attemptFailures: ["wire:connectionRefused"])])
        }
        let python = ClientProfiles.survival(refused, under: .pythonClient)
        XCTAssertEqual(python.lower.successes, 0)
        XCTAssertEqual(python.upper.successes, 10)
        XCTAssertFalse(python.isPoint)
        XCTAssertEqual(python.text, "0.0-100.0% (bound)")
        let none = ClientProfiles.survival(refused, under: .none)
        XCTAssertTrue(none.isPoint, "a client that does not retry is decided by the trace")
        XCTAssertEqual(none.text, "0.0%")

        // A gate or an expectation never passes on an untried retry.
        var report = ExperimentReportFixture.with(queries: refused)
        let target = RouteTarget(kind: .ingress, name: "r", url: URL(string: "http://127.0.0.1:1")!)
        report.arms = [ArmAnalysis.report(arm: .init(target: target, mutator: ControlMutator()), queries: refused, mutations: [])]
        XCTAssertEqual(report.arms[0].profiles["python"], python)
        let gate = try Gate.parse("survival(\(report.arms[0].name), python) >= 0.5").evaluate(report)
        XCTAssertFalse(gate.passed)
        XCTAssertTrue(gate.message.contains("measured a bound 0.0000-1.0000 (10 queries hang on retries the run did not make): undecided"), gate.message)
        XCTAssertThrowsError(try report.expect(survival: 0.5, arm: report.arms[0].name, profile: .python))
        XCTAssertTrue(TextRenderer.render(report).contains("0.0-100.0% (bound)"), TextRenderer.render(report))

        // Schema 2 stored the upper bound alone; it reads back as the bound it was.
        let legacy = try JSONDecoder().decode(ProfileSurvival.self, from: Data(#"{"successes": 10, "trials": 10, "lower": 0.72, "upper": 1}"#.utf8))
        XCTAssertEqual(legacy.text, "0.0-100.0% (bound)")
        XCTAssertEqual(try JSONDecoder().decode(ProfileSurvival.self, from: JSONEncoder().encode(python)), python)
    }
}

final class MarkdownRenderingTests: XCTestCase {
    /// A PR comment: verdict, run and gates first; a fixed column count in every row whatever the names hold;
    /// tiny p-values in scientific form.
    func testTheTableKeepsItsColumnsAndEscapesEveryCell() throws {
        let target = RouteTarget(kind: .ingress, name: "r", url: URL(string: "http://127.0.0.1:1")!)
        let failed = (0..<30).map { _ in QueryRecordFixture.make(outcome: QueryOutcome(succeeded: false, failureClass: .httpStatus, failedHop: 0, httpStatus: 404), hops: []) }
        let passed = (0..<30).map { _ in QueryRecordFixture.make(outcome: QueryOutcome(succeeded: true), hops: []) }
        var report = ExperimentReportFixture.with(queries: [])
        report.name = "nightly | <script>alert(1)</script>"
        let control = ArmAnalysis.report(arm: .init(target: target, targetName: "a|b", mutator: ControlMutator()), queries: passed, mutations: [])
        var broken = ArmAnalysis.report(arm: .init(target: target, targetName: "<b>x</b>", mutator: DeleteRecreateMutator()), queries: failed, mutations: [])
        broken.versusControl = ProportionDifference(broken.survival, control.survival)
        report.arms = [control, broken]
        report.evaluate([try Gate.parse("survival(<b>x</b>-delete-recreate) >= 0.5")])
        let markdown = MarkdownRenderer.render(report)
        let lines = markdown.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], "# flap: nightly \\| &lt;script&gt;alert(1)&lt;/script&gt; — FAIL", markdown)
        XCTAssertTrue(lines[1].hasPrefix("run `r`, started 2026-12-02 00:00:00 UTC"), lines[1])
        XCTAssertTrue(markdown.contains("- ❌ survival(&lt;b&gt;x&lt;/b&gt;-delete-recreate) &gt;= 0.5"), markdown)
        let rows = lines.filter { $0.hasPrefix("|") }
        XCTAssertEqual(rows.count, 4, "header, rule and one row per arm")
        for row in rows {
            // Unescaped pipes delimit cells: one more than the column count.
            let delimiters = row.filter { $0 == "|" }.count - row.components(separatedBy: "\\|").count + 1
            XCTAssertEqual(delimiters, MarkdownRenderer.columns.count + 1, row)
        }
        XCTAssertTrue(rows[2].hasPrefix("| a\\|b-control |"), rows[2])
        XCTAssertTrue(rows[3].contains("| &lt;b&gt;x&lt;/b&gt;-delete-recreate |"), rows[3])
        XCTAssertTrue(rows[3].contains("-100.0% (p="), rows[3])
        XCTAssertTrue(rows[3].contains("e-"), "a p-value of ~1e-17 is not printed as 0.000: \(rows[3])")
        XCTAssertFalse(markdown.contains("<b>") || markdown.contains("<script>"), "no raw HTML")
    }
}

final class ProbeExpectationEncodingTests: XCTestCase {
    /// A stable, documented encoding (no synthesized `_0` keys); the schema-2 form still reads.
    func testExpectationsEncodeWithAKindAndReadTheOldForm() throws {
        let cases: [(ProbeExpectation, String)] = [
            (.none, #"{"kind":"none"}"#), (.status(404), #"{"kind":"status","status":404}"#),
            (.header(name: "X-A", value: "1"), #"{"kind":"header","name":"X-A","value":"1"}"#),
            (.headerAbsent(name: "X-A"), #"{"kind":"headerAbsent","name":"X-A"}"#), (.backend("trino-b"), #"{"backend":"trino-b","kind":"backend"}"#),
        ]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (expectation, json) in cases {
            let encoded = String(decoding: try encoder.encode(expectation), as: UTF8.self)
            XCTAssertEqual(try JSONValue.parse(encoded), try JSONValue.parse(json))
            XCTAssertEqual(try JSONDecoder().decode(ProbeExpectation.self, from: Data(encoded.utf8)), expectation)
        }
        for (old, expectation) in [(#"{"status":{"_0":404}}"#, ProbeExpectation.status(404)), (#"{"none":{}}"#, .none),
                                   (#"{"header":{"name":"X-A","value":"1"}}"#, .header(name: "X-A", value: "1")), (#"{"backend":{"_0":"b"}}"#, .backend("b"))] {
            XCTAssertEqual(try JSONDecoder().decode(ProbeExpectation.self, from: Data(old.utf8)), expectation, old)
        }
        XCTAssertThrowsError(try JSONDecoder().decode(ProbeExpectation.self, from: Data(#"{"kind":"teapot"}"#.utf8)))
    }
}

final class PhaseLatenciesEncodingTests: XCTestCase {
    func testAllIsAlwaysInTheJSONAndNullWhenNoQuerySucceeded() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        XCTAssertEqual(String(decoding: try encoder.encode(PhaseLatencies()), as: UTF8.self), #"{"all":null}"#)
        let summary = try XCTUnwrap(LatencySummary(seconds: [0.5, 1.0]))
        let some: PhaseLatencies = ["all": summary, "during": summary]
        let decoded = try JSONDecoder().decode(PhaseLatencies.self, from: encoder.encode(some))
        XCTAssertEqual(decoded, some)
        let empty = try JSONDecoder().decode(PhaseLatencies.self, from: Data(#"{"all":null}"#.utf8))
        XCTAssertNil(empty["all"])
        XCTAssertEqual(try JSONDecoder().decode(PhaseLatencies.self, from: Data("{}".utf8)), PhaseLatencies(), "schema 1-3 reports without the key still read")
    }
}

final class RunProgressLineTests: XCTestCase {
    func testTheLineNamesTheSlotCountsAndTimeLeft() {
        var progress = RunProgress(elapsed: 12.34, inFlight: 4, completed: 40, failuresByArm: ["a": 2, "b": 1], nextMutation: ("b", 1.5))
        XCTAssertEqual(progress.line, "  12.3s  done 40, 3 failed  in flight 4  next write b in 1.5s", "before the first slot")
        progress.slot = RunProgress.Slot(arm: "envoy-gateway-delete-recreate", round: 1, number: 5, of: 18)
        progress.remaining = 52.4
        progress.nextMutation = nil
        XCTAssertEqual(progress.line, "  12.3s  slot 5/18 envoy-gateway-delete-recreate round 1  done 40, 3 failed  in flight 4  ~52s left")
        XCTAssertFalse(progress.line.contains("\u{1B}"), "no colour or escape codes in the line itself")
    }
}
