import Foundation

/// A proportion with its 95% Wilson score interval: survival of an arm, for instance.
public struct Proportion: Sendable, Codable, Equatable {
    public var successes: Int
    public var trials: Int
    public var lower: Double
    public var upper: Double

    public var estimate: Double { self.trials == 0 ? .nan : Double(self.successes) / Double(self.trials) }

    /// The Wilson score interval (good coverage for small n and proportions near 0 or 1, unlike the Wald interval).
    public init(successes: Int, trials: Int, z: Double = 1.959963984540054) {
        precondition(successes >= 0 && successes <= trials, "successes must be within 0...trials")
        self.successes = successes
        self.trials = trials
        guard trials > 0 else {
            self.lower = 0
            self.upper = 1
            return
        }
        let n = Double(trials)
        let p = Double(successes) / n
        let z2 = z * z
        let center = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z * ((p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()) / (1 + z2 / n)
        self.lower = max(0, center - half)
        self.upper = min(1, center + half)
        if successes == 0 { self.lower = 0 }
        if successes == trials { self.upper = 1 }
    }
}

/// The difference between two proportions (a - b) with Newcombe's hybrid score interval and Fisher's exact test.
public struct ProportionDifference: Sendable, Codable, Equatable {
    public var difference: Double
    public var lower: Double
    public var upper: Double
    /// Two-sided p-value of Fisher's exact test on the 2x2 table.
    public var fisherP: Double

    public init(_ a: Proportion, _ b: Proportion) {
        self.difference = a.estimate - b.estimate
        // Newcombe (1998), method 10: combine the Wilson intervals of each proportion.
        let da = a.estimate - a.lower, ua = a.upper - a.estimate
        let db = b.estimate - b.lower, ub = b.upper - b.estimate
        self.lower = self.difference - (da * da + ub * ub).squareRoot()
        self.upper = self.difference + (ua * ua + db * db).squareRoot()
        self.fisherP = FisherExact.twoSided(a: a.successes, b: a.trials - a.successes, c: b.successes, d: b.trials - b.successes)
        if a.trials == 0 || b.trials == 0 {
            self.difference = .nan
            self.lower = -1
            self.upper = 1
        }
    }
}

/// Fisher's exact test for a 2x2 table [[a, b], [c, d]].
public enum FisherExact {
    /// Two-sided p: the sum of probabilities of tables (same margins) no more likely than the observed one.
    public static func twoSided(a: Int, b: Int, c: Int, d: Int) -> Double {
        let row1 = a + b, row2 = c + d, col1 = a + c, n = a + b + c + d
        guard n > 0 else { return 1 }
        let low = max(0, col1 - row2), high = min(col1, row1)
        let observed = self.logProbability(a, row1: row1, row2: row2, col1: col1, n: n)
        var p = 0.0
        for x in low...high {
            let lp = self.logProbability(x, row1: row1, row2: row2, col1: col1, n: n)
            if lp <= observed + 1e-7 { p += exp(lp) }
        }
        return min(1, p)
    }

    /// Hypergeometric log-probability of `x` in the top-left cell.
    static func logProbability(_ x: Int, row1: Int, row2: Int, col1: Int, n: Int) -> Double {
        self.logChoose(row1, x) + self.logChoose(row2, col1 - x) - self.logChoose(n, col1)
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }
}

extension Proportion {
    /// The estimate as `97.5%`, or `no data` for an arm without queries.
    public var percentText: String { self.trials == 0 ? "no data" : String(format: "%.1f%%", self.estimate * 100) }

    /// The 95% interval as `92.1-100.0%`, or `no data` for an arm without queries (never `nan`).
    public func intervalText(separator: String = "-") -> String {
        self.trials == 0 ? "no data" : String(format: "%.1f\(separator)%.1f%%", self.lower * 100, self.upper * 100)
    }
}

/// A linear combination of independent proportions, Σ cᵢ·pᵢ, with a 95% interval by the MOVER method (Zou and
/// Donner 2008): each proportion's Wilson limits combine on the side its coefficient's sign points to, as Newcombe's
/// interval does for one difference. Used for a factorial's main effects (e.g. the mean over data planes of
/// "HTTPRoute minus Ingress").
public struct ProportionCombination: Sendable, Codable, Equatable {
    public var estimate: Double
    public var lower: Double
    public var upper: Double

    public init(_ terms: [(coefficient: Double, proportion: Proportion)]) {
        guard terms.allSatisfy({ $0.proportion.trials > 0 }) else {
            let span = terms.map { abs($0.coefficient) }.reduce(0, +)
            self.estimate = .nan
            self.lower = -span
            self.upper = span
            return
        }
        self.estimate = terms.map { $0.coefficient * $0.proportion.estimate }.reduce(0, +)
        var down = 0.0, up = 0.0
        for (c, p) in terms {
            let below = p.estimate - p.lower, above = p.upper - p.estimate
            down += c >= 0 ? (c * below) * (c * below) : (c * above) * (c * above)
            up += c >= 0 ? (c * above) * (c * above) : (c * below) * (c * below)
        }
        self.lower = self.estimate - down.squareRoot()
        self.upper = self.estimate + up.squareRoot()
    }

    /// Whether the interval excludes zero.
    public var excludesZero: Bool { self.lower > 0 || self.upper < 0 }
}
