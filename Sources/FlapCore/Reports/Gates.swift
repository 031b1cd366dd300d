import FlapSystem
import Foundation

/// A pass/fail rule over a report, e.g. `survival(gateway) >= 0.999`, `p99(gateway) < 2s`,
/// `propagation.p99 < 500ms`, `reconnects(gateway) == 0`.
public struct Gate: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Metric: Sendable, Codable, Equatable {
        case survival(arm: String)
        /// Survival under a client profile: `survival(gateway, python)`.
        case profileSurvival(arm: String, profile: String)
        case latency(arm: String, percentile: String)
        case reconnects(arm: String)
        case failures(arm: String)
        case propagation(percentile: String)

        /// The values this metric can take; a threshold outside them is a typo (`survival(x) >= 2`).
        var meaningfulRange: ClosedRange<Double>? {
            switch self {
            case .survival, .profileSurvival: 0...1
            default: 0...Double.greatestFiniteMagnitude
            }
        }

        var rangeText: String {
            switch self {
            case .survival, .profileSurvival: "0...1 (survival is a fraction: 0.99 or 99%)"
            default: "what it measures (0 or more)"
            }
        }
    }

    public enum Comparison: String, Sendable, Codable { case lt = "<", le = "<=", gt = ">", ge = ">=", eq = "==", ne = "!=" }

    public var expression: String
    public var metric: Metric
    public var comparison: Comparison
    /// Seconds for times; plain numbers otherwise.
    public var threshold: Double

    public var description: String { self.expression }

    public static func parse(_ text: String) throws -> Gate {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let operators: [Comparison] = [.le, .ge, .eq, .ne, .lt, .gt]
        guard let op = operators.first(where: { trimmed.contains(" \($0.rawValue) ") || trimmed.contains($0.rawValue) }),
              let range = trimmed.range(of: op.rawValue) else {
            throw ScenarioError.invalid("gate \"\(text)\" has no comparison (<, <=, >, >=, ==, !=)")
        }
        let left = trimmed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let right = trimmed[range.upperBound...].trimmingCharacters(in: .whitespaces)
        guard let threshold = self.number(right) else {
            throw ScenarioError.invalid("gate \"\(text)\": \"\(right)\" is not a number or a duration such as 500ms or 2s")
        }
        let metric = try self.metric(left, in: text)
        if let range = metric.meaningfulRange, !range.contains(threshold) {
            throw ScenarioError.invalid("gate \"\(text)\": \(right) is outside \(metric.rangeText)")
        }
        return Gate(expression: trimmed, metric: metric, comparison: op, threshold: threshold)
    }

    static func number(_ text: String) -> Double? {
        if let duration = DurationText.parse(text) { return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
        if text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite { return value / 100 }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    static func metric(_ text: String, in gate: String) throws -> Metric {
        if text.hasPrefix("propagation.") { return .propagation(percentile: String(text.dropFirst("propagation.".count))) }
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            throw ScenarioError.invalid("gate \"\(gate)\": \"\(text)\" is not metric(arm), e.g. survival(gateway) or p99(gateway)")
        }
        let name = String(text[..<open])
        let args = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let arm = args.first, !arm.isEmpty else { throw ScenarioError.invalid("gate \"\(gate)\" names no arm") }
        switch name {
        case "survival": return args.count > 1 ? .profileSurvival(arm: arm, profile: args[1]) : .survival(arm: arm)
        case "reconnects": return .reconnects(arm: arm)
        case "failures": return .failures(arm: arm)
        case "p50", "p90", "p99", "p999", "max", "mean": return .latency(arm: arm, percentile: name)
        default: throw ScenarioError.invalid("gate \"\(gate)\": unknown metric \(name) (survival, p50, p90, p99, p999, max, mean, reconnects, failures, propagation.pNN)")
        }
    }

    /// The measured value, or nil when the report has nothing to measure (which fails the gate).
    public func measure(_ report: ExperimentReport) -> Double? {
        switch self.metric {
        case .survival(let arm): report.arm(arm).map { $0.survival.estimate }
        case .profileSurvival(let arm, let profile): report.arm(arm)?.profiles[profile]?.estimate
        case .latency(let arm, let percentile): report.arm(arm)?.latency["all"]?.value(percentile)
        case .reconnects(let arm): report.arm(arm).map { Double($0.connections.reconnects) }
        case .failures(let arm): report.arm(arm).map { Double($0.queries - $0.survival.successes) }
        case .propagation(let percentile): report.propagation?.value(percentile)
        }
    }

    public func evaluate(_ report: ExperimentReport) -> GateResult {
        guard let value = self.measure(report), !value.isNaN else {
            return GateResult(expression: self.expression, passed: false, measured: nil, message: "nothing measured for \(self.expression)")
        }
        let passed: Bool
        switch self.comparison {
        case .lt: passed = value < self.threshold
        case .le: passed = value <= self.threshold
        case .gt: passed = value > self.threshold
        case .ge: passed = value >= self.threshold
        case .eq: passed = value == self.threshold
        case .ne: passed = value != self.threshold
        }
        var message = "\(self.expression): measured \(Self.format(value, metric: self.metric))"
        if case .survival(let arm) = self.metric, let survival = report.arm(arm)?.survival {
            message += String(format: " (95%% CI %.4f-%.4f, %d/%d)", survival.lower, survival.upper, survival.successes, survival.trials)
        }
        return GateResult(expression: self.expression, passed: passed, measured: value, message: message)
    }

    static func format(_ value: Double, metric: Metric) -> String {
        switch metric {
        case .latency, .propagation: String(format: "%.1fms", value * 1000)
        case .reconnects, .failures: String(format: "%.0f", value)
        default: String(format: "%.4f", value)
        }
    }
}

public struct GateResult: Sendable, Codable, Equatable {
    public var expression: String
    public var passed: Bool
    public var measured: Double?
    public var message: String
}

extension ExperimentReport {
    /// Evaluates gates and records their results in the report.
    public mutating func evaluate(_ gates: [Gate]) {
        self.gates = gates.map { $0.evaluate(self) }
    }

    public var gatesPassed: Bool { self.gates.allSatisfy(\.passed) }
}
