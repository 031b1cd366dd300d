import Foundation

/// One self-contained HTML file (inline CSS and SVG; no scripts, no external resources), read top down: the verdict
/// and what failed, the gates, the arms' table, survival with intervals, a timeline with a labelled row per arm,
/// latency per arm, propagation per route, and failures by class. Queries are binned, so the page's size depends on
/// the number of arms, not of queries. It is well-formed XML (XHTML syntax), fits a phone (`viewport`, every SVG
/// scales by its `viewBox`) and prints with every column.
public enum HTMLRenderer {
    /// Outcome colours (Okabe and Ito's colour-blind-safe palette); every mark also says its class in words.
    static let outcomeColors: [(label: String, color: String)] = [
        ("succeeded", "#0072B2"), ("http-404", "#D55E00"), ("http-5xx", "#E69F00"), ("connection", "#CC79A7"), ("other failure", "#000000"),
    ]

    public static func render(_ report: ExperimentReport) -> String { self.render(report, sections: []) }

    /// `sections` (title and already-escaped HTML) follow the verdict: a caller's own reading of the run, such as
    /// the lab's API × data-plane table.
    public static func render(_ report: ExperimentReport, sections: [(title: String, html: String)]) -> String {
        var html = """
        <!DOCTYPE html>
        <html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8"/>
        <meta name="viewport" content="width=device-width, initial-scale=1"/>
        <title>flap \(self.escape(report.name)): \(report.judged.rawValue)</title>
        <style>\(self.css)</style></head><body>
        """
        html += self.header(report)
        for section in sections { html += "<section><h2>\(self.escape(section.title))</h2>\(section.html)</section>" }
        html += "<section><h2>Arms</h2><div class=\"scroll\">\(self.armTable(report))</div></section>"
        html += "<section><h2>Survival per arm (95% Wilson interval)</h2>\(HTMLCharts.survival(report))</section>"
        html += "<section><h2>Timeline: queries started per arm, mutation writes and their propagation</h2>\(HTMLCharts.timeline(report))</section>"
        html += "<section><h2>Latency per arm (successful queries, from the intended start)</h2>\(HTMLCharts.latency(report))</section>"
        html += "<section><h2>Propagation per route (write to first proof)</h2><div class=\"scroll\">\(self.propagation(report))</div></section>"
        html += "<section><h2>Failures by class</h2><div class=\"scroll\">\(self.failures(report))</div></section>"
        html += "<section><h2>Text summary</h2><pre>\(self.escape(TextRenderer.render(report, width: .max)))</pre></section>"
        return html + "</body></html>\n"
    }

    static let css = """
    body{font:14px/1.45 system-ui,sans-serif;margin:16px auto;max-width:1200px;padding:0 12px;color:#1a202c}
    h1{font-size:20px;margin:0 0 6px}h2{font-size:16px;margin:26px 0 8px}
    .verdict{display:inline-block;padding:2px 10px;border-radius:4px;font-weight:700;color:#fff}
    .pass{background:#2f6f4e}.fail{background:#b23a00}.invalid{background:#6b2c91}.unreliable{background:#7a5a00}
    .alert{color:#9b2c2c;font-weight:600}
    table{border-collapse:collapse;font-variant-numeric:tabular-nums}td,th{border:1px solid #cbd5e0;padding:3px 7px;text-align:left;vertical-align:top}
    th{background:#edf2f7}td.n{text-align:right;white-space:nowrap}.scroll,.chart{overflow-x:auto}
    svg{width:100%;height:auto;display:block}.chart svg{min-width:760px}svg text{font:11px system-ui,sans-serif;fill:#2d3748}
    pre{overflow-x:auto;font-size:12px;background:#f7fafc;padding:8px}
    .key span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:middle}
    @media print{body{max-width:none;margin:0;font-size:10px}.scroll,.chart{overflow:visible}.chart svg{min-width:0}table{font-size:9px}pre{white-space:pre-wrap;font-size:8px}
    section{break-inside:avoid-page}}
    """

    /// The run, the verdict, one line per arm that failed, is invalid or unreliable (with its failure classes), the gates.
    static func header(_ report: ExperimentReport) -> String {
        let verdict = report.judged
        var html = "<header><h1>\(self.escape(report.name))</h1><p><span class=\"verdict \(verdict.rawValue)\">\(verdict.rawValue.uppercased())</span> "
        html += "run <code>\(self.escape(report.runID))</code>, started \(self.escape(ISO8601DateFormatter().string(from: report.startedAt))), "
        html += "\(report.queries.count) queries, \(report.mutations.count) mutation steps, \(String(format: "%.1f", report.duration)) s"
        html += report.partial ? ", <b>partial</b>" : ""
        html += "</p>"
        for line in report.integrityLines { html += "<p class=\"alert\">\(self.escape(line))</p>" }
        if let why = report.notRestored {
            html += "<p class=\"alert\">NOT RESTORED: routes may still be changed (\(self.escape(why))); run <code>flap-cli restore</code>.</p>"
        }
        var lines: [String] = []
        for arm in report.arms {
            let classes = arm.failures.sorted { $0.value > $1.value }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")
            if arm.invalid != nil {
                lines.append("<b>\(self.escape(arm.name.rawValue))</b>: invalid, its mutation failed: \(self.escape((arm.invalid ?? []).joined(separator: "; ")))")
            } else if (report.schedule?.affectedArms ?? []).contains(arm.name) {
                lines.append("<b>\(self.escape(arm.name.rawValue))</b>: unreliable (the run left its schedule)\(classes.isEmpty ? "" : "; failures \(self.escape(classes))")")
            } else if !arm.failures.isEmpty {
                let survival = arm.survival
                lines.append("<b>\(self.escape(arm.name.rawValue))</b>: \(survival.successes)/\(survival.trials) survived; \(self.escape(classes))")
            }
        }
        html += lines.isEmpty ? "<p>Every query of every arm succeeded.</p>" : "<ul>" + lines.map { "<li>\($0)</li>" }.joined() + "</ul>"
        if !report.gates.isEmpty {
            html += "<p><b>Gates</b></p><ul>" + report.gates.map { "<li>\($0.passed ? "PASS" : "<span class=\"alert\">FAIL</span>") \(self.escape($0.message))</li>" }.joined() + "</ul>"
        }
        return html + "</header>"
    }

