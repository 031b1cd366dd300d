import Foundation

/// A report did not meet what a test expected; the message names the arm, the measured value and its interval.
public struct ReportExpectationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}

extension ExperimentReport {
    /// Throws unless `arm`'s survival is at least `minimum` (for XCTest or Swift Testing: `try report.expect(...)`).
    public func expect(survival minimum: Double, arm name: ArmID, profile: ClientProfile? = nil) throws {
        let arm = try self.requireArm(name)
        // Under a profile, the bound's lower end: a retry the run never made must not pass a test.
        let survival = profile.map { arm.profiles[$0.rawValue]?.lower } ?? arm.survival
        guard let survival else {
            throw ReportExpectationError(message: "arm \(name) has no client profile \(profile?.rawValue ?? ""); profiles: \(arm.profiles.keys.sorted().joined(separator: ", "))")
        }
        guard survival.trials > 0 else { throw ReportExpectationError(message: "arm \(name) ran no query") }
        guard survival.estimate >= minimum else {
            throw ReportExpectationError(message: String(
                format: "survival of arm %@%@ is %.4f (%d/%d, 95%% CI %.4f-%.4f), expected at least %.4f; failures: %@",
                name.rawValue, profile.map { " under the \($0.rawValue) client profile" } ?? "", survival.estimate, survival.successes, survival.trials,
                survival.lower, survival.upper, minimum, arm.failures.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")))
        }
    }

    /// Throws unless `arm`'s latency statistic is below `limit`, over all its queries or those of one `phase`.
    public func expect(latency percentile: Percentile = .p99, below limit: Duration, arm name: ArmID, phase: Phase? = nil) throws {
        let arm = try self.requireArm(name)
        let phase = phase?.rawValue ?? "all"
        guard let summary = arm.latency[phase] else {
            throw ReportExpectationError(message: "arm \(name) has no \(percentile.rawValue) latency for phase \(phase) (no successful query)")
        }
        let value = summary.value(percentile)
        let seconds = limit.milliseconds / 1000
        guard value < seconds else {
            throw ReportExpectationError(message: String(format: "%@ latency of arm %@ (%@) is %.1f ms over %d queries, expected below %.1f ms",
                                                         percentile.rawValue, name.rawValue, phase, value * 1000, summary.count, seconds * 1000))
        }
    }

    /// Throws unless `arm` saw at most `maximum` reconnects.
    public func expect(reconnects maximum: Int, arm name: ArmID) throws {
        let arm = try self.requireArm(name)
        guard arm.connections.reconnects <= maximum else {
            throw ReportExpectationError(message: "arm \(name) reconnected \(arm.connections.reconnects) times (\(arm.connections.attributableToMutations) right after a mutation), expected at most \(maximum)")
        }
    }

    /// Throws unless every gate passes, naming each failed gate with what it measured.
    public func expect(_ gates: Gate...) throws {
        let failed = gates.map { $0.evaluate(self) }.filter { !$0.passed }
        guard failed.isEmpty else { throw ReportExpectationError(message: failed.map(\.message).joined(separator: "; ")) }
    }

    private func requireArm(_ name: ArmID) throws -> ArmReport {
        guard let arm = self.arm(name) else {
            throw ReportExpectationError(message: "the report has no arm \(name); arms: \(self.arms.map(\.name.rawValue).joined(separator: ", "))")
        }
        return arm
    }
}
