import Foundation
import TrinoClient

/// What a fake query returns: its columns and a deterministic generator for its rows, written as Trino's JSON.
public struct FakeResultShape: Sendable, Hashable {
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// TPC-H Q9 of the original experiment: `nation`, `o_year`, `sum_profit`, 175 rows.
        case q9
        /// `varchar, bigint, double, date` rows, for throughput benchmarks.
        case bench
        /// Rows like a real table's (`RealisticRows`): long non-ASCII names with escapes, bigints past 2^53,
        /// 17-digit doubles, dates, timestamps with zones, decimals, nulls in every column.
        case realistic
        /// One row holding a value of every type the client models.
        case types
        /// `SELECT <integer>`: one bigint row.
        case constant
        /// No columns and no rows (session statements and DDL).
        case none
    }

    public var kind: Kind
    public var rowCount: Int
    /// For `.constant`.
    public var constant: Int64 = 1

    public init(kind: Kind, rowCount: Int? = nil) {
        self.kind = kind
        switch kind {
        case .q9: self.rowCount = 175
        case .types, .constant: self.rowCount = 1
        case .none: self.rowCount = 0
        case .bench, .realistic: self.rowCount = rowCount ?? 1000
        }
    }

    /// Whether the number of rows is the caller's to choose.
    public var hasRowCount: Bool { self.kind == .bench || self.kind == .realistic }

    init(kind: Kind, rowCount: Int?, keeping defaults: FakeResultShape) {
        self.init(kind: kind, rowCount: rowCount ?? (defaults.kind == kind ? defaults.rowCount : nil))
    }

    public static let q9 = FakeResultShape(kind: .q9)

    /// TPC-H nation names in key order.
    static let nations = ["ALGERIA", "ARGENTINA", "BRAZIL", "CANADA", "EGYPT", "ETHIOPIA", "FRANCE", "GERMANY", "INDIA",
                          "INDONESIA", "IRAN", "IRAQ", "JAPAN", "JORDAN", "KENYA", "MOROCCO", "MOZAMBIQUE", "PERU", "CHINA",
                          "ROMANIA", "SAUDI ARABIA", "VIETNAM", "RUSSIA", "UNITED KINGDOM", "UNITED STATES"].sorted()

    /// The `columns` JSON array (built once per kind: every first answer with rows carries it).
    var columnsJSON: String { Self.columnsJSONByKind[self.kind] ?? "[]" }

    private static let columnsJSONByKind: [Kind: String] = Dictionary(uniqueKeysWithValues: Kind.allCases.map { ($0, columnsJSON(of: $0)) })

    private static func columnsJSON(of kind: Kind) -> String {
        switch kind {
        case .q9: "[" + [Self.column("nation", "varchar(25)", Self.varchar(25)),
                         Self.column("o_year", "bigint", Self.simple("bigint")),
                         Self.column("sum_profit", "double", Self.simple("double"))].joined(separator: ",") + "]"
        case .bench: "[" + [Self.column("name", "varchar", Self.varchar(2147483647)),
                            Self.column("id", "bigint", Self.simple("bigint")),
                            Self.column("amount", "double", Self.simple("double")),
                            Self.column("day", "date", Self.simple("date"))].joined(separator: ",") + "]"
        case .realistic: "[" + RealisticRows.columns.map { Self.column($0.0, $0.1, $0.2) }.joined(separator: ",") + "]"
        case .constant: "[" + Self.column("_col0", "bigint", Self.simple("bigint")) + "]"
        case .types: "[" + Self.typesColumns.map { Self.column($0.0, $0.1, $0.2) }.joined(separator: ",") + "]"
        case .none: "[]"
        }
    }

    /// Rows `range` as JSON array elements joined by commas (no brackets).
    func rowsJSON(_ range: Range<Int>) -> String {
        var out = ""
        out.reserveCapacity(range.count * 64)
        for i in range {
            if i > range.lowerBound { out += "," }
            switch self.kind {
            case .q9:
                let nation = Self.nations[i / 7]
                let year = 1998 - i % 7
                let profit = Double(((i * 7919 + 104_729) % 9_000_000) + 1_000_000) + Double(i % 100) / 100
                out += "[\"\(nation)\",\(year),\(profit)]"
            case .bench:
                out += "[\"name-\(i)\",\(Int64(i) * 7919),\(Double(i) * 1.25 + 0.001),\"\(Self.benchDates[i % Self.benchDates.count])\"]"
            case .realistic:
                out += RealisticRows.json(row: i)
            case .constant:
                out += "[\(self.constant)]"
            case .types:
                out += "[" + Self.typesColumns.map(\.3).joined(separator: ",") + "]"
            case .none:
                break
            }
        }
        return out
    }

    private static let benchDates: [String] = {
        let calendar = Calendar(identifier: .gregorian)
        var components = DateComponents(timeZone: TimeZone(identifier: "UTC"), year: 1992, month: 1, day: 1)
        let start = calendar.date(from: components)!
        var utc = calendar
        utc.timeZone = TimeZone(identifier: "UTC")!
        return (0..<2557).map { offset in
            let day = utc.date(byAdding: .day, value: offset, to: start)!
            components = utc.dateComponents([.year, .month, .day], from: day)
            return String(format: "%04d-%02d-%02d", components.year!, components.month!, components.day!)
        }
    }()

    /// (name, type, signature JSON, value JSON) for the `types` shape.
    static let typesColumns: [(String, String, String, String)] = [
        ("c_boolean", "boolean", simple("boolean"), "true"),
        ("c_tinyint", "tinyint", simple("tinyint"), "-7"),
        ("c_bigint", "bigint", simple("bigint"), "9223372036854775807"),
        ("c_real", "real", simple("real"), "\"NaN\""),
        ("c_double", "double", simple("double"), "\"-Infinity\""),
        ("c_decimal", "decimal(38,10)", sig("decimal", [long(38), long(10)]), "\"12345678901234567890.0123456789\""),
        ("c_varchar", "varchar(10)", varchar(10), "\"h\\u00e9llo\\n\""),
        ("c_char", "char(4)", sig("char", [long(4)]), "\"ab  \""),
        ("c_varbinary", "varbinary", simple("varbinary"), "\"AAEC/w==\""),
        ("c_json", "json", simple("json"), "\"{\\\"a\\\":[1,2]}\""),
        ("c_date", "date", simple("date"), "\"2024-02-29\""),
        ("c_time", "time(9)", sig("time", [long(9)]), "\"01:02:03.123456789\""),
        ("c_time_tz", "time(3) with time zone", sig("time with time zone", [long(3)]), "\"01:02:03.456+05:30\""),
        ("c_timestamp", "timestamp(6)", sig("timestamp", [long(6)]), "\"2017-07-10 01:02:03.123456\""),
        ("c_timestamp_tz", "timestamp(3) with time zone", sig("timestamp with time zone", [long(3)]), "\"2017-07-10 01:02:03.123 Europe/Paris\""),
        ("c_timestamp_off", "timestamp(0) with time zone", sig("timestamp with time zone", [long(0)]), "\"2017-07-10 01:02:03 -08:00\""),
        ("c_ym", "interval year to month", simple("interval year to month"), "\"-1-6\""),
        ("c_ds", "interval day to second", simple("interval day to second"), "\"2 03:04:05.678\""),
        ("c_uuid", "uuid", simple("uuid"), "\"12151fd2-7586-11e9-8f9e-2a86e4085a59\""),
        ("c_ip", "ipaddress", simple("ipaddress"), "\"2001:db8::1\""),
        ("c_array", "array(bigint)", sig("array", [type(simple("bigint"))]), "[1,null,3]"),
        ("c_map", "map(varchar,double)", sig("map", [type(varchar(2147483647)), type(simple("double"))]), "{\"x\":1.5,\"y\":\"NaN\"}"),
        ("c_row", "row(a bigint, b varchar)", sig("row", [named("a", simple("bigint")), named("b", varchar(2147483647))]), "[42,\"z\"]"),
        ("c_null", "varchar", varchar(2147483647), "null"),
    ]

    static func column(_ name: String, _ type: String, _ signature: String) -> String {
        "{\"name\":\"\(name)\",\"type\":\"\(type)\",\"typeSignature\":\(signature)}"
    }

    static func simple(_ raw: String) -> String { self.sig(raw, []) }
    static func varchar(_ n: Int) -> String { self.sig("varchar", [self.long(n)]) }
    static func sig(_ raw: String, _ arguments: [String]) -> String {
        "{\"rawType\":\"\(raw)\",\"arguments\":[\(arguments.joined(separator: ","))]}"
    }
    static func long(_ n: Int) -> String { "{\"kind\":\"LONG\",\"value\":\(n)}" }
    static func type(_ signature: String) -> String { "{\"kind\":\"TYPE\",\"value\":\(signature)}" }
    static func named(_ name: String, _ signature: String) -> String {
        "{\"kind\":\"NAMED_TYPE\",\"value\":{\"fieldName\":{\"name\":\"\(name)\"},\"typeSignature\":\(signature)}}"
    }
}

/// Generated row JSON by shape and range, so large deterministic results are generated once
/// (the fake should never be the bottleneck of a client benchmark).
final class FakePageCache: @unchecked Sendable {
    private struct Key: Hashable {
        let shape: FakeResultShape
        let range: Range<Int>
    }

    private let lock = NSLock()
    private var pages: [Key: String] = [:]
    private var bytes = 0
    private let capacity: Int

    init(capacityBytes: Int = 512 * 1024 * 1024) {
        self.capacity = capacityBytes
    }

    func rowsJSON(_ shape: FakeResultShape, _ range: Range<Int>) -> String {
        let key = Key(shape: shape, range: range)
        if let cached = self.lock.withLock({ self.pages[key] }) { return cached }
        let json = shape.rowsJSON(range)
        self.lock.withLock {
            if self.bytes + json.utf8.count <= self.capacity {
                self.pages[key] = json
                self.bytes += json.utf8.count
            }
        }
        return json
    }
}
