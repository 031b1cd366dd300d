import Foundation
import TrinoClient

/// A checksum of decoded values, column by column, that the Python client's values reproduce exactly
/// (`ResultChecksum.python` is the same algorithm over DB-API values): a benchmark's figure counts only when the rows
/// it fetched decode to what the server sent.
///
/// Per column: the number of nulls, and a sum modulo 2^64 of one integer per value: FNV-1a of a string's UTF-8,
/// a bigint itself, a double's bit pattern, a date's days since 1970, a timestamp's UTC epoch milliseconds, a
/// decimal's unscaled digits.
public struct ResultChecksum: Sendable, Equatable, CustomStringConvertible {
    private var nulls: [Int]
    private var sums: [UInt64]
    /// Looked up once per zone: a lookup per value made the checksum slower than the decoding it checks.
    private var zones = ZoneCache()

    public init(columns: Int) {
        self.nulls = Array(repeating: 0, count: columns)
        self.sums = Array(repeating: 0, count: columns)
    }

    public mutating func add<Row: Collection<TrinoValue>>(_ row: Row) {
        for (column, value) in row.enumerated() where column < self.sums.count {
            guard let term = Self.term(value, zones: &self.zones) else {
                self.nulls[column] += 1
                continue
            }
            self.sums[column] &+= term
        }
    }

    /// Each cell's term in hex, or `null`: a row as the checksum sees it (`cell_terms` in `python`).
    public static func cellTerms<Row: Collection<TrinoValue>>(_ row: Row) -> [String] {
        var zones = ZoneCache()
        return row.map { Self.term($0, zones: &zones).map { String($0, radix: 16) } ?? "null" }
    }

    /// `nulls:sum` per column, in hex, separated by spaces.
    public var description: String {
        zip(self.nulls, self.sums).map { "\($0):\(String($1, radix: 16))" }.joined(separator: " ")
    }

    /// The row's values of `range` as the fake server generates them.
    public static func expected(realisticRows range: Range<Int>) -> ResultChecksum {
        var checksum = ResultChecksum(columns: RealisticRows.columns.count)
        for i in range { checksum.add(RealisticRows.values(row: i)) }
        return checksum
    }

    private static func term(_ value: TrinoValue, zones: inout ZoneCache) -> UInt64? {
        switch value {
        case .null: return nil
        case .varchar(let text):
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            return hash
        case .integer(let n): return UInt64(bitPattern: n)
        case .double(let d): return d.bitPattern
        case .date(let date): return UInt64(bitPattern: Int64(date.daysSinceEpoch))
        case .timestampWithTimeZone(let timestamp, let zone): return UInt64(bitPattern: Self.epochMilliseconds(timestamp, zone, zones: &zones))
        case .decimal(let decimal):
            return UInt64(bitPattern: Int64(String(decoding: decimal.text.utf8.filter { $0 != UInt8(ascii: ".") }, as: UTF8.self)) ?? 0)
        default: return UInt64(truncatingIfNeeded: value.hashValue)
        }
    }

    /// The instant a local time names in its zone (times the generator writes are never in a daylight-saving gap).
    static func epochMilliseconds(_ timestamp: TrinoTimestamp, _ zone: TrinoTimeZone, zones: inout ZoneCache) -> Int64 {
        let local = Int64(timestamp.date.daysSinceEpoch) * 86_400 + Int64(timestamp.time.hour * 3600 + timestamp.time.minute * 60 + timestamp.time.second)
        let offset: Int64
        switch zone {
        case .offset(let minutes): offset = Int64(minutes) * 60
        case .named(let id):
            let timeZone = zones.zone(id)
            let guess = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local))))
            offset = Int64(timeZone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(local - guess))))
        }
        return (local - offset) * 1000 + timestamp.time.picoseconds / 1_000_000_000
    }

    struct ZoneCache: Sendable, Equatable {
        private var zones: [String: TimeZone] = [:]
        mutating func zone(_ id: String) -> TimeZone {
            if let known = self.zones[id] { return known }
            let zone = TimeZone(identifier: id) ?? TimeZone(secondsFromGMT: 0)!
            self.zones[id] = zone
            return zone
        }
        static func == (a: ZoneCache, b: ZoneCache) -> Bool { true }
    }

    /// The same checksum in Python over DB-API rows: `checksum(rows, columns)` returns the same text as `description`.
    public static let python = """
    import calendar, datetime, decimal, struct
    MASK = (1 << 64) - 1
    def checksum_term(v):
        if isinstance(v, str):
            h = 0xcbf29ce484222325
            for b in v.encode("utf-8"):
                h = ((h ^ b) * 0x100000001b3) & MASK
            return h
        if isinstance(v, bool):
            return int(v)
        if isinstance(v, int):
            return v & MASK
        if isinstance(v, float):
            return struct.unpack("<Q", struct.pack("<d", v))[0]
        if isinstance(v, datetime.datetime):
            return (calendar.timegm(v.utctimetuple()) * 1000 + v.microsecond // 1000) & MASK
        if isinstance(v, datetime.date):
            return (v - datetime.date(1970, 1, 1)).days & MASK
        if isinstance(v, decimal.Decimal):
            return int(v.scaleb(-v.as_tuple().exponent)) & MASK
        return hash(v) & MASK
    def cell_terms(row):
        return ["null" if v is None else "%x" % checksum_term(v) for v in row]
    class Checksum:
        def __init__(self, columns):
            self.nulls = [0] * columns
            self.sums = [0] * columns
        def add(self, row):
            for i, v in enumerate(row):
                if v is None:
                    self.nulls[i] += 1
                else:
                    self.sums[i] = (self.sums[i] + checksum_term(v)) & MASK
        def text(self):
            return " ".join("%d:%x" % (n, s) for n, s in zip(self.nulls, self.sums))
    """
}
