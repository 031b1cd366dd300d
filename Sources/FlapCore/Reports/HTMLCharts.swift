import Foundation

/// The report's SVG charts. Each scales by its `viewBox` (phone to print), labels every arm in words, and draws a
/// bounded number of marks: queries are counted into time bins per arm, never drawn one by one.
enum HTMLCharts {
    static let width = 1000.0
    static let labelWidth = 230.0
    static let rowHeight = 24.0
    /// Time bins per timeline row.
    static let bins = 200

    static func svg(height: Double, _ body: String) -> String {
        // On a phone the chart keeps a legible size and scrolls sideways, as the tables do.
        "<div class=\"chart\"><svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(Int(width)) \(Int(height.rounded(.up)))\" role=\"img\">\(body)</svg></div>"
    }

    static func label(_ text: String, y: Double, emphasis: String? = nil) -> String {
        let style = emphasis.map { " font-weight=\"700\" style=\"fill:\($0)\"" } ?? ""
        return "<text x=\"\(labelWidth - 8)\" y=\"\(f(y))\" text-anchor=\"end\"\(style)>\(HTMLRenderer.escape(text))</text>"
    }

    static func f(_ value: Double) -> String { String(format: "%.1f", value) }

    /// An arm's label colour: failures in vermillion, invalid in purple.
    static func emphasis(_ arm: ArmReport) -> String? {
        arm.invalid != nil ? "#6b2c91" : arm.failures.isEmpty ? nil : "#b23a00"
    }

    // MARK: Survival

    static func survival(_ report: ExperimentReport) -> String {
        let left = labelWidth, plot = width - left - 190
        var body = ""
        for (i, arm) in report.arms.enumerated() {
            let y = Double(i) * rowHeight + 6
            body += self.label(arm.name.rawValue, y: y + 13, emphasis: self.emphasis(arm))
            if arm.invalid != nil {
                body += "<text x=\"\(f(left))\" y=\"\(f(y + 13))\" style=\"fill:#6b2c91\">invalid: the mutation failed (no survival figure)</text>"
                continue
            }
            let s = arm.survival
            let x = { (p: Double) in left + plot * (p.isNaN ? 0 : p) }
            body += "<rect x=\"\(f(left))\" y=\"\(f(y + 4))\" width=\"\(f(plot))\" height=\"12\" fill=\"#edf2f7\"/>"
            body += "<rect x=\"\(f(x(s.lower)))\" y=\"\(f(y + 4))\" width=\"\(f(max(1, x(s.upper) - x(s.lower))))\" height=\"12\" fill=\"#0072B2\" opacity=\"0.35\"/>"
            body += "<line x1=\"\(f(x(s.estimate)))\" x2=\"\(f(x(s.estimate)))\" y1=\"\(f(y + 1))\" y2=\"\(f(y + 19))\" stroke=\"#0072B2\" stroke-width=\"3\"/>"
            body += "<text x=\"\(f(left + plot + 8))\" y=\"\(f(y + 14))\">\(s.successes)/\(s.trials) (\(HTMLRenderer.escape(s.intervalText(separator: "–"))))</text>"
        }
        let axis = Double(report.arms.count) * rowHeight + 20
        body += "<text x=\"\(f(left))\" y=\"\(f(axis))\">0%</text><text x=\"\(f(left + plot / 2))\" y=\"\(f(axis))\" text-anchor=\"middle\">50%</text>"
        body += "<text x=\"\(f(left + plot))\" y=\"\(f(axis))\" text-anchor=\"end\">100%</text>"
        return self.svg(height: axis + 6, body)
    }

    // MARK: Timeline

    /// The outcome class a query's mark is coloured by.
    static func outcomeClass(_ query: QueryRecord) -> Int {
        if query.outcome.succeeded { return 0 }
        let label = query.outcome.label
        if label == "http-404" { return 1 }
        if label.hasPrefix("http-5") { return 2 }
        if label.hasPrefix("connection-") { return 3 }
        return 4
    }

