import Foundation

/// A report did not meet what a test expected; the message names the arm, the measured value and its interval.
public struct ReportExpectationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var description: String { self.message }
}

extension ExperimentReport {
    /// Throws unless `arm`'s survival is at least `minimum` (for XCTest or Swift Testing: `try report.expect(...)`).
    public func expect(survival minimum: Double, arm name: String, profile: String? = nil) throws {
        let arm = try self.requireArm(name)
        let survival = profile.map { arm.profiles[$0] } ?? arm.survival
        guard let survival else {
            throw ReportExpectationError(message: "arm \(name) has no client profile \(profile ?? ""); profiles: \(arm.profiles.keys.sorted().joined(separator: ", "))")
        }
        guard survival.trials > 0 else { throw ReportExpectationError(message: "arm \(name) ran no query") }
        guard survival.estimate >= minimum else {
            throw ReportExpectationError(message: String(
                format: "survival of arm %@%@ is %.4f (%d/%d, 95%% CI %.4f-%.4f), expected at least %.4f; failures: %@",
                name, profile.map { " under the \($0) client profile" } ?? "", survival.estimate, survival.successes, survival.trials,
                survival.lower, survival.upper, minimum, arm.failures.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")))
        }
    }

    /// Throws unless `arm`'s latency percentile (`p50`, `p90`, `p99`, `p999`, `max`) is below `limit`.
    public func expect(latency percentile: String = "p99", below limit: Duration, arm name: String, phase: String = "all") throws {
        let arm = try self.requireArm(name)
        guard let summary = arm.latency[phase], let value = summary.value(percentile) else {
            throw ReportExpectationError(message: "arm \(name) has no \(percentile) latency for phase \(phase) (no successful query)")
        }
        let seconds = limit.milliseconds / 1000
        guard value < seconds else {
            throw ReportExpectationError(message: String(format: "%@ latency of arm %@ (%@) is %.1f ms over %d queries, expected below %.1f ms",
                                                         percentile, name, phase, value * 1000, summary.count, seconds * 1000))
        }
    }

    /// Throws unless `arm` saw at most `maximum` reconnects.
    public func expect(reconnects maximum: Int, arm name: String) throws {
        let arm = try self.requireArm(name)
        guard arm.connections.reconnects <= maximum else {
            throw ReportExpectationError(message: "arm \(name) reconnected \(arm.connections.reconnects) times (\(arm.connections.attributableToMutations) right after a mutation), expected at most \(maximum)")
        }
    }

    private func requireArm(_ name: String) throws -> ArmReport {
        guard let arm = self.arm(name) else {
            throw ReportExpectationError(message: "the report has no arm \(name); arms: \(self.arms.map(\.name).joined(separator: ", "))")
        }
        return arm
    }
}
