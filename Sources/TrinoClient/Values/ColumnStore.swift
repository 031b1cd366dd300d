import FlapJSON

/// One page's values by column. Immutable once built; rows and cells read it through `TrinoRow`.
final class ColumnStore: Sendable {
    let names: [String]
    let types: [TrinoType?]
    let rowCount: Int
    private let columns: [ColumnData]

    /// This page's sizes, for sizing the next page's buffers.
    var sizes: PageSizes {
        PageSizes(rows: self.rowCount, textBytes: self.columns.map { if case .text(let text, _) = $0 { text.arena.count } else { 0 } })
    }

    init(names: [String], types: [TrinoType?], rowCount: Int, columns: [ColumnData]) {
        self.names = names
        self.types = types
        self.rowCount = rowCount
        self.columns = columns
    }

    /// Values kept as given, one column of values each (rows built by hand, not decoded).
    convenience init(values rows: [[TrinoValue]]) {
        let width = rows.map(\.count).max() ?? 0
        let columns = (0..<width).map { k in ColumnData.values(rows.map { k < $0.count ? $0[k] : .null }) }
        self.init(names: (0..<width).map { "_col\($0)" }, types: Array(repeating: nil, count: width), rowCount: rows.count, columns: columns)
    }

    var columnCount: Int { self.columns.count }

    func columnIndex(_ name: String) -> Int? { self.names.firstIndex(of: name) }

    func isNull(column: Int, row: Int) -> Bool {
        switch self.columns[column] {
        case .integers(_, let nulls), .doubles(_, let nulls), .booleans(_, let nulls), .dates(_, let nulls), .text(_, let nulls),
             .timestamps(_, let nulls), .decimals(_, _, let nulls):
            nulls.contains(row)
        case .values(let values): values[row] == .null
        }
    }

    func value(column: Int, row: Int) -> TrinoValue {
        switch self.columns[column] {
        case .integers(let values, let nulls): return nulls.contains(row) ? TrinoValue.null : .integer(values[row])
        case .doubles(let values, let nulls): return nulls.contains(row) ? TrinoValue.null : .double(values[row])
        case .booleans(let values, let nulls): return nulls.contains(row) ? TrinoValue.null : .boolean(values[row])
        case .dates(let days, let nulls): return nulls.contains(row) ? TrinoValue.null : .date(TrinoDate(daysSinceEpoch: Int(days[row])))
        case .text(let text, let nulls):
            if nulls.contains(row) { return .null }
            return text.value(row, type: self.types[column] ?? .varchar(length: nil), column: self.names[column])
        case .timestamps(let timestamps, let nulls): return nulls.contains(row) ? TrinoValue.null : timestamps.value(row)
        case .decimals(let unscaled, let scale, let nulls):
            return nulls.contains(row) ? TrinoValue.null : .decimal(TrinoDecimal(DecimalText.text(unscaled[row], scale: scale))!)
        case .values(let values): return values[row]
        }
    }

    func int64(column: Int, row: Int) -> Int64? {
        if case .integers(let values, let nulls) = self.columns[column] { return nulls.contains(row) ? nil : values[row] }
        return self.value(column: column, row: row).int64
    }

    func double(column: Int, row: Int) -> Double? {
        if case .doubles(let values, let nulls) = self.columns[column] { return nulls.contains(row) ? nil : values[row] }
        return self.value(column: column, row: row).doubleValue
    }

    func bool(column: Int, row: Int) -> Bool? {
        if case .booleans(let values, let nulls) = self.columns[column] { return nulls.contains(row) ? nil : values[row] }
        if case .boolean(let value) = self.value(column: column, row: row) { return value }
        return nil
    }

    func string(column: Int, row: Int) -> String? {
        if case .text(let text, let nulls) = self.columns[column] {
            guard !nulls.contains(row), text.isPlainText else { return nulls.contains(row) ? nil : self.value(column: column, row: row).string }
            return text.string(row)
        }
        return self.value(column: column, row: row).string
    }

    func date(column: Int, row: Int) -> TrinoDate? {
        if case .dates(let days, let nulls) = self.columns[column] { return nulls.contains(row) ? nil : TrinoDate(daysSinceEpoch: Int(days[row])) }
        if case .date(let date) = self.value(column: column, row: row) { return date }
        return nil
    }
}

/// A column's storage.
enum ColumnData: Sendable {
    case integers([Int64], NullMask)
    case doubles([Double], NullMask)
    case booleans([Bool], NullMask)
    /// Days since 1970-01-01.
    case dates([Int32], NullMask)
    /// Every type that arrives as a JSON string and is not a date or timestamp: validated when decoded, built when read.
    case text(TextColumn, NullMask)
    /// timestamp and timestamp with time zone, parsed.
    case timestamps(TimestampColumn, NullMask)
    /// Decimals of up to 18 digits written with exactly their scale's fraction digits, as Trino writes them.
    case decimals([Int64], scale: Int, NullMask)
    /// Nested and unmodelled types, and rows built by hand.
    case values([TrinoValue])
}

/// Which rows are null: a bit per row, and no storage at all for a column without nulls.
struct NullMask: Sendable {
    private var words: [UInt64] = []

    func contains(_ row: Int) -> Bool {
        let word = row >> 6
        return word < self.words.count && self.words[word] & (1 << UInt64(row & 63)) != 0
    }

    mutating func insert(_ row: Int) {
        let word = row >> 6
        if word >= self.words.count { self.words.append(contentsOf: repeatElement(0, count: word - self.words.count + 1)) }
        self.words[word] |= 1 << UInt64(row & 63)
    }
}

