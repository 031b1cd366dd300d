import FlapCore
import FlapJSON
import Foundation

/// The lab's API × data-plane reading: for each mutation, each profile's survival change against its own control
/// arm, and two main effects with 95% intervals: the API's (HTTPRoute minus Ingress, averaged over the data planes
/// that serve both) and the data plane's (Envoy minus nginx, averaged over the APIs both serve). An effect whose
/// interval excludes zero decided; when neither does, the reading says how large an effect the run rules out (never
/// "no difference").
public struct LabFactorial: Sendable, Codable, Equatable {
    public struct Row: Sendable, Codable, Equatable {
        /// The mutation's arm label (`delete-recreate`, `toggle-header-x6`, ...).
        public var mutation: String
        /// Per profile: the mutation arm's survival minus its control's (negative = queries lost).
        public var change: [String: Double]
        public var api: ProportionCombination?
        public var dataPlane: ProportionCombination?
        /// HAProxy minus nginx, averaged over the APIs both serve (with the haproxy profiles).
        public var haproxy: ProportionCombination?
        /// `API`, `data plane`, `both`, or `neither (each within ±N points)`: the largest effect the run rules out.
        public var decided: String
    }

    public var rows: [Row]

    /// Arms are named `<profile>-<mutation>`; each profile needs its `<profile>-control` arm. An invalid arm (a
    /// failed step) is not measured and leaves its cell out.
    public static func reading(_ report: ExperimentReport, profiles: [LabProfile]) -> LabFactorial {
        var measured: [String: Proportion] = [:]
        for arm in report.arms where arm.invalid == nil && arm.survival.trials > 0 { measured[arm.name.rawValue] = arm.survival }
        return self.reading(survival: measured, profiles: profiles)
    }

    /// From each measured arm's survival, by arm name.
    static func reading(survival: [String: Proportion], profiles: [LabProfile]) -> LabFactorial {
        var mutations: [String] = []
        for profile in profiles {
            for name in survival.keys.sorted() {
                guard let (owner, label) = LabProfile.owner(ofArm: name), owner == profile, label != "control" else { continue }
                if !mutations.contains(label) { mutations.append(label) }
            }
        }
        return LabFactorial(rows: mutations.map { self.row($0, survival: survival, profiles: profiles) })
    }

    private static func row(_ mutation: String, survival: [String: Proportion], profiles: [LabProfile]) -> Row {
        var cells: [LabProfile: (arm: Proportion, control: Proportion)] = [:]
        for profile in profiles {
            guard let arm = survival[profile.rawValue + "-" + mutation], let control = survival[profile.rawValue + "-control"] else { continue }
            cells[profile] = (arm, control)
        }
        func cell(_ api: RouteTarget.Kind, _ proxy: LabProfile.Proxy) -> (arm: Proportion, control: Proportion)? {
            cells.first { $0.key.api == api && $0.key.proxy == proxy }?.value
        }
        // Coefficients for "mean over the pairs of (first minus second)", each side a change against control.
        func effect(_ pairs: [((arm: Proportion, control: Proportion), (arm: Proportion, control: Proportion))]) -> ProportionCombination? {
            guard !pairs.isEmpty else { return nil }
            let weight = 1 / Double(pairs.count)
            var terms: [(coefficient: Double, proportion: Proportion)] = []
            for (a, b) in pairs {
                terms += [(weight, a.arm), (-weight, a.control), (-weight, b.arm), (weight, b.control)]
            }
            return ProportionCombination(terms)
        }
        let apiPairs = LabProfile.Proxy.allCases.compactMap { proxy in
            cell(.httpRoute, proxy).flatMap { gateway in cell(.ingress, proxy).map { (gateway, $0) } }
        }
        func planePairs(_ proxy: LabProfile.Proxy) -> [((arm: Proportion, control: Proportion), (arm: Proportion, control: Proportion))] {
            [RouteTarget.Kind.ingress, .httpRoute].compactMap { api in cell(api, proxy).flatMap { other in cell(api, .nginx).map { (other, $0) } } }
        }
        let api = effect(apiPairs), dataPlane = effect(planePairs(.envoy)), haproxy = effect(planePairs(.haproxy))
        let decided: String
        switch (api?.excludesZero ?? false, (dataPlane?.excludesZero ?? false) || (haproxy?.excludesZero ?? false)) {
        case (true, true): decided = "both"
        case (true, false): decided = "API"
        case (false, true): decided = "data plane"
        case (false, false):
            // Neither interval excludes zero: say how large an effect the run rules out, not "no difference".
            let bound = [api, dataPlane, haproxy].compactMap { $0 }.map { max(abs($0.lower), abs($0.upper)) }.max() ?? 1
            decided = "neither (each within ±\(Int((bound * 100).rounded(.up))) points)"
        }
        var change: [String: Double] = [:]
        for (profile, cell) in cells { change[profile.rawValue] = cell.arm.estimate - cell.control.estimate }
        return Row(mutation: mutation, change: change, api: api, dataPlane: dataPlane, haproxy: haproxy, decided: decided)
    }

