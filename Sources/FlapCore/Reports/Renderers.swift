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
    case mutationsCSV = "mutations-csv"

    public func render(_ report: ExperimentReport) throws -> String {
        switch self {
        case .json: String(decoding: try report.encoded(), as: UTF8.self)
        case .text: TextRenderer.render(report)
        case .markdown: MarkdownRenderer.render(report)
        case .csv: CSVRenderer.render(report)
        case .mutationsCSV: CSVRenderer.mutations(report)
        case .junit: JUnitRenderer.render(report)
        case .html: HTMLRenderer.render(report)
        }
    }
}

/// A PR comment: the verdict, the gates and the run first, then one compact row per arm. Every cell is escaped
/// (a `|` in a name cannot break the table, nor can raw HTML pass through).
public enum MarkdownRenderer {
    public static let columns = ["arm", "route", "survival (95% CI)", "vs control", "p99", "reconnects", "failures"]

    public static func render(_ report: ExperimentReport) -> String {
        let verdict = report.judged
        var out = "# flap: \(self.escape(report.name)) — \(verdict.rawValue.uppercased())\n\n"
        out += "run `\(report.runID.replacingOccurrences(of: "`", with: "'"))`, started \(self.date(report.startedAt)), "
        out += String(format: "%.1f s, %d queries, %d mutation steps", report.duration, report.queries.count, report.mutations.count)
        out += report.partial ? ", **partial**\(report.aborted.map { " (\(self.escape($0)))" } ?? "")\n\n" : "\n\n"
        out += "**Verdict: \(verdict.rawValue)**\n\n"
        if let why = report.notRestored { out += "**NOT RESTORED**: routes may still be changed (\(self.escape(why))); run `flap-cli restore`.\n\n" }
        for line in report.integrityLines { out += "- **\(self.escape(line))**\n" }
        for gate in report.gates { out += "- \(gate.passed ? "✅" : "❌") \(self.escape(gate.message))\n" }
        if !report.integrityLines.isEmpty || !report.gates.isEmpty { out += "\n" }
        out += "| " + self.columns.joined(separator: " | ") + " |\n|" + String(repeating: "---|", count: self.columns.count) + "\n"
        for arm in report.arms {
            out += "| " + self.cells(arm).map(self.escape).joined(separator: " | ") + " |\n"
        }
        return out
    }

    static func cells(_ arm: ArmReport) -> [String] {
        let s = arm.survival
        let failures = arm.failures.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
        guard arm.invalid == nil else {
            return [arm.name.rawValue, arm.target.description, "invalid: the mutation failed", "–", "–", "–", failures]
        }
        let survival = s.trials == 0 ? "no data" : "\(s.successes)/\(s.trials) (\(s.intervalText(separator: "–")))"
        let versus = arm.versusControl.map { String(format: "%+.1f%% (p=%@)", $0.difference * 100, self.pValue($0.fisherP)) }
            ?? (s.trials == 0 ? "no data" : "–")
        return [arm.name.rawValue, arm.target.description, survival, versus, arm.latency["all"].map { TextRenderer.ms($0.p99) } ?? "–",
                "\(arm.connections.reconnects)", failures]
    }

    /// `0.042`, or `6.0e-14` when three decimals would say 0.
    static func pValue(_ p: Double) -> String {
        p < 0.001 && p > 0 ? String(format: "%.1e", p) : String(format: "%.3f", p)
    }

    /// A cell or line as literal text: Markdown's table pipe, HTML and line breaks cannot take effect.
    static func escape(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "|": out += "\\|"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\\": out += "\\\\"
            case "\n", "\r": out += " "
            default: out.append(character)
            }
        }
        return out
    }

    static func date(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss 'UTC'"
        return formatter.string(from: date)
    }
}

/// One row per query.
/// One row per query (`render`, queries.csv) and one per mutation step (`mutations`, mutations.csv); both carry
/// the run id, so files from several runs concatenate. Times are seconds on the run's clock (docs/report-schema.md).
public enum CSVRenderer {
    public static let queryColumns = ["run_id", "id", "arm", "arm_status", "round", "phase", "label", "intended_start_s", "actual_start_s", "end_s",
                                      "latency_s", "lateness_s", "outcome", "failure_class", "http_status", "detail", "failed_hop", "since_mutation_s",
                                      "hops", "connections_opened", "reconnects", "query_id"]
    public static let mutationColumns = ["run_id", "arm", "arm_status", "round", "step", "description", "intended_s", "write_start_s", "write_end_s",
                                         "accepted_s", "propagated_s", "propagation_s", "expectation", "uid", "resource_version", "generation", "error"]

    public static func render(_ report: ExperimentReport) -> String {
        var out = self.queryColumns.joined(separator: ",") + "\n"
        for q in report.queries {
            let fields: [String] = [
                report.runID, String(q.id), q.arm.rawValue, self.status(of: q.arm, in: report), String(q.round), q.phase.rawValue, q.label,
                self.number(q.intendedStart), self.number(q.actualStart), self.number(q.end), self.number(q.latency), self.number(q.lateness),
                q.outcome.label, q.outcome.succeeded ? "" : q.outcome.label, q.outcome.httpStatus.map(String.init) ?? "", q.outcome.detail ?? "",
                q.outcome.failedHop.map(String.init) ?? "", q.sinceMutation.map(self.number) ?? "", String(q.hops.count),
                String(q.connectionsOpened), String(q.reconnects), q.queryID ?? "",
            ]
            out += fields.map(self.escape).joined(separator: ",") + "\n"
        }
        return out
    }

    /// mutations.csv: every step the run wrote (or failed to write), with its timing and proof.
    public static func mutations(_ report: ExperimentReport) -> String {
        var out = self.mutationColumns.joined(separator: ",") + "\n"
        for m in report.mutations {
            let fields: [String] = [
                report.runID, m.arm.rawValue, self.status(of: m.arm, in: report), String(m.round), String(m.step), m.description,
                m.intendedAt.map(self.number) ?? "", self.number(m.writeStart), self.number(m.writeEnd), m.acceptedAt.map(self.number) ?? "",
                m.propagatedAt.map(self.number) ?? "", m.propagation.map(self.number) ?? "", m.expectation.text, m.uid ?? "", m.resourceVersion ?? "",
                m.generation.map(String.init) ?? "", m.error ?? "",
            ]
            out += fields.map(self.escape).joined(separator: ",") + "\n"
        }
        return out
    }

    /// `valid`, `invalid` (a step failed) or `unreliable` (the run left its schedule there).
    static func status(of arm: ArmID, in report: ExperimentReport) -> String {
        if report.arm(arm)?.invalid != nil { return "invalid" }
        return (report.schedule?.affectedArms ?? []).contains(arm) ? "unreliable" : "valid"
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
