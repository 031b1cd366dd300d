import Foundation
import TrinoClient

/// Survival had the client used a retry profile, from the same traces. A retry the run made itself has a known
/// answer; a retry the profile would have made after the query's last failure was never tried, so its answer is
/// unknown. Survival is then a bound, `lower` (no such retry answered) to `upper` (every one answered), and a
/// point only when `unknown` is 0.
public struct ProfileSurvival: Sendable, Codable, Equatable {
    /// Queries the traces show surviving under the profile.
    public var lower: Proportion
    /// Those plus the queries whose survival hangs on an untried retry.
    public var upper: Proportion
    /// Queries whose survival hangs on an untried retry.
    public var unknown: Int

    public init(survived: Int, unknown: Int, trials: Int) {
        self.lower = Proportion(successes: survived, trials: trials)
        self.upper = Proportion(successes: survived + unknown, trials: trials)
        self.unknown = unknown
    }

    /// True when the traces decide every query (the figure is a measurement, not a bound).
    public var isPoint: Bool { self.unknown == 0 }

    /// `95.0%`, or `80.0-100.0% (bound)` when untried retries decide.
    public var text: String {
        guard self.lower.trials > 0 else { return "no data" }
        if self.isPoint { return self.lower.percentText }
        return String(format: "%.1f-%.1f%% (bound)", self.lower.estimate * 100, self.upper.estimate * 100)
    }

    enum CodingKeys: String, CodingKey { case lower, upper, unknown, successes, trials }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let (survived, unknown, trials): (Int, Int, Int)
        if c.contains(.unknown) {   // schema 3 (a schema 2 Proportion also has a `lower`, a number)
            let lower = try c.decode(Proportion.self, forKey: .lower)
            (survived, unknown, trials) = (lower.successes, try c.decode(Int.self, forKey: .unknown), lower.trials)
        } else {
            // Schema 1 and 2 stored one Proportion, which was the upper bound (every retry answered).
            (survived, unknown, trials) = (0, try c.decode(Int.self, forKey: .successes), try c.decode(Int.self, forKey: .trials))
        }
        guard survived >= 0, unknown >= 0, survived + unknown <= trials else {
            throw DecodingError.dataCorruptedError(forKey: .unknown, in: c, debugDescription: "profile survival \(survived)+\(unknown) of \(trials)")
        }
        self.init(survived: survived, unknown: unknown, trials: trials)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.lower, forKey: .lower)
        try c.encode(self.upper, forKey: .upper)
        try c.encode(self.unknown, forKey: .unknown)
    }
}

/// "Would my client have survived?" for one query under a retry policy.
public enum ClientProfiles {
    public enum Verdict: Sendable, Equatable { case survives, fails, unknown }

    public static func verdict(_ query: QueryRecord, under policy: RetryPolicy) -> Verdict {
        if query.outcome.succeeded && query.hops.allSatisfy({ $0.attemptFailures.isEmpty }) { return .survives }
        // A Trino error or a client that stopped is not a wire failure a retry could mend.
        if query.outcome.failureClass == .trinoError || query.outcome.failureClass == .clientGaveUp { return .fails }
        for hop in query.hops where !hop.attemptFailures.isEmpty {
            for (offset, code) in hop.attemptFailures.enumerated() where !policy.shouldRetry(code, method: hop.method, attemptsMade: offset + 1, elapsed: .zero) {
                return .fails
            }
        }
        // The profile retries every failure the run recorded. Where the run itself retried, the next attempt's
        // answer is in the trace; after the query's last failure the profile's retry was never made.
        if query.outcome.succeeded { return .survives }
        let brokenHop = query.outcome.failedHop.flatMap { index in query.hops.first { $0.index == index } }
            ?? query.hops.last { !$0.attemptFailures.isEmpty }
        guard let brokenHop, !brokenHop.attemptFailures.isEmpty else { return .fails }   // no wire failure a retry could mend
        return .unknown
    }

    public static func survival(_ queries: [QueryRecord], under policy: RetryPolicy) -> ProfileSurvival {
        let verdicts = queries.map { self.verdict($0, under: policy) }
        return ProfileSurvival(survived: verdicts.filter { $0 == .survives }.count, unknown: verdicts.filter { $0 == .unknown }.count,
                               trials: queries.count)
    }
}
