import Foundation

/// Turns a report into text. The built-in formats conform; a team's own (a Slack message, a dashboard row)
/// conforms the same way and reads only the typed ``ExperimentReport``, so it works on saved `report.json`
/// files too (`ExperimentReport.decode`).
public protocol ReportRenderer {
    static func render(_ report: ExperimentReport) -> String
}

extension TextRenderer: ReportRenderer {}
extension MarkdownRenderer: ReportRenderer {}
extension CSVRenderer: ReportRenderer {}
extension JUnitRenderer: ReportRenderer {}
extension HTMLRenderer: ReportRenderer {}

/// The formats `flap-cli report --format` writes.
public enum ReportFormat: String, Sendable, CaseIterable {
    case json, text, markdown, csv, junit, html

    public func render(_ report: ExperimentReport) throws -> String {
        switch self {
        case .json: String(decoding: try report.encoded(), as: UTF8.self)
        case .text: TextRenderer.render(report)
        case .markdown: MarkdownRenderer.render(report)
        case .csv: CSVRenderer.render(report)
        case .junit: JUnitRenderer.render(report)
        case .html: HTMLRenderer.render(report)
        }
    }
}

public enum MarkdownRenderer {
    public static func render(_ report: ExperimentReport) -> String {
        var out = "# flap run `\(report.runID)`\n\n"
        out += "\(report.queries.count) queries, \(report.mutations.count) mutation steps, \(String(format: "%.1f", report.duration)) s"
        out += report.partial ? " — **partial**\(report.aborted.map { " (\($0))" } ?? "")\n\n" : "\n\n"
        out += "**Verdict: \(report.judged.rawValue)**\n\n"
        if let why = report.notRestored { out += "**NOT RESTORED**: routes may still be changed (\(why)); run `flap-cli restore`.\n\n" }
        for line in report.integrityLines { out += "- **\(line)**\n" }
        if !report.integrityLines.isEmpty { out += "\n" }
        out += "| arm | route | mutation | survival | 95% CI | vs control | p50 | p99 | reconnects | failures |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for arm in report.arms {
            let s = arm.survival
            let latency = arm.latency["all"]
            guard arm.invalid == nil else {
                out += "| \(arm.name) | \(arm.target) | \(arm.mutator) | **invalid** | – | – | – | – | – | mutation failed |\n"
                continue
            }
            out += "| \(arm.name) | \(arm.target) | \(arm.mutator) | \(s.successes)/\(s.trials) | \(s.intervalText(separator: "–")) | "
            out += (arm.versusControl.map { String(format: "%+.1f%% (Fisher p=%.3f)", $0.difference * 100, $0.fisherP) } ?? (arm.survival.trials == 0 ? "no data" : "–")) + " | "
            out += "\(latency.map { TextRenderer.ms($0.p50) } ?? "–") | \(latency.map { TextRenderer.ms($0.p99) } ?? "–") | \(arm.connections.reconnects) | "
            out += arm.failures.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ") + " |\n"
        }
        if !report.gates.isEmpty {
            out += "\n## Gates\n\n" + report.gates.map { "- \($0.passed ? "✅" : "❌") \($0.message)" }.joined(separator: "\n") + "\n"
        }
        return out
    }
}

/// One row per query.
public enum CSVRenderer {
    public static func render(_ report: ExperimentReport) -> String {
        var out = "id,arm,round,phase,label,intended_start_s,actual_start_s,end_s,latency_s,lateness_s,outcome,failure_class,failed_hop,since_mutation_s,hops,connections_opened,reconnects,query_id,arm_status\n"
        let invalid = Set(report.arms.filter { $0.invalid != nil }.map(\.name))
        let unreliable = report.schedule?.affectedArms ?? []
        for q in report.queries {
            let status = invalid.contains(q.arm) ? "invalid" : unreliable.contains(q.arm) ? "unreliable" : "valid"
            let fields: [String] = [
                String(q.id), q.arm.rawValue, String(q.round), q.phase.rawValue, q.label, self.number(q.intendedStart), self.number(q.actualStart),
                self.number(q.end), self.number(q.latency), self.number(q.lateness), q.outcome.label, q.outcome.succeeded ? "" : q.outcome.label,
                q.outcome.failedHop.map(String.init) ?? "", q.sinceMutation.map(self.number) ?? "", String(q.hops.count),
                String(q.connectionsOpened), String(q.reconnects), q.queryID ?? "", status,
            ]
            out += fields.map(self.escape).joined(separator: ",") + "\n"
        }
        return out
    }

