import Foundation

/// The summary printed at the end of a run (and by `flap-cli report --format text`).
public enum TextRenderer {
    public static func render(_ report: ExperimentReport) -> String {
        var out = "flap run \(report.runID) (\(report.name)): \(report.queries.count) queries, \(report.mutations.count) mutation steps, "
        out += String(format: "%.1fs", report.duration)
        if report.partial { out += " — PARTIAL" + (report.aborted.map { " (\($0))" } ?? "") }
        out += "\n"
        out += "verdict: \(report.judged.rawValue.uppercased())\n"
        if let why = report.notRestored { out += "NOT RESTORED: routes may still be changed (\(why)); run `flap-cli restore`\n" }
        for line in report.integrityLines { out += line + "\n" }
        out += "\n"
        var table = [["arm", "route", "mutation", "survival", "95% CI", "vs control", "p50", "p99", "max", "reconnects", "failures"]]
        for arm in report.arms {
            let s = arm.survival
            let vs = arm.versusControl.map { String(format: "%+.1f%% (p=%.3f)", $0.difference * 100, $0.fisherP) } ?? (arm.survival.trials == 0 ? "no data" : "-")
            let latency = arm.latency["all"]
            // An invalid arm's count does not measure its mutation, so it is not shown as a survival figure.
            table.append([arm.name.rawValue, arm.target.description, arm.mutator, arm.invalid == nil ? "\(s.successes)/\(s.trials)" : "INVALID",
                          arm.invalid == nil ? s.intervalText() : "-", arm.invalid == nil ? vs : "-",
                          latency.map { Self.ms($0.p50) } ?? "-", latency.map { Self.ms($0.p99) } ?? "-", latency.map { Self.ms($0.max) } ?? "-",
                          "\(arm.connections.reconnects)", arm.failures.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")])
        }
        out += Self.table(table)
        out += "\nlatency by phase (successful queries, from the intended start):\n"
        var phases = [["arm", "phase", "n", "p50", "p90", "p99", "p99.9", "max"]]
        for arm in report.arms {
            for phase in QueryRecord.Phase.allCases.map(\.rawValue) {
                guard let l = arm.latency[phase] else { continue }
                phases.append([arm.name.rawValue, phase, "\(l.count)", Self.ms(l.p50), Self.ms(l.p90), Self.ms(l.p99), Self.ms(l.p999), Self.ms(l.max)])
            }
        }
        out += Self.table(phases)
        out += "\nsurvival under each client's retry behaviour (from the same traces; a bound where a retry the run did not make decides):\n"
        let profiles = ClientProfile.allCases.map(\.rawValue)
        var profileTable = [["arm"] + profiles]
        for arm in report.arms {
            profileTable.append([arm.name.rawValue] + profiles.map { name in arm.invalid != nil ? "invalid" : arm.profiles[name].map(\.text) ?? "-" })
        }
        out += Self.table(profileTable)
        if let propagation = report.propagation {
            out += String(format: "\npropagation (write -> first proof of the new config): n=%d p50 %@ p99 %@ max %@\n",
                          propagation.count, Self.ms(propagation.p50), Self.ms(propagation.p99), Self.ms(propagation.max))
        }
        if let lateness = report.lateness, lateness.p99 > 0.005 {
            out += String(format: "scheduling lateness p99 %@ (latency is measured from the intended start)\n", Self.ms(lateness.p99))
        }
        if report.droppedArrivals > 0 { out += "dropped arrivals (too many in flight): \(report.droppedArrivals)\n" }
        for gate in report.gates { out += "\(gate.passed ? "PASS" : "FAIL") \(gate.message)\n" }
        return out
    }

    static func ms(_ seconds: Double) -> String {
        seconds >= 10 ? String(format: "%.1fs", seconds) : String(format: "%.0fms", seconds * 1000)
    }

    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = (0..<first.count).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }
}
