import FlapJSON
import Foundation

/// One cell of a Trino result, typed by its column.
public enum TrinoValue: Sendable, Equatable, Hashable {
    case null
    case boolean(Bool)
    /// tinyint, smallint, integer and bigint (bigint never goes through Double).
    case integer(Int64)
    /// real and double, including NaN and the infinities Trino sends as strings.
    case double(Double)
    /// decimal, kept exact as text.
    case decimal(TrinoDecimal)
    /// varchar and char (char arrives space-padded).
    case varchar(String)
    case varbinary(Data)
    /// json, as the JSON text.
    case json(String)
    case date(TrinoDate)
    case time(TrinoTime)
    indirect case timeWithTimeZone(TrinoTime, offsetMinutes: Int)
    case timestamp(TrinoTimestamp)
    indirect case timestampWithTimeZone(TrinoTimestamp, zone: TrinoTimeZone)
    case intervalYearToMonth(months: Int)
    case intervalDayToSecond(milliseconds: Int64)
    case uuid(UUID)
    case ipAddress(String)
    /// The `number` type, exact as text.
    case number(String)
    indirect case array([TrinoValue])
    /// Keys arrive as strings and are decoded by the key type.
    indirect case map([TrinoMapEntry])
    indirect case row([TrinoRowField])
    /// A value of a type this client does not model.
    indirect case other(JSONValue)

    public var isNull: Bool { self == .null }
    public var int64: Int64? { if case .integer(let v) = self { v } else { nil } }
    public var doubleValue: Double? { if case .double(let v) = self { v } else { nil } }
    public var string: String? {
        switch self {
        case .varchar(let s), .json(let s), .ipAddress(let s), .number(let s): s
        case .decimal(let d): d.text
        default: nil
        }
    }
}

public struct TrinoMapEntry: Sendable, Equatable, Hashable {
    public var key: TrinoValue
    public var value: TrinoValue
    public init(key: TrinoValue, value: TrinoValue) {
        self.key = key
        self.value = value
    }
}

public struct TrinoRowField: Sendable, Equatable, Hashable {
    public var name: String?
    public var value: TrinoValue
    public init(name: String?, value: TrinoValue) {
        self.name = name
        self.value = value
    }
}

/// An exact decimal, e.g. `-123.4500`.
public struct TrinoDecimal: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let text: String
    public var description: String { self.text }
    /// Digits after the point.
    public var scale: Int { self.text.split(separator: ".", maxSplits: 1).dropFirst().first?.count ?? 0 }
    /// Foundation's decimal (exact up to 38 digits).
    public var decimalValue: Decimal? { Decimal(string: self.text, locale: Locale(identifier: "en_US_POSIX")) }

    public init?(_ text: String) {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard !body.isEmpty, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
              !(parts.first?.isEmpty ?? true) || parts.count == 2 && !parts[1].isEmpty else { return nil }
        self.text = text
    }
}

public struct TrinoDate: Sendable, Equatable, Hashable, Comparable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }
    public var description: String { zeroPadded(self.year, 4) + "-" + zeroPadded(self.month, 2) + "-" + zeroPadded(self.day, 2) }
    public static func < (a: TrinoDate, b: TrinoDate) -> Bool { (a.year, a.month, a.day) < (b.year, b.month, b.day) }

    /// The date `days` after 1970-01-01 (before it when negative), proleptic Gregorian as Trino counts.
    public init(daysSinceEpoch days: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        self.day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        self.month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        self.year = yearOfEra + era * 400 + (self.month <= 2 ? 1 : 0)
    }

    /// Days since 1970-01-01 (negative before it).
    public var daysSinceEpoch: Int {
        let year = self.month <= 2 ? self.year - 1 : self.year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (self.month > 2 ? self.month - 3 : self.month + 9) + 2) / 5 + self.day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}

/// Time of day with up to picosecond precision (Trino's maximum is 12 fraction digits).
public struct TrinoTime: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var hour: Int
    public var minute: Int
    public var second: Int
    public var picoseconds: Int64
    /// Fraction digits the server sent.
    public var precision: Int
    public init(hour: Int, minute: Int, second: Int, picoseconds: Int64 = 0, precision: Int = 0) {
        self.hour = hour
        self.minute = minute
        self.second = second
        self.picoseconds = picoseconds
        self.precision = precision
    }
    public var description: String {
        var text = zeroPadded(self.hour, 2) + ":" + zeroPadded(self.minute, 2) + ":" + zeroPadded(self.second, 2)
        if self.precision > 0 {
            text += "." + zeroPadded(Int(self.picoseconds), 12).prefix(self.precision)
        }
        return text
    }
}

public struct TrinoTimestamp: Sendable, Equatable, Hashable, CustomStringConvertible {
    public var date: TrinoDate
    public var time: TrinoTime
    public init(date: TrinoDate, time: TrinoTime) {
        self.date = date
        self.time = time
    }
    public var description: String { "\(self.date) \(self.time)" }
}

public enum TrinoTimeZone: Sendable, Equatable, Hashable, CustomStringConvertible {
    case offset(minutes: Int)
    /// An IANA zone id such as `Europe/Paris` or `UTC`.
    case named(String)

    public var description: String {
        switch self {
        case .named(let id): id
        case .offset(let minutes):
            String(format: "%@%02d:%02d", minutes < 0 ? "-" : "+", abs(minutes) / 60, abs(minutes) % 60)
        }
    }
}

/// `value` in decimal with leading zeros to `width` digits (String(format:) costs microseconds per call on Linux).
func zeroPadded(_ value: Int, _ width: Int) -> String {
    let digits = String(value.magnitude)
    let padding = String(repeating: "0", count: max(0, width - digits.count))
    return (value < 0 ? "-" : "") + padding + digits
}
