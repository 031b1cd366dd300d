import Foundation

/// One self-contained HTML file with inline SVG: a timeline of queries as lanes with mutation markers and
/// propagation bands, latency over time, survival per arm with interval bars, and the failure table.
public enum HTMLRenderer {
    static let palette = ["#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b83280", "#2c7a7b", "#975a16"]

    public static func render(_ report: ExperimentReport) -> String { self.render(report, sections: []) }

    /// `sections` (title and already-escaped HTML) follow the verdict: a caller's own reading of the run, such as
    /// the lab's API × data-plane table.
    public static func render(_ report: ExperimentReport, sections: [(title: String, html: String)]) -> String {
        let colors = Dictionary(uniqueKeysWithValues: report.arms.enumerated().map { ($0.element.name, self.palette[$0.offset % self.palette.count]) })
        var html = """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>flap \(self.escape(report.runID))</title>
        <style>body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1a202c}h1{font-size:20px}h2{font-size:16px;margin-top:28px}
        table{border-collapse:collapse}td,th{border:1px solid #cbd5e0;padding:4px 8px;text-align:left}th{background:#edf2f7}
        .legend span{display:inline-block;margin-right:14px}.sw{display:inline-block;width:10px;height:10px;margin-right:4px}
        svg text{font:11px system-ui,sans-serif;fill:#4a5568}</style></head><body>
        <h1>flap run <code>\(self.escape(report.runID))</code></h1>
        <p>\(report.queries.count) queries, \(report.mutations.count) mutation steps, \(String(format: "%.1f", report.duration)) s\(report.partial ? " — <b>partial</b>" : "").
        Latency is measured from each query's intended start.</p>
        <p><b>Verdict: \(report.judged.rawValue)</b></p>\(report.integrityLines.map { "<p style=\"color:#c53030\"><b>\(self.escape($0))</b></p>" }.joined())\(report.notRestored.map { "\n<p style=\"color:#c53030\"><b>NOT RESTORED</b>: routes may still be changed (\(self.escape($0))); run <code>flap-cli restore</code>.</p>" } ?? "")
        <div class="legend">\(report.arms.map { "<span><i class=\"sw\" style=\"background:\(colors[$0.name]!)\"></i>\(self.escape($0.name.rawValue))</span>" }.joined())
        <span><i class="sw" style="background:#e53e3e"></i>failed query</span><span><i class="sw" style="background:#fbd38d"></i>propagation</span></div>
        """
        for section in sections { html += "<h2>\(self.escape(section.title))</h2>" + section.html }
        html += "<h2>Survival per arm (95% Wilson interval)</h2>" + self.survival(report, colors: colors)
        html += "<h2>Timeline: queries as lanes, mutation writes as lines</h2>" + self.timeline(report, colors: colors)
        html += "<h2>Latency over time (successful queries, by intended start)</h2>" + self.scatter(report, colors: colors)
        html += "<h2>Failures</h2>" + self.failures(report)
        if !report.gates.isEmpty {
            html += "<h2>Gates</h2><ul>" + report.gates.map { "<li>\($0.passed ? "✅" : "❌") \(self.escape($0.message))</li>" }.joined() + "</ul>"
        }
        html += "<h2>Summary</h2><pre>\(self.escape(TextRenderer.render(report, width: .max)))</pre></body></html>\n"
        return html
    }

