import FlapCore
import XCTest

final class StatisticsTests: XCTestCase {
    func testWilsonIntervalKnownAnswers() {
        // Reference values: Newcombe (1998) table I and the R package binom (method = "wilson").
        let cases: [(Int, Int, Double, Double)] = [
            (81, 263, 0.2553, 0.3662),
            (15, 148, 0.0624, 0.1605),
            (0, 20, 0.0, 0.1611),
            (1, 29, 0.0061, 0.1718),
            (7, 10, 0.3968, 0.8922),
            (20, 20, 0.8389, 1.0),
        ]
        for (s, n, low, high) in cases {
            let p = Proportion(successes: s, trials: n)
            XCTAssertEqual(p.lower, low, accuracy: 0.0001, "\(s)/\(n)")
            XCTAssertEqual(p.upper, high, accuracy: 0.0001, "\(s)/\(n)")
        }
        let empty = Proportion(successes: 0, trials: 0)
        XCTAssertTrue(empty.estimate.isNaN)
        XCTAssertEqual(empty.lower, 0)
        XCTAssertEqual(empty.upper, 1)
    }

    func testFisherExactKnownAnswers() {
        // R: fisher.test(matrix(c(3,1,1,3),2))$p.value = 0.4857; the lady tasting tea.
        XCTAssertEqual(FisherExact.twoSided(a: 3, b: 1, c: 1, d: 3), 0.4857, accuracy: 0.0001)
        // R: fisher.test(matrix(c(10,0,3,7),2))$p.value = 0.003096
        XCTAssertEqual(FisherExact.twoSided(a: 10, b: 3, c: 0, d: 7), 0.003096, accuracy: 0.000001)
        // The original experiment's "7/10" against a perfect control of 10/10: not significant.
        XCTAssertEqual(FisherExact.twoSided(a: 7, b: 3, c: 10, d: 0), 0.2105, accuracy: 0.0001)
        XCTAssertEqual(FisherExact.twoSided(a: 5, b: 5, c: 5, d: 5), 1.0, accuracy: 1e-9)
    }

    func testNewcombeDifference() {
        // Newcombe (1998) table II example: 56/70 vs 48/80 -> 0.2, CI 0.0524 to 0.3339 (method 10).
        let d = ProportionDifference(Proportion(successes: 56, trials: 70), Proportion(successes: 48, trials: 80))
        XCTAssertEqual(d.difference, 0.2, accuracy: 1e-9)
        XCTAssertEqual(d.lower, 0.0524, accuracy: 0.0001)
        XCTAssertEqual(d.upper, 0.3339, accuracy: 0.0001)
    }

    func testHistogramPercentilesAreWithinOnePercentOfExactValues() {
        var histogram = LatencyHistogram()
        var values: [Int64] = []
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<20_000 {
            // Heavy-tailed: 1 ms .. ~60 s, log-uniform.
            let micros = Int64(exp(Double.random(in: log(1000)...log(60_000_000), using: &generator)))
            values.append(micros)
            histogram.record(micros: micros)
        }
        values.sort()
        for q in [0.5, 0.9, 0.99, 0.999] {
            let exact = Double(values[Int((q * Double(values.count)).rounded(.up)) - 1])
            let estimate = Double(histogram.quantile(q)!.components.seconds) * 1e6 + Double(histogram.quantile(q)!.components.attoseconds) / 1e12
            XCTAssertEqual(estimate, exact, accuracy: exact * 0.01, "q=\(q)")
        }
        XCTAssertEqual(histogram.quantile(1), .microseconds(values.last!), "max is exact")
        XCTAssertEqual(histogram.quantile(0), .microseconds(values.first!), "min is exact")
        XCTAssertEqual(histogram.count, 20_000)
    }

    func testHistogramsMergeExactlyAndSurviveSerialisation() throws {
        var a = LatencyHistogram()
        var b = LatencyHistogram()
        var all = LatencyHistogram()
        for i in 1...5000 {
            let micros = Int64(i * 37 % 100_000)
            if i % 2 == 0 { a.record(micros: micros) } else { b.record(micros: micros) }
            all.record(micros: micros)
        }
        let decoded = try JSONDecoder().decode(LatencyHistogram.self, from: try JSONEncoder().encode(b))
        var merged = a
        merged.merge(decoded)
        XCTAssertEqual(merged, all)
        XCTAssertNil(LatencyHistogram().quantile(0.5))
    }
}

/// A deterministic generator for reproducible tests and seedable run orders.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed &+ 0x9E37_79B9_7F4A_7C15 }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
