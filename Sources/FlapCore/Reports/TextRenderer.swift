import Foundation

/// The summary printed at the end of a run (and by `flap-cli report --format text`): the verdict first, then
/// tables that fit `width` (a table too wide is split into several that repeat the arm column; text lines wrap).
public enum TextRenderer {
    public static func render(_ report: ExperimentReport) -> String { self.render(report, width: self.terminalWidth()) }

    /// `COLUMNS`, else the width of the terminal on stdout (at least 80); unlimited when neither says.
    public static func terminalWidth() -> Int {
        if let columns = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), columns > 0 { return max(80, columns) }
        var size = winsize()
        guard isatty(1) == 1, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return Int.max }
        return max(80, Int(size.ws_col))
    }

    public static func render(_ report: ExperimentReport, width: Int) -> String {
        var out = "verdict: \(report.judged.rawValue.uppercased())\n"
        var header = "flap run \(report.runID) (\(report.name)): \(report.queries.count) queries, \(report.mutations.count) mutation steps, "
        header += String(format: "%.1fs", report.duration)
        if report.partial { header += " — PARTIAL" + (report.aborted.map { " (\($0))" } ?? "") }
        out += self.wrap(header, width: width)
        if let why = report.notRestored { out += self.wrap("NOT RESTORED: routes may still be changed (\(why)); run `flap-cli restore`", width: width) }
        for line in report.integrityLines { out += self.wrap(line, width: width) }
        out += "\n"
        var table = [["arm", "route", "mutation", "survival", "95% CI", "vs control", "p50", "p99", "max", "reconnects", "failures"]]
        for arm in report.arms {
            let s = arm.survival
            let vs = arm.versusControl.map { String(format: "%+.1f%% (p=%@)", $0.difference * 100, MarkdownRenderer.pValue($0.fisherP)) } ?? (arm.survival.trials == 0 ? "no data" : "-")
            let latency = arm.latency["all"]
            // An invalid arm's count does not measure its mutation, so it is not shown as a survival figure.
            table.append([arm.name.rawValue, arm.target.description, arm.mutator, arm.invalid == nil ? "\(s.successes)/\(s.trials)" : "INVALID",
                          arm.invalid == nil ? s.intervalText() : "-", arm.invalid == nil ? vs : "-",
                          latency.map { Self.ms($0.p50) } ?? "-", latency.map { Self.ms($0.p99) } ?? "-", latency.map { Self.ms($0.max) } ?? "-",
                          "\(arm.connections.reconnects)", arm.failures.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")])
        }
        out += Self.table(table, width: width)
        out += "\nlatency by phase (successful queries, from the intended start):\n"
        var phases = [["arm", "phase", "n", "p50", "p90", "p99", "p99.9", "max"]]
        for arm in report.arms {
            for phase in QueryRecord.Phase.allCases.map(\.rawValue) {
                guard let l = arm.latency[phase] else { continue }
                phases.append([arm.name.rawValue, phase, "\(l.count)", Self.ms(l.p50), Self.ms(l.p90), Self.ms(l.p99), Self.ms(l.p999), Self.ms(l.max)])
            }
        }
        out += Self.table(phases, width: width)
        out += "\n" + self.wrap("survival under each client's retry behaviour (from the same traces; a bound where a retry the run did not make decides):", width: width)
        let profiles = ClientProfile.allCases.map(\.rawValue)
        var profileTable = [["arm"] + profiles]
        for arm in report.arms {
            profileTable.append([arm.name.rawValue] + profiles.map { name in arm.invalid != nil ? "invalid" : arm.profiles[name].map(\.text) ?? "-" })
        }
        out += Self.table(profileTable, width: width)
        if let propagation = report.propagation {
            out += "\n" + self.wrap(String(format: "propagation (write -> first proof of the new config): n=%d p50 %@ p99 %@ max %@",
                                           propagation.count, Self.ms(propagation.p50), Self.ms(propagation.p99), Self.ms(propagation.max)), width: width)
        }
        if let lateness = report.lateness, lateness.p99 > 0.005 {
            out += self.wrap(String(format: "scheduling lateness p99 %@ (latency is measured from the intended start)", Self.ms(lateness.p99)), width: width)
        }
        if report.droppedArrivals > 0 { out += "dropped arrivals (too many in flight): \(report.droppedArrivals)\n" }
        for gate in report.gates { out += self.wrap("\(gate.passed ? "PASS" : "FAIL") \(gate.message)", width: width) }
        return out
    }

    static func ms(_ seconds: Double) -> String {
        seconds >= 10 ? String(format: "%.1fs", seconds) : String(format: "%.0fms", seconds * 1000)
    }

    /// Columns padded to their widest cell. When the rows are wider than `width`, the columns are packed into
    /// several tables, each starting with the first column; a cell that alone would not fit is cut with `…`.
    static func table(_ rows: [[String]], width: Int = .max) -> String {
        guard let first = rows.first, !first.isEmpty else { return "" }
        let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        let gap = 2
        var groups: [[Int]] = []
        var current = [0], used = widths[0]
        for column in 1..<first.count {
            if used + gap + widths[column] > width, current.count > 1 {
                groups.append(current)
                (current, used) = ([0], widths[0])
            }
            current.append(column)
            used += gap + widths[column]
        }
        groups.append(current)
        return groups.map { columns in
            let limits = columns.map { column in min(widths[column], max(8, width - (columns.count == 1 ? 0 : widths[0] + gap))) }
            return rows.map { row in
                zip(columns, limits).map { column, limit in
                    let cell = row[column].count > limit ? String(row[column].prefix(limit - 1)) + "…" : row[column]
                    return cell.padding(toLength: limit, withPad: " ", startingAt: 0)
                }.joined(separator: String(repeating: " ", count: gap)).trimmingCharacters(in: .whitespaces)
            }.joined(separator: "\n") + "\n"
        }.joined(separator: "\n")
    }

    /// `line` broken at spaces so no piece is longer than `width` (a word longer than that stands alone).
    static func wrap(_ line: String, width: Int) -> String {
        guard line.count > width else { return line + "\n" }
        var lines: [String] = []
        var current = ""
        for word in line.split(separator: " ", omittingEmptySubsequences: false) {
            if !current.isEmpty, current.count + 1 + word.count > width {
                lines.append(current)
                current = "  " + word
            } else {
                current += (current.isEmpty ? "" : " ") + word
            }
        }
        lines.append(current)
        return lines.map { $0.count > width ? String($0.prefix(width - 1)) + "…" : $0 }.joined(separator: "\n") + "\n"
    }
}
