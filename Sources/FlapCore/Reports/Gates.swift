import FlapSystem
import Foundation

/// A pass/fail rule over a report, e.g. `survival(gateway) >= 0.999`, `p99(gateway) < 2s`,
/// `propagation.p99 < 500ms`, `reconnects(gateway) == 0`.
public struct Gate: Sendable, Codable, Equatable, CustomStringConvertible {
    public enum Metric: Sendable, Codable, Equatable {
        case survival(arm: ArmID)
        /// Survival under a client profile: `survival(gateway, python)`.
        case profileSurvival(arm: ArmID, profile: ClientProfile)
        case latency(arm: ArmID, percentile: Percentile)
        case reconnects(arm: ArmID)
        case failures(arm: ArmID)
        case propagation(percentile: Percentile)

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

    /// A gate built in code; its expression is the text ``parse(_:)`` reads back to the same gate.
    public init(_ metric: Metric, _ comparison: Comparison, _ threshold: Double) {
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
        self.expression = "\(Self.text(metric)) \(comparison.rawValue) \(threshold)"
    }

    init(expression: String, metric: Metric, comparison: Comparison, threshold: Double) {
        self.expression = expression
        self.metric = metric
        self.comparison = comparison
        self.threshold = threshold
    }

    static func text(_ metric: Metric) -> String {
        switch metric {
        case .survival(let arm): "survival(\(arm))"
        case .profileSurvival(let arm, let profile): "survival(\(arm), \(profile.rawValue))"
        case .latency(let arm, let percentile): "\(percentile.rawValue)(\(arm))"
        case .reconnects(let arm): "reconnects(\(arm))"
        case .failures(let arm): "failures(\(arm))"
        case .propagation(let percentile): "propagation.\(percentile.rawValue)"
        }
    }

