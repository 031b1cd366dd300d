import FlapCore
import Foundation
import KubeClient

/// Each arm's mutator checked against the live objects before any write, for `--dry-run` and `doctor`.
enum MutationChecks {
    /// How long one arm's check may take.
    static let timeout = Duration.seconds(10)

    /// One line per arm, `ok` or `FAIL` with what the mutator would not find; true when every check passed.
    static func run(_ configuration: ExperimentConfiguration) async -> (lines: [String], passed: Bool) {
        var lines: [String] = []
        var passed = true
        for arm in configuration.arms {
            let context = MutationContext(kube: configuration.kube, target: arm.target, runID: "check", marker: "check")
            let mutator = arm.mutator
            do {
                let problem = try await withDeadline(.now + self.timeout, "the API server did not answer within \(self.timeout)") {
                    await context.problem(with: mutator)
                }
                if let problem {
                    passed = false
                    lines.append("FAIL \(arm.id): \(problem)")
                } else {
                    lines.append("ok   \(arm.id): \(arm.mutator.name) can work on \(arm.target)")
                }
            } catch {
                passed = false
                lines.append("FAIL \(arm.id): \(error)")
            }
        }
        return (lines, passed)
    }
}