/// Strings of one column in a single UTF-8 arena; row `i` is `arena[ends[i-1]..<ends[i]]` (a null row is empty).
struct TextColumn: Sendable {
    var arena: [UInt8] = []
    var ends: [UInt32] = []
    /// varchar and char: the text is the value.
    var isPlainText = true

    func bytes(_ row: Int) -> ArraySlice<UInt8> {
        let start = row == 0 ? 0 : Int(self.ends[row - 1])
        return self.arena[start..<Int(self.ends[row])]
    }

    func string(_ row: Int) -> String { String(decoding: self.bytes(row), as: UTF8.self) }

    func value(_ row: Int, type: TrinoType, column: String) -> TrinoValue {
        let text = self.string(row)
        switch type {
        case .varchar, .char: return .varchar(text)
        case .json: return .json(text)
        case .number: return .number(text)
        case .ipAddress: return .ipAddress(text)
        default:
            // Validated when the page was decoded, so this cannot fail; if it ever did, the text is kept.
            return (try? TrinoValueDecoder.decode(.string(text), as: type, column: column)) ?? .other(.string(text))
        }
    }
}

/// Timestamps as days, picoseconds of the day, the fraction digits sent and (with a zone) an index into the
/// column's zones: 17 bytes a value where the text took about 40.
struct TimestampColumn: Sendable {
    var days: [Int32] = []
    var picoseconds: [Int64] = []
    var precision: [UInt8] = []
    /// Empty for `timestamp` without a zone.
    var zone: [UInt32] = []
    var zones: [TrinoTimeZone] = []

    init() {}

    init(capacity: Int, zoned: Bool) {
        self.days.reserveCapacity(capacity)
        self.picoseconds.reserveCapacity(capacity)
        self.precision.reserveCapacity(capacity)
        if zoned { self.zone.reserveCapacity(capacity) }
    }

    mutating func append(_ timestamp: TrinoTimestamp, zone: UInt32?) {
        self.days.append(Int32(timestamp.date.daysSinceEpoch))
        let time = timestamp.time
        self.picoseconds.append((Int64(time.hour * 3600 + time.minute * 60 + time.second)) * 1_000_000_000_000 + time.picoseconds)
        self.precision.append(UInt8(time.precision))
        if let zone { self.zone.append(zone) }
    }

    mutating func appendNull(withZone: Bool) {
        self.days.append(0)
        self.picoseconds.append(0)
        self.precision.append(0)
        if withZone { self.zone.append(0) }
    }

    func timestamp(_ row: Int) -> TrinoTimestamp {
        let picos = self.picoseconds[row]
        let seconds = Int(picos / 1_000_000_000_000)
        let time = TrinoTime(hour: seconds / 3600, minute: seconds / 60 % 60, second: seconds % 60,
                             picoseconds: picos % 1_000_000_000_000, precision: Int(self.precision[row]))
        return TrinoTimestamp(date: TrinoDate(daysSinceEpoch: Int(self.days[row])), time: time)
    }

    func value(_ row: Int) -> TrinoValue {
        self.zone.isEmpty ? .timestamp(self.timestamp(row)) : .timestampWithTimeZone(self.timestamp(row), zone: self.zones[Int(self.zone[row])])
    }
}

/// Decimal text and its unscaled Int64, when the text is canonical (`-123.4500` at scale 4).
enum DecimalText {
    static func text(_ unscaled: Int64, scale: Int) -> String {
        let digits = String(unscaled.magnitude)
        let padded = digits.count <= scale ? String(repeating: "0", count: scale - digits.count + 1) + digits : digits
        let sign = unscaled < 0 ? "-" : ""
        guard scale > 0 else { return sign + padded }
        return sign + padded.dropLast(scale) + "." + padded.suffix(scale)
    }

    /// The unscaled value of `bytes` if it is exactly what `text(_:scale:)` writes for it; nil otherwise.
    static func unscaled(_ bytes: UnsafeBufferPointer<UInt8>, scale: Int) -> Int64? {
        var i = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { i += 1 }
        var value: Int64 = 0
        var integerDigits = 0, fractionDigits = 0, point = false
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "."), !point, scale > 0 {
                point = true
            } else if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if point { fractionDigits += 1 } else { integerDigits += 1 }
                guard integerDigits + fractionDigits <= 18 else { return nil }
                value = value * 10 + Int64(b - UInt8(ascii: "0"))
            } else {
                return nil
            }
            i += 1
        }
        guard integerDigits > 0, fractionDigits == scale, point == (scale > 0) else { return nil }
        // "-0.00" and "007.5" are valid decimals but would come back written otherwise: keep those as text.
        guard !(negative && value == 0), integerDigits == 1 || bytes[negative ? 1 : 0] != UInt8(ascii: "0") else { return nil }
        return negative ? -value : value
    }
}

/// How big a page was: the next page of the same query starts its buffers at about that size (a query's pages are
/// alike), instead of growing them from empty, which cost every buffer a dozen copies and fresh pages of memory.
struct PageSizes: Sendable, Equatable {
    var rows: Int
    /// Per column, the bytes of its text arena (0 for columns without one).
    var textBytes: [Int]

    /// The size to reserve for `size` last time: a little over, so a slightly bigger page does not grow its
    /// buffers, and within what `exactCopy` keeps as is.
    static func reserve(_ size: Int) -> Int { size + size / 32 + 8 }
}