    static func armTable(_ report: ExperimentReport) -> String {
        var html = "<table><tr><th>arm</th><th>route</th><th>mutation</th><th>survival</th><th>95% CI</th><th>vs control</th>"
        html += "<th>p50</th><th>p99</th><th>max</th><th>reconnects</th><th>failures</th></tr>"
        for arm in report.arms {
            let latency = arm.latency["all"]
            let survival = arm.invalid != nil ? "invalid: the mutation failed" : "\(arm.survival.successes)/\(arm.survival.trials)"
            html += "<tr><td>\(self.escape(arm.name.rawValue))</td><td>\(self.escape(arm.target.description))</td><td>\(self.escape(arm.mutator))</td>"
            html += "<td class=\"n\">\(self.escape(survival))</td><td class=\"n\">\(arm.invalid != nil ? "–" : self.escape(arm.survival.intervalText(separator: "–")))</td>"
            html += "<td class=\"n\">\(arm.versusControl.map { String(format: "%+.1f%%", $0.difference * 100) } ?? "–")</td>"
            for value in [latency?.p50, latency?.p99, latency?.max] { html += "<td class=\"n\">\(value.map(self.duration) ?? "–")</td>" }
            html += "<td class=\"n\">\(arm.connections.reconnects)</td>"
            html += "<td>\(self.escape(arm.failures.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: ", ")))</td></tr>"
        }
        return html + "</table>"
    }

    /// Propagation by route (each route is its data plane's: comparing them is the lab's point).
    static func propagation(_ report: ExperimentReport) -> String {
        var byRoute: [String: [Double]] = [:]
        for arm in report.arms {
            let values = report.mutations.filter { $0.arm == arm.name }.compactMap(\.propagation)
            byRoute[arm.target.description, default: []] += values
        }
        let routes = byRoute.filter { !$0.value.isEmpty }.sorted { $0.key < $1.key }
        guard !routes.isEmpty else { return "<p>No step was proven on a data plane.</p>" }
        var html = "<table><tr><th>route</th><th>steps</th><th>p50</th><th>p99</th><th>max</th></tr>"
        for (route, values) in routes {
            guard let summary = LatencySummary(seconds: values) else { continue }
            html += "<tr><td>\(self.escape(route))</td><td class=\"n\">\(summary.count)</td><td class=\"n\">\(self.duration(summary.p50))</td>"
            html += "<td class=\"n\">\(self.duration(summary.p99))</td><td class=\"n\">\(self.duration(summary.max))</td></tr>"
        }
        return html + "</table>"
    }

    /// Class × arm counts, then the first queries of each class (bounded, whatever the number of queries).
    static func failures(_ report: ExperimentReport) -> String {
        let failed = report.queries.filter { !$0.outcome.succeeded }
        guard !failed.isEmpty else { return "<p>No query failed.</p>" }
        let classes = Set(failed.map(\.outcome.label)).sorted()
        let arms = report.arms.filter { !$0.failures.isEmpty }
        var html = "<table><tr><th>class</th>" + arms.map { "<th>\(self.escape($0.name.rawValue))</th>" }.joined() + "</tr>"
        for label in classes {
            html += "<tr><td>\(self.escape(label))</td>" + arms.map { "<td class=\"n\">\($0.failures[label].map(String.init) ?? "")</td>" }.joined() + "</tr>"
        }
        html += "</table><p>First failed queries of each class:</p><table><tr><th>query</th><th>arm</th><th>phase</th><th>class</th><th>hop</th><th>since mutation</th><th>detail</th></tr>"
        for label in classes {
            for q in failed.filter({ $0.outcome.label == label }).prefix(5) {
                html += "<tr><td class=\"n\">\(q.id)</td><td>\(self.escape(q.arm.rawValue))</td><td>\(q.phase.rawValue)</td><td>\(self.escape(label))</td>"
                html += "<td class=\"n\">\(q.outcome.failedHop.map(String.init) ?? "–")</td><td class=\"n\">\(q.sinceMutation.map { String(format: "%+.0f ms", $0 * 1000) } ?? "–")</td>"
                html += "<td>\(self.escape(q.outcome.detail ?? ""))</td></tr>"
            }
        }
        return html + "</table>"
    }

    /// `850 ms`, `1.81 s`.
    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.0f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
