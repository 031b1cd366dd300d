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
        if let why = report.notRestored { out += "**NOT RESTORED**: routes may still be changed (\(why)); run `flap-cli restore`.\n\n" }
        out += "| arm | route | mutation | survival | 95% CI | vs control | p50 | p99 | reconnects | failures |\n|---|---|---|---|---|---|---|---|---|---|\n"
        for arm in report.arms {
            let s = arm.survival
            let latency = arm.latency["all"]
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
        var out = "id,arm,round,phase,label,intended_start_s,actual_start_s,end_s,latency_s,lateness_s,outcome,failure_class,failed_hop,since_mutation_s,hops,connections_opened,reconnects,query_id\n"
        for q in report.queries {
            let fields: [String] = [
                String(q.id), q.arm.rawValue, String(q.round), q.phase.rawValue, q.label, self.number(q.intendedStart), self.number(q.actualStart),
                self.number(q.end), self.number(q.latency), self.number(q.lateness), q.outcome.label, q.outcome.succeeded ? "" : q.outcome.label,
                q.outcome.failedHop.map(String.init) ?? "", q.sinceMutation.map(self.number) ?? "", String(q.hops.count),
                String(q.connectionsOpened), String(q.reconnects), q.queryID ?? "",
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
public enum JUnitRenderer {
    public static func render(_ report: ExperimentReport) -> String {
        let restoreCase = report.notRestored == nil ? 0 : 1
        let failedGates = report.gates.filter { !$0.passed }.count + restoreCase
        let tests = report.arms.count + report.gates.count + restoreCase
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<testsuites name=\"flap\" tests=\"\(tests)\" failures=\"\(failedGates)\">\n"
        out += "  <testsuite name=\"\(self.xml(report.runID))\" tests=\"\(tests)\" failures=\"\(failedGates)\" time=\"\(String(format: "%.3f", report.duration))\">\n"
        if let why = report.notRestored {
            out += "    <testcase classname=\"flap.restore\" name=\"every route restored\" time=\"0\">\n"
            out += "      <failure type=\"not-restored\" message=\"\(self.xml("routes may still be changed: \(why); run flap-cli restore"))\"/>\n"
            out += "    </testcase>\n"
        }
        for arm in report.arms {
            let s = arm.survival
            out += "    <testcase classname=\"flap.arm\" name=\"\(self.xml(arm.name.rawValue))\" time=\"0\">\n"
            out += "      <system-out>\(self.xml("survival \(s.successes)/\(s.trials) (95% CI \(String(format: "%.4f-%.4f", s.lower, s.upper))); failures \(arm.failures)"))</system-out>\n"
            out += "    </testcase>\n"
        }
        for gate in report.gates {
            out += "    <testcase classname=\"flap.gate\" name=\"\(self.xml(gate.expression))\" time=\"0\">\n"
            if !gate.passed { out += "      <failure message=\"\(self.xml(gate.message))\"/>\n" }
            out += "    </testcase>\n"
        }
        out += "  </testsuite>\n</testsuites>\n"
        return out
    }

    static func xml(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