    static func number(_ value: Double) -> String { String(format: "%.6f", value) }

    static func escape(_ field: String) -> String {
        field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
    }
}

/// One test case per arm (informational: its numbers in system-out) and one per gate (failing when the gate fails).
/// JUnit XML for CI test views: a testcase per arm, which fails when the arm's survival is significantly below
/// its control's; a testcase per gate; a failing `flap.restore` case when routes may still be changed. Times are
/// the seconds each arm was exercised.
public enum JUnitRenderer {
    /// An arm fails when it loses to its control by Fisher's exact test at this level.
    public static let significance = 0.05

    public static func render(_ report: ExperimentReport) -> String {
        var cases: [(classname: String, name: String, time: Double, failure: (type: String, message: String, body: String)?)] = []
        if let why = report.notRestored {
            cases.append(("flap.restore", "every route restored", 0, ("not-restored", "routes may still be changed: \(why); run flap-cli restore", why)))
        }
        for arm in report.arms {
            let queries = report.queries.filter { $0.arm == arm.name }
            cases.append(("flap.arm", arm.name.rawValue, self.exercised(queries), self.armFailure(arm, queries: queries, schedule: report.schedule)))
        }
        for gate in report.gates {
            cases.append(("flap.gate", gate.expression, 0, gate.passed ? nil : ("gate", gate.message, gate.message)))
        }
        let failures = cases.filter { $0.failure != nil }.count
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"flap\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" time=\"\(self.seconds(report.duration))\">\n"
        out += "  <testsuite name=\"\(self.xml(report.runID))\" tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"0\" "
        out += "time=\"\(self.seconds(report.duration))\" timestamp=\"\(self.timestamp(report.startedAt))\">\n"
        for testcase in cases {
            out += "    <testcase classname=\"\(testcase.classname)\" name=\"\(self.xml(testcase.name))\" time=\"\(self.seconds(testcase.time))\">\n"
            if let failure = testcase.failure {
                out += "      <failure type=\"\(failure.type)\" message=\"\(self.xml(failure.message))\">\(self.xml(failure.body))</failure>\n"
            }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    /// Why an arm fails, or nil: it ran no query (nothing says it survived), or its survival is below its control's
    /// and Fisher's test says it is not chance.
    static func armFailure(_ arm: ArmReport, queries: [QueryRecord], schedule: ScheduleIntegrity? = nil) -> (type: String, message: String, body: String)? {
        if let reasons = arm.invalid {
            return ("invalid", "the arm's mutation failed, so its survival does not measure it: \(reasons.first ?? "")", reasons.joined(separator: "\n"))
        }
        if let problems = schedule?.problems.filter({ $0.arms.contains(arm.name) }), !problems.isEmpty {
            return ("unreliable", "the run left its schedule while this arm ran: \(problems[0].detail)", problems.map(\.detail).joined(separator: "\n"))
        }
        if arm.survival.trials == 0 { return ("no-data", "the arm ran no query: nothing was measured", "") }
        guard let versus = arm.versusControl, versus.difference < 0, versus.fisherP < self.significance else { return nil }
        let s = arm.survival
        let classes = arm.failures.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
        let message = String(format: "survival %d/%d (95%% CI %.4f-%.4f), %+.1f%% vs control (p=%.2g); failures: %@",
                             s.successes, s.trials, s.lower, s.upper, versus.difference * 100, versus.fisherP, classes)
        let hops = Dictionary(grouping: queries.filter { !$0.outcome.succeeded }) { query in
            query.outcome.failedHop.flatMap { index in query.hops.first { $0.index == index } }.map { "\($0.purpose) (hop \($0.index))" } ?? "no hop"
        }
        let body = hops.sorted { $0.key < $1.key }.map { "failing hop \($0.key): \($0.value.count) queries" }.joined(separator: "\n")
        return ("survival", message, body)
    }

    /// Seconds the arm's queries spanned, slot by slot (its rounds do not overlap other arms' slots).
    static func exercised(_ queries: [QueryRecord]) -> Double {
        Dictionary(grouping: queries, by: \.round).values.reduce(0) { total, slot in
            total + max(0, (slot.map(\.end).max() ?? 0) - (slot.map(\.intendedStart).min() ?? 0))
        }
    }

    static func seconds(_ value: Double) -> String { String(format: "%.3f", value.isFinite ? max(0, value) : 0) }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return String(formatter.string(from: date).dropLast())  // the XSD's xs:dateTime without a zone
    }

    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
