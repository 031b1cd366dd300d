import FlapJSON
import Foundation
import TrinoClient

/// Rows like a real table's, for client benchmarks and decoding tests: long and non-ASCII names with escapes,
/// bigints past 2^53, full-precision doubles in Java's notation, dates, timestamps with named zones and offsets,
/// decimals, and nulls in every column. Row `i` is a pure function of `i`, so any range can be generated alone and
/// a client's decoded values checked against `values(row:)`.
public enum RealisticRows {
    /// (name, type, signature JSON).
    static let columns: [(String, String, String)] = [
        ("name", "varchar", FakeResultShape.varchar(2147483647)),
        ("id", "bigint", FakeResultShape.simple("bigint")),
        ("amount", "double", FakeResultShape.simple("double")),
        ("day", "date", FakeResultShape.simple("date")),
        ("updated_at", "timestamp(3) with time zone", FakeResultShape.sig("timestamp with time zone", [FakeResultShape.long(3)])),
        ("price", "decimal(18,4)", FakeResultShape.sig("decimal", [FakeResultShape.long(18), FakeResultShape.long(4)])),
    ]

    /// Row `i` as Trino writes it: a JSON array.
    static func json(row i: Int) -> String {
        let cells = Cells(i)
        var out = "["
        if let name = cells.name { JSONWriter.writeString(name, into: &out) } else { out += "null" }
        out += "," + (cells.id.map { String($0) } ?? "null")
        out += "," + (cells.amount.map(JavaDouble.text) ?? "null")
        out += "," + (cells.day.map { "\"\($0)\"" } ?? "null")
        out += "," + (cells.updatedAt.map { "\"\($0.timestamp) \($0.zone)\"" } ?? "null")
        out += "," + (cells.price.map { "\"\($0)\"" } ?? "null")
        return out + "]"
    }

    /// Row `i` as a correct decoder returns it.
    public static func values(row i: Int) -> [TrinoValue] {
        let cells = Cells(i)
        return [
            cells.name.map(TrinoValue.varchar) ?? .null,
            cells.id.map(TrinoValue.integer) ?? .null,
            cells.amount.map(TrinoValue.double) ?? .null,
            cells.day.map(TrinoValue.date) ?? .null,
            cells.updatedAt.map { TrinoValue.timestampWithTimeZone($0.timestamp, zone: $0.zone) } ?? .null,
            cells.price.map { TrinoValue.decimal(TrinoDecimal($0)!) } ?? .null,
        ]
    }

    /// Names in several scripts, with every kind of character JSON must escape.
    private static let fragments = [
        "Zürich Hauptbahnhof", "東京都千代田区丸の内", "São Paulo — Avenida Paulista", "Ελληνικά και Ρωσικά: Привет",
        "launch 🚀 at dawn", "a \"quoted\" name with a back\\slash", "tab\there and a newline\nthere", "control\u{1}char",
        "plain ascii customer name", "Ωmega · naïve café",
    ]

    /// One row's values, drawn from a hash of its index.
    private struct Cells {
        var name: String?
        var id: Int64?
        var amount: Double?
        var day: TrinoDate?
        var updatedAt: (timestamp: TrinoTimestamp, zone: TrinoTimeZone)?
        var price: String?

        init(_ i: Int) {
            var random = SplitMix64(seed: UInt64(i))
            let nulls = random.next()
            if nulls % 10 != 0 {
                let fragment = RealisticRows.fragments[Int(random.next() % UInt64(RealisticRows.fragments.count))]
                let padding = String(repeating: "x", count: Int(random.next() % 40))
                self.name = "\(fragment) #\(i) \(padding)"
            }
            if (nulls >> 8) % 13 != 0 { self.id = Int64(bitPattern: random.next()) >> Int64(random.next() % 8) }
            if (nulls >> 16) % 11 != 0 { self.amount = Self.double(&random) }
            if (nulls >> 24) % 9 != 0 { self.day = TrinoDate(daysSinceEpoch: Int(random.next() % 73_000) - 25_567) }
            if (nulls >> 32) % 8 != 0 {
                let date = TrinoDate(daysSinceEpoch: Int(random.next() % 14_600) + 7_305)
                // Hours 10-20 stay clear of every daylight-saving change, so each local time names one instant.
                let time = TrinoTime(hour: 10 + Int(random.next() % 11), minute: Int(random.next() % 60), second: Int(random.next() % 60),
                                     picoseconds: Int64(random.next() % 1000) * 1_000_000_000, precision: 3)
                let zones: [TrinoTimeZone] = [.named("UTC"), .named("Europe/Paris"), .named("America/New_York"), .named("Asia/Kolkata"),
                                              .named("Asia/Kathmandu"), .named("Australia/Lord_Howe"), .offset(minutes: 330), .offset(minutes: -480)]
                self.updatedAt = (TrinoTimestamp(date: date, time: time), zones[Int(random.next() % UInt64(zones.count))])
            }
            if (nulls >> 40) % 12 != 0 {
                let unscaled = Int64(bitPattern: random.next()) % 100_000_000_000_000_000
                let magnitude = unscaled.magnitude
                self.price = (unscaled < 0 ? "-" : "") + "\(magnitude / 10_000)." + String(String(magnitude % 10_000 + 10_000).dropFirst())
            }
        }

        /// Mostly 16-17 significant digits between 0.001 and 10^7 (Java writes those plainly); one in eight tiny or
        /// huge (Java's E notation).
        private static func double(_ random: inout SplitMix64) -> Double {
            let unit = Double(random.next() >> 11) / Double(1 << 53)
            let sign: Double = random.next() % 2 == 0 ? 1 : -1
            switch random.next() % 8 {
            case 0: return sign * unit * 1e-9
            case 1: return sign * unit * 1e15
            default: return sign * unit * pow(10, Double(random.next() % 7))
            }
        }
    }
}

/// Java's `Double.toString`: the shortest digits that round-trip, plain for 10^-3 <= |x| < 10^7, else `d.dddE±n`.
enum JavaDouble {
    static func text(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "\"NaN\"" : (value < 0 ? "\"-Infinity\"" : "\"Infinity\"") }
        if value == 0 { return value.sign == .minus ? "-0.0" : "0.0" }
        let (digits, exponent) = self.shortestDigits(value.magnitude)
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        if magnitude >= 1e-3 && magnitude < 1e7 {
            // exponent: the decimal point sits after digit number exponent + 1.
            let point = exponent + 1
            if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
            if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) + ".0" }
            return sign + digits.prefix(point) + "." + digits.dropFirst(point)
        }
        let fraction = digits.count > 1 ? String(digits.dropFirst()) : "0"
        return sign + digits.prefix(1) + "." + fraction + "E" + String(exponent)
    }

    /// The shortest round-trip digits of `value` (> 0) and the decimal exponent of the first one, from Swift's own
    /// shortest representation.
    private static func shortestDigits(_ value: Double) -> (String, Int) {
        let text = value.description
        let parts = text.split(separator: "e")
        let mantissa = parts[0]
        var exponent = parts.count > 1 ? Int(parts[1])! : 0
        let pieces = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        let integer = String(pieces[0])
        let fraction = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = integer + fraction
        exponent += integer.count - 1
        while digits.first == "0" && digits.count > 1 { digits.removeFirst(); exponent -= 1 }
        while digits.last == "0" && digits.count > 1 { digits.removeLast() }
        return (digits, exponent)
    }
}

struct SplitMix64 {
    private var state: UInt64
    init(seed: UInt64) { self.state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678 }
    mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