    public static func parse(_ text: String) throws(GateError) -> Gate {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let operators: [Comparison] = [.le, .ge, .eq, .ne, .lt, .gt]
        guard let op = operators.first(where: { trimmed.contains(" \($0.rawValue) ") || trimmed.contains($0.rawValue) }),
              let range = trimmed.range(of: op.rawValue) else {
            throw GateError(.noComparison, "gate \"\(text)\" has no comparison (<, <=, >, >=, ==, !=)")
        }
        let left = trimmed[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        let right = trimmed[range.upperBound...].trimmingCharacters(in: .whitespaces)
        guard let threshold = self.number(right) else {
            throw GateError(.badThreshold, "gate \"\(text)\": \"\(right)\" is not a number or a duration such as 500ms or 2s")
        }
        let metric = try self.metric(left, in: text)
        if let range = metric.meaningfulRange, !range.contains(threshold) {
            throw GateError(.thresholdOutOfRange, "gate \"\(text)\": \(right) is outside \(metric.rangeText)")
        }
        return Gate(expression: trimmed, metric: metric, comparison: op, threshold: threshold)
    }

    static func number(_ text: String) -> Double? {
        if let duration = DurationText.parse(text) { return Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18 }
        if text.hasSuffix("%"), let value = Double(text.dropLast()), value.isFinite { return value / 100 }
        return Double(text).flatMap { $0.isFinite ? $0 : nil }
    }

    static func metric(_ text: String, in gate: String) throws(GateError) -> Metric {
        let percentiles = Percentile.allCases.map(\.rawValue).joined(separator: ", ")
        if text.hasPrefix("propagation.") {
            let name = String(text.dropFirst("propagation.".count))
            guard let percentile = Percentile(parsing: name) else { throw GateError(.badMetric, "gate \"\(gate)\": unknown statistic \(name) (\(percentiles))") }
            return .propagation(percentile: percentile)
        }
        guard let open = text.firstIndex(of: "("), text.hasSuffix(")") else {
            throw GateError(.badMetric, "gate \"\(gate)\": \"\(text)\" is not metric(arm), e.g. survival(gateway) or p99(gateway)")
        }
        let name = String(text[..<open])
        let args = text[text.index(after: open)..<text.index(before: text.endIndex)].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard let first = args.first, !first.isEmpty else { throw GateError(.badMetric, "gate \"\(gate)\" names no arm") }
        let arm = ArmID(first)
        switch name {
        case "survival":
            guard args.count > 1 else { return .survival(arm: arm) }
            guard let profile = ClientProfile(rawValue: args[1]) else {
                throw GateError(.badMetric, "gate \"\(gate)\": unknown client profile \(args[1]) (\(ClientProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return .profileSurvival(arm: arm, profile: profile)
        case "reconnects": return .reconnects(arm: arm)
        case "failures": return .failures(arm: arm)
        default:
            guard let percentile = Percentile(parsing: name) else {
                throw GateError(.badMetric, "gate \"\(gate)\": unknown metric \(name) (survival, \(percentiles), reconnects, failures, propagation.pNN)")
            }
            return .latency(arm: arm, percentile: percentile)
        }
    }

    /// The measured value, or nil when the report has nothing to measure (which fails the gate).
    public func measure(_ report: ExperimentReport) -> Double? {
        switch self.metric {
        case .survival(let arm): report.arm(arm).map { $0.survival.estimate }
        case .profileSurvival(let arm, let profile): report.arm(arm)?.profiles[profile.rawValue]?.lower.estimate
        case .latency(let arm, let percentile): report.arm(arm)?.latency["all"]?.value(percentile)
        case .reconnects(let arm): report.arm(arm).map { Double($0.connections.reconnects) }
        case .failures(let arm): report.arm(arm).map { Double($0.queries - $0.survival.successes) }
        case .propagation(let percentile): report.propagation?.value(percentile)
        }
    }

    public func evaluate(_ report: ExperimentReport) -> GateResult {
        if let why = self.invalidity(in: report) {
            return GateResult(expression: self.expression, passed: false, measured: nil, message: "\(self.expression): not measured: \(why)")
        }
        guard let value = self.measure(report), !value.isNaN else {
            return GateResult(expression: self.expression, passed: false, measured: nil, message: "nothing measured for \(self.expression)")
        }
        if case .profileSurvival(let arm, let profile) = self.metric, let bound = report.arm(arm)?.profiles[profile.rawValue], !bound.isPoint {
            // A bound passes only when every value in it would: an untried retry must not decide a gate.
            let passed = self.holds(bound.lower.estimate) && self.holds(bound.upper.estimate)
            let message = String(format: "%@: measured a bound %.4f-%.4f (%d queries hang on retries the run did not make)%@", self.expression,
                                 bound.lower.estimate, bound.upper.estimate, bound.unknown, passed || !self.holds(bound.upper.estimate) && !self.holds(bound.lower.estimate) ? "" : ": undecided")
            return GateResult(expression: self.expression, passed: passed, measured: bound.lower.estimate, message: message)
        }
        let passed = self.holds(value)
        var message = "\(self.expression): measured \(Self.format(value, metric: self.metric))"
        if case .survival(let arm) = self.metric, let survival = report.arm(arm)?.survival {
            message += String(format: " (95%% CI %.4f-%.4f, %d/%d)", survival.lower, survival.upper, survival.successes, survival.trials)
        }
        return GateResult(expression: self.expression, passed: passed, measured: value, message: message)
    }

    func holds(_ value: Double) -> Bool {
        switch self.comparison {
        case .lt: value < self.threshold
        case .le: value <= self.threshold
        case .gt: value > self.threshold
        case .ge: value >= self.threshold
        case .eq: value == self.threshold
        case .ne: value != self.threshold
        }
    }

    /// Why the report cannot answer this gate: its arm is invalid (propagation pools every arm's writes).
    func invalidity(in report: ExperimentReport) -> String? {
        switch self.metric {
        case .survival(let arm), .profileSurvival(let arm, _), .latency(let arm, _), .reconnects(let arm), .failures(let arm):
            return report.arm(arm)?.invalid.map { "arm \(arm) is invalid (\($0.joined(separator: "; ")))" }
        case .propagation:
            let invalid = report.arms.filter { $0.invalid != nil }.map(\.name.rawValue)
            return invalid.isEmpty ? nil : "arms \(invalid.joined(separator: ", ")) are invalid"
        }
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
        self.judge()
    }

    public var gatesPassed: Bool { self.gates.allSatisfy(\.passed) }
}