    /// One line for the summary's top: which factor decided each mutation on this run.
    public var headline: String {
        let parts = self.rows.map { row in "\(row.mutation): \(row.decided)" }
        return "API × data plane on this run: " + (parts.isEmpty ? "no mutation measured on two profiles" : parts.joined(separator: "; "))
    }

    private static func percent(_ value: Double?) -> String {
        guard let value, !value.isNaN else { return "-" }
        return String(format: "%+.0f%%", value * 100)
    }

    private static func effect(_ value: ProportionCombination?) -> String {
        guard let value, !value.estimate.isNaN else { return "n/a" }
        return "\(percent(value.estimate)) [\(percent(value.lower)), \(percent(value.upper))]"
    }

    /// The table: survival change per profile, then each effect with its interval, then where each stand-in errs.
    public func text(profiles: [LabProfile]) -> String {
        let withHAProxy = profiles.contains { $0.proxy == .haproxy }
        let header = ["mutation"] + profiles.map(\.rawValue) + ["API (HTTPRoute − Ingress)", "data plane (Envoy − nginx)"]
            + (withHAProxy ? ["data plane (HAProxy − nginx)"] : []) + ["decided"]
        var rows = [header]
        for row in self.rows {
            rows.append([row.mutation] + profiles.map { Self.percent(row.change[$0.rawValue]) } + [Self.effect(row.api), Self.effect(row.dataPlane)]
                        + (withHAProxy ? [Self.effect(row.haproxy)] : []) + [row.decided])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        let lines = rows.map { row in
            row.enumerated().map { index, cell in cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        let caveats = profiles.map { "  \($0.rawValue): \($0.fidelity)" }
        return "survival change against each profile's control, and the main effects (95% intervals):\n" + lines.joined(separator: "\n")
            + "\nwhere each stand-in errs:\n" + caveats.joined(separator: "\n") + "\n"
    }

    /// The table as HTML for the report (escaped; the headline first, each stand-in's known error last).
    public func html(profiles: [LabProfile]) -> String {
        let escape = HTMLRenderer.escape
        var html = "<p><b>\(escape(self.headline))</b></p><table><tr><th>mutation</th>"
        html += profiles.map { "<th>\(escape($0.rawValue))<br/><small>\($0.api == .ingress ? "Ingress" : "HTTPRoute") · \($0.proxy.rawValue)</small></th>" }.joined()
        let withHAProxy = profiles.contains { $0.proxy == .haproxy }
        html += "<th>API (HTTPRoute − Ingress)</th><th>data plane (Envoy − nginx)</th>" + (withHAProxy ? "<th>data plane (HAProxy − nginx)</th>" : "") + "<th>decided</th></tr>"
        for row in self.rows {
            html += "<tr><td>\(escape(row.mutation))</td>" + profiles.map { "<td>\(Self.percent(row.change[$0.rawValue]))</td>" }.joined()
            html += "<td>\(Self.effect(row.api))</td><td>\(Self.effect(row.dataPlane))</td>" + (withHAProxy ? "<td>\(Self.effect(row.haproxy))</td>" : "")
            html += "<td><b>\(escape(row.decided))</b></td></tr>"
        }
        html += "</table><p><small>Survival change against each profile's own control arm; effects are means of differences with 95% MOVER intervals. An effect decides when its interval excludes zero.</small></p>"
        return html + "<ul>" + profiles.map { "<li><small>\(escape($0.rawValue)): \(escape($0.fidelity))</small></li>" }.joined() + "</ul>"
    }

    var json: JSONValue {
        (try? JSONValue.parse(Array((try? JSONEncoder().encode(self)) ?? Data()))) ?? .null
    }
}