    static func survival(_ report: ExperimentReport, colors: [ArmID: String]) -> String {
        let width = 720.0, row = 26.0, left = 160.0, plot = width - left - 20
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(Double(report.arms.count) * row + 30))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for (i, arm) in report.arms.enumerated() {
            let y = Double(i) * row + 10
            let s = arm.survival
            let x = { (p: Double) in left + plot * (p.isNaN ? 0 : p) }
            svg += "<text x=\"4\" y=\"\(y + 13)\">\(self.escape(arm.name.rawValue))</text>"
            if arm.invalid != nil {
                svg += "<text x=\"\(left)\" y=\"\(y + 14)\" fill=\"#c53030\">invalid: the mutation failed (no survival figure)</text>"
                continue
            }
            svg += "<rect x=\"\(left)\" y=\"\(y + 4)\" width=\"\(plot)\" height=\"12\" fill=\"#edf2f7\"/>"
            svg += "<rect x=\"\(x(s.lower))\" y=\"\(y + 4)\" width=\"\(max(1, x(s.upper) - x(s.lower)))\" height=\"12\" fill=\"\(colors[arm.name]!)\" opacity=\"0.35\"/>"
            svg += "<line x1=\"\(x(s.estimate))\" x2=\"\(x(s.estimate))\" y1=\"\(y + 1)\" y2=\"\(y + 19)\" stroke=\"\(colors[arm.name]!)\" stroke-width=\"3\"/>"
            svg += "<text x=\"\(left + plot - 150)\" y=\"\(y + 14)\">\(s.successes)/\(s.trials) (\(s.intervalText(separator: "–")))</text>"
        }
        let axis = Double(report.arms.count) * row + 24
        svg += "<text x=\"\(left)\" y=\"\(axis)\">0%</text><text x=\"\(left + plot - 30)\" y=\"\(axis)\">100%</text></svg>"
        return svg
    }

    static func timeline(_ report: ExperimentReport, colors: [ArmID: String]) -> String {
        let width = 1100.0, lane = 5.0, left = 40.0
        let queries = report.queries
        let end = max(report.duration, queries.map(\.end).max() ?? 1)
        let scale = (width - left - 10) / max(end, 0.001)
        let height = Double(queries.count) * lane + 30
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        for m in report.mutations {
            if let p = m.propagatedAt {
                svg += "<rect x=\"\(left + m.writeStart * scale)\" y=\"0\" width=\"\(max(1, (p - m.writeStart) * scale))\" height=\"\(height - 20)\" fill=\"#fbd38d\" opacity=\"0.5\"><title>\(self.escape(m.description)): propagated in \(String(format: "%.0f ms", (p - m.writeStart) * 1000))</title></rect>"
            }
            svg += "<line x1=\"\(left + m.writeStart * scale)\" x2=\"\(left + m.writeStart * scale)\" y1=\"0\" y2=\"\(height - 20)\" stroke=\"#1a202c\" stroke-dasharray=\"3,2\"><title>\(self.escape(m.arm.rawValue)): \(self.escape(m.description))</title></line>"
        }
        for (i, q) in queries.enumerated() {
            let y = Double(i) * lane
            let color = q.outcome.succeeded ? colors[q.arm] ?? "#718096" : "#e53e3e"
            svg += "<rect x=\"\(left + q.intendedStart * scale)\" y=\"\(y)\" width=\"\(max(1, (q.end - q.intendedStart) * scale))\" height=\"\(lane - 1)\" fill=\"\(color)\"><title>#\(q.id) \(self.escape(q.arm.rawValue)) \(self.escape(q.outcome.label)) \(String(format: "%.0f ms", q.latency * 1000))</title></rect>"
        }
        for t in stride(from: 0.0, through: end, by: max(1, (end / 10).rounded())) {
            svg += "<text x=\"\(left + t * scale)\" y=\"\(height - 6)\">\(Int(t))s</text>"
        }
        return svg + "</svg>"
    }

    static func scatter(_ report: ExperimentReport, colors: [ArmID: String]) -> String {
        let width = 1100.0, height = 260.0, left = 60.0, bottom = 24.0
        let ok = report.queries.filter(\.outcome.succeeded)
        let end = max(report.duration, 0.001)
        let top = max(ok.map(\.latency).max() ?? 1, 0.001)
        var svg = "<svg width=\"\(Int(width))\" height=\"\(Int(height))\" xmlns=\"http://www.w3.org/2000/svg\">"
        svg += "<line x1=\"\(left)\" x2=\"\(left)\" y1=\"0\" y2=\"\(height - bottom)\" stroke=\"#a0aec0\"/><line x1=\"\(left)\" x2=\"\(width)\" y1=\"\(height - bottom)\" y2=\"\(height - bottom)\" stroke=\"#a0aec0\"/>"
        svg += "<text x=\"4\" y=\"12\">\(String(format: "%.0f ms", top * 1000))</text><text x=\"4\" y=\"\(height - bottom)\">0</text>"
        for m in report.mutations {
            let x = left + m.writeStart / end * (width - left)
            svg += "<line x1=\"\(x)\" x2=\"\(x)\" y1=\"0\" y2=\"\(height - bottom)\" stroke=\"#1a202c\" stroke-dasharray=\"3,2\"/>"
        }
        for q in ok {
            let x = left + q.intendedStart / end * (width - left)
            let y = (height - bottom) * (1 - q.latency / top)
            svg += "<circle cx=\"\(x)\" cy=\"\(y)\" r=\"2.5\" fill=\"\(colors[q.arm] ?? "#718096")\"/>"
        }
        return svg + "</svg>"
    }

    static func failures(_ report: ExperimentReport) -> String {
        let failed = report.queries.filter { !$0.outcome.succeeded }
        guard !failed.isEmpty else { return "<p>No query failed.</p>" }
        var table = "<table><tr><th>query</th><th>arm</th><th>phase</th><th>class</th><th>hop</th><th>since mutation</th><th>detail</th></tr>"
        for q in failed.prefix(500) {
            table += "<tr><td>\(q.id)</td><td>\(self.escape(q.arm.rawValue))</td><td>\(q.phase.rawValue)</td><td>\(self.escape(q.outcome.label))</td>"
            table += "<td>\(q.outcome.failedHop.map(String.init) ?? "–")</td><td>\(q.sinceMutation.map { String(format: "%+.0f ms", $0 * 1000) } ?? "–")</td>"
            table += "<td>\(self.escape(q.outcome.detail ?? ""))</td></tr>"
        }
        return table + "</table>"
    }

    public static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }
}
