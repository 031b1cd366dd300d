import Foundation

/// A log-linear histogram of durations (HDR-style): values are kept in buckets whose width is at most 1% of
/// their value, so every percentile is within 1% of the exact one. Histograms merge exactly (bucket counts add),
/// including histograms serialised by other processes.
package struct LatencyHistogram: Sendable, Codable, Equatable {
    /// Sub-buckets per power of two: 128 gives a relative error below 2^-7 ≈ 0.78%.
    package static let subBucketBits = 7
    static let subBuckets = 1 << subBucketBits

    /// Bucket index -> count (sparse), over microseconds.
    package private(set) var counts: [Int: Int] = [:]
    package private(set) var count = 0
    package private(set) var minMicros: Int64 = .max
    package private(set) var maxMicros: Int64 = 0
    package private(set) var sumMicros: Int64 = 0

    package init() {}

    package mutating func record(_ duration: Duration) {
        let micros = max(0, duration.components.seconds * 1_000_000 + duration.components.attoseconds / 1_000_000_000_000)
        self.record(micros: micros)
    }

    package mutating func record(micros: Int64) {
        let value = max(0, micros)
        self.counts[Self.index(of: value), default: 0] += 1
        self.count += 1
        self.minMicros = min(self.minMicros, value)
        self.maxMicros = max(self.maxMicros, value)
        self.sumMicros &+= value
    }

    package mutating func merge(_ other: LatencyHistogram) {
        for (index, n) in other.counts { self.counts[index, default: 0] += n }
        self.count += other.count
        self.minMicros = min(self.minMicros, other.minMicros)
        self.maxMicros = max(self.maxMicros, other.maxMicros)
        self.sumMicros &+= other.sumMicros
    }

    /// The value at quantile `q` (0...1), nearest rank; nil when empty. The top quantile is the exact maximum.
    package func quantile(_ q: Double) -> Duration? {
        guard self.count > 0 else { return nil }
        if q >= 1 { return .microseconds(self.maxMicros) }
        if q <= 0 { return .microseconds(self.minMicros) }
        let rank = max(1, Int((q * Double(self.count)).rounded(.up)))
        var seen = 0
        for index in self.counts.keys.sorted() {
            seen += self.counts[index]!
            if seen >= rank {
                return .microseconds(min(self.maxMicros, max(self.minMicros, Self.representative(of: index))))
            }
        }
        return .microseconds(self.maxMicros)
    }

    package var mean: Duration? { self.count == 0 ? nil : .microseconds(self.sumMicros / Int64(self.count)) }

    /// Values below `subBuckets` are exact; above, each power of two is split into `subBuckets` linear buckets.
    static func index(of value: Int64) -> Int {
        if value < Int64(self.subBuckets) { return Int(value) }
        let magnitude = 63 - value.leadingZeroBitCount - self.subBucketBits   // >= 0
        let sub = Int(value >> magnitude) - self.subBuckets                    // 0..<subBuckets
        return self.subBuckets + magnitude * self.subBuckets + sub
    }

    /// The midpoint of a bucket.
    static func representative(of index: Int) -> Int64 {
        if index < self.subBuckets { return Int64(index) }
        let magnitude = (index - self.subBuckets) / self.subBuckets
        let sub = (index - self.subBuckets) % self.subBuckets
        let low = Int64(self.subBuckets + sub) << magnitude
        let width = Int64(1) << magnitude
        return low + width / 2
    }
}

extension Duration {
    /// Milliseconds as a Double, for reports.
    package var milliseconds: Double {
        Double(self.components.seconds) * 1000 + Double(self.components.attoseconds) / 1e15
    }
}