    static func timeline(_ report: ExperimentReport) -> String {
        let left = labelWidth, plot = width - left - 10
        let end = max(report.duration, report.queries.map(\.end).max() ?? 0, 0.001)
        let scale = plot / end
        let binWidth = end / Double(bins)
        var counts: [ArmID: [[Int]]] = [:]
        for arm in report.arms { counts[arm.name] = Array(repeating: Array(repeating: 0, count: HTMLRenderer.outcomeColors.count), count: bins) }
        for q in report.queries {
            let bin = min(bins - 1, max(0, Int(q.intendedStart / binWidth)))
            counts[q.arm]?[bin][self.outcomeClass(q)] += 1
        }
        let peak = max(1, counts.values.flatMap { $0 }.map { $0.reduce(0, +) }.max() ?? 1)
        var body = ""
        for (i, arm) in report.arms.enumerated() {
            let top = Double(i) * rowHeight + 4, inner = rowHeight - 6
            body += self.label(arm.name.rawValue, y: top + 14, emphasis: self.emphasis(arm))
            body += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plot))\" height=\"\(f(inner))\" fill=\"#f7fafc\"/>"
            // The disruption windows: from a slot's first write to its last step's proof (or write).
            let steps = report.mutations.filter { $0.arm == arm.name && !arm.isControl }
            for round in Set(steps.map(\.round)).sorted() {
                let slot = steps.filter { $0.round == round }
                guard let start = slot.map(\.writeStart).min(), let stop = slot.map({ $0.propagatedAt ?? $0.writeEnd }).max() else { continue }
                body += "<rect x=\"\(f(left + start * scale))\" y=\"\(f(top))\" width=\"\(f(max(1, (stop - start) * scale)))\" height=\"\(f(inner))\" fill=\"#fbd38d\" opacity=\"0.6\"><title>round \(round): first write to last proof, \(HTMLRenderer.duration(stop - start))</title></rect>"
            }
            for (bin, classes) in (counts[arm.name] ?? []).enumerated() where classes.reduce(0, +) > 0 {
                var y = top + inner
                let x = left + Double(bin) * binWidth * scale
                for (index, n) in classes.enumerated() where n > 0 {
                    let h = inner * Double(n) / Double(peak)
                    y -= h
                    let (name, color) = HTMLRenderer.outcomeColors[index]
                    body += "<rect x=\"\(f(x))\" y=\"\(f(y))\" width=\"\(f(max(1, binWidth * scale - 0.5)))\" height=\"\(f(h))\" fill=\"\(color)\"><title>\(n) \(name) from \(String(format: "%.1f", Double(bin) * binWidth)) s</title></rect>"
                }
            }
            for step in steps {
                let x = left + step.writeStart * scale
                body += "<line x1=\"\(f(x))\" x2=\"\(f(x))\" y1=\"\(f(top - 2))\" y2=\"\(f(top + inner + 2))\" stroke=\"#1a202c\" stroke-width=\"1\"><title>\(HTMLRenderer.escape(step.description))\(step.propagation.map { ", proven after \(HTMLRenderer.duration($0))" } ?? "")</title></line>"
            }
        }
        let axis = Double(report.arms.count) * rowHeight + 18
        for tick in self.ticks(from: 0, to: end, count: 8) {
            body += "<text x=\"\(f(left + tick * scale))\" y=\"\(f(axis))\" text-anchor=\"middle\">\(self.tickText(tick))s</text>"
        }
        let key = HTMLRenderer.outcomeColors.map { "<span><i class=\"sw\" style=\"background:\($0.color)\"></i>\($0.label)</span>" }.joined()
        return "<p class=\"key\">\(key)<span><i class=\"sw\" style=\"background:#fbd38d\"></i>write to proof</span><span>| a mutation write</span></p>"
            + self.svg(height: axis + 6, body)
    }

    // MARK: Latency

    static func latency(_ report: ExperimentReport) -> String {
        let left = labelWidth, plot = width - left - 30
        let summaries = report.arms.compactMap { arm in arm.latency["all"].map { (arm, $0) } }
        guard let low = summaries.map({ $0.1.p50 }).min(), let high = summaries.map({ $0.1.max }).max() else {
            return "<p>No query succeeded, so there is no latency to show.</p>"
        }
        // A log axis when the values span more than twenty-fold, else linear from the data (not from zero).
        let logarithmic = high / max(low, 1e-6) > 20
        let lo = logarithmic ? max(low, 1e-4) * 0.8 : max(0, low - (high - low) * 0.1)
        let hi = logarithmic ? high * 1.25 : high + (high - low) * 0.1 + 1e-6
        let x = { (v: Double) -> Double in
            logarithmic ? left + plot * (log10(max(v, lo)) - log10(lo)) / (log10(hi) - log10(lo)) : left + plot * (v - lo) / (hi - lo)
        }
        var body = ""
        for (i, arm) in report.arms.enumerated() {
            let y = Double(i) * rowHeight + 14
            body += self.label(arm.name.rawValue, y: y + 4, emphasis: self.emphasis(arm))
            guard let s = arm.latency["all"] else {
                body += "<text x=\"\(f(left))\" y=\"\(f(y + 4))\">no successful query</text>"
                continue
            }
            body += "<line x1=\"\(f(x(s.p50)))\" x2=\"\(f(x(s.max)))\" y1=\"\(f(y))\" y2=\"\(f(y))\" stroke=\"#a0aec0\" stroke-width=\"2\"/>"
            body += "<circle cx=\"\(f(x(s.p50)))\" cy=\"\(f(y))\" r=\"4\" fill=\"#0072B2\"><title>p50 \(HTMLRenderer.duration(s.p50))</title></circle>"
            body += "<rect x=\"\(f(x(s.p99) - 4))\" y=\"\(f(y - 4))\" width=\"8\" height=\"8\" fill=\"#D55E00\"><title>p99 \(HTMLRenderer.duration(s.p99))</title></rect>"
            body += "<text x=\"\(f(x(s.max)))\" y=\"\(f(y + 4))\" text-anchor=\"middle\"><title>max \(HTMLRenderer.duration(s.max))</title>×</text>"
        }
        let axis = Double(report.arms.count) * rowHeight + 20
        let ticks = logarithmic ? self.logTicks(from: lo, to: hi) : self.ticks(from: lo, to: hi, count: 6)
        for tick in ticks {
            body += "<line x1=\"\(f(x(tick)))\" x2=\"\(f(x(tick)))\" y1=\"0\" y2=\"\(f(axis - 12))\" stroke=\"#e2e8f0\"/>"
            body += "<text x=\"\(f(x(tick)))\" y=\"\(f(axis))\" text-anchor=\"middle\">\(HTMLRenderer.duration(tick))</text>"
        }
        let key = "<p class=\"key\"><span><i class=\"sw\" style=\"background:#0072B2;border-radius:5px\"></i>p50</span>"
            + "<span><i class=\"sw\" style=\"background:#D55E00\"></i>p99</span><span>× max</span><span>\(logarithmic ? "log scale" : "linear scale")</span></p>"
        return key + self.svg(height: axis + 6, body)
    }

    // MARK: Axes

    /// Round tick values between `from` and `to` (1, 2 or 5 times a power of ten apart).
    static func ticks(from: Double, to: Double, count: Int) -> [Double] {
        let span = max(to - from, 1e-9)
        let raw = span / Double(max(1, count))
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? raw
        var values: [Double] = []
        var tick = (from / step).rounded(.up) * step
        while tick <= to + step * 1e-9 {
            values.append(tick)
            tick += step
        }
        return values
    }

    /// 1, 2 and 5 times each power of ten within the range.
    static func logTicks(from: Double, to: Double) -> [Double] {
        var values: [Double] = []
        var decade = pow(10, floor(log10(from)))
        while decade <= to {
            for m in [1.0, 2, 5] where decade * m >= from && decade * m <= to { values.append(decade * m) }
            decade *= 10
        }
        return values
    }

    static func tickText(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
