import FlapJSON
import Foundation
import TrinoClient
import XCTest

final class ValueAndJSONTests: XCTestCase {
    func testEveryModelledTypeThroughTheFake() async throws {
        let harness = try TrinoHarness()
        defer { harness.stop() }
        let result = try await harness.client.execute(TrinoQuery("SELECT * FROM fake_types"))
        let row = try XCTUnwrap(result.rows.first)
        let byName = Dictionary(uniqueKeysWithValues: zip(result.columns.map(\.name), row))
        XCTAssertEqual(byName["c_boolean"], .boolean(true))
        XCTAssertEqual(byName["c_tinyint"], .integer(-7))
        XCTAssertEqual(byName["c_bigint"], .integer(Int64.max), "bigint keeps all 64 bits")
        XCTAssertTrue(byName["c_real"]?.doubleValue?.isNaN == true)
        XCTAssertEqual(byName["c_double"], .double(-.infinity))
        XCTAssertEqual(byName["c_decimal"]?.string, "12345678901234567890.0123456789")
        guard case .decimal(let decimal)? = byName["c_decimal"] else { return XCTFail() }
        XCTAssertEqual(decimal.scale, 10)
        XCTAssertEqual(byName["c_varchar"], .varchar("héllo\n"))
        XCTAssertEqual(byName["c_char"], .varchar("ab  "))
        XCTAssertEqual(byName["c_varbinary"], .varbinary(Data([0, 1, 2, 255])))
        XCTAssertEqual(byName["c_json"], .json(#"{"a":[1,2]}"#))
        XCTAssertEqual(byName["c_date"], .date(TrinoDate(year: 2024, month: 2, day: 29)))
        XCTAssertEqual(byName["c_time"], .time(TrinoTime(hour: 1, minute: 2, second: 3, picoseconds: 123_456_789_000, precision: 9)))
        XCTAssertEqual(byName["c_time_tz"], .timeWithTimeZone(TrinoTime(hour: 1, minute: 2, second: 3, picoseconds: 456_000_000_000, precision: 3), offsetMinutes: 330))
        XCTAssertEqual(byName["c_timestamp"], .timestamp(TrinoTimestamp(date: TrinoDate(year: 2017, month: 7, day: 10),
                                                                        time: TrinoTime(hour: 1, minute: 2, second: 3, picoseconds: 123_456_000_000, precision: 6))))
        guard case .timestampWithTimeZone(let ts, let zone)? = byName["c_timestamp_tz"] else { return XCTFail() }
        XCTAssertEqual(zone, .named("Europe/Paris"))
        XCTAssertEqual(ts.time.precision, 3)
        guard case .timestampWithTimeZone(_, let offset)? = byName["c_timestamp_off"] else { return XCTFail() }
        XCTAssertEqual(offset, .offset(minutes: -480))
        XCTAssertEqual(offset.description, "-08:00")
        XCTAssertEqual(byName["c_ym"], .intervalYearToMonth(months: -18))
        XCTAssertEqual(byName["c_ds"], .intervalDayToSecond(milliseconds: ((2 * 24 + 3) * 60 + 4) * 60_000 + 5_678))
        XCTAssertEqual(byName["c_uuid"], .uuid(UUID(uuidString: "12151fd2-7586-11e9-8f9e-2a86e4085a59")!))
        XCTAssertEqual(byName["c_ip"], .ipAddress("2001:db8::1"))
        XCTAssertEqual(byName["c_array"], .array([.integer(1), .null, .integer(3)]))
        guard case .map(let entries)? = byName["c_map"] else { return XCTFail() }
        XCTAssertEqual(entries.first, TrinoMapEntry(key: .varchar("x"), value: .double(1.5)))
        XCTAssertTrue(entries.last?.value.doubleValue?.isNaN == true)
        XCTAssertEqual(byName["c_row"], .row([.init(name: "a", value: .integer(42)), .init(name: "b", value: .varchar("z"))]))
        XCTAssertEqual(byName["c_null"], .null)
    }

    func testTemporalTextRejectsNonsense() throws {
        let column = { (type: String, raw: String, args: String) in
            #"{"name":"c","type":"\#(type)","typeSignature":{"rawType":"\#(raw)","arguments":[\#(args)]}}"#
        }
        let cases: [(String, String)] = [
            (column("date", "date", ""), #""2024-13-01""#),
            (column("date", "date", ""), #""yesterday""#),
            (column("time(3)", "time", #"{"kind":"LONG","value":3}"#), #""25:00:00""#),
            (column("timestamp(3)", "timestamp", #"{"kind":"LONG","value":3}"#), #""2024-01-01T00:00:00""#),
            (column("uuid", "uuid", ""), #""not-a-uuid""#),
            (column("varbinary", "varbinary", ""), #""%%%""#),
            (column("decimal(3,1)", "decimal", ""), #""1.2.3""#),
            (column("interval year to month", "interval year to month", ""), #""1-12""#),
        ]
        for (col, cell) in cases {
            let body = #"{"id":"q","infoUri":"u","stats":{},"columns":[\#(col)],"data":[[\#(cell)]]}"#
            XCTAssertThrowsError(try QueryResults.decode(Array(body.utf8)), cell) { error in
                let failure = error as? TrinoProtocolError
                XCTAssertEqual(failure?.code, .badValue, "\(cell): \(error)")
                XCTAssertEqual(failure?.field, "c")
            }
        }
    }

    func testJSONParserHandlesEscapesAndRejectsGarbage() throws {
        let value = try JSONValue.parse(Array(#"{"s":"a\"b\\c\u00e9\ud83d\ude00\n","n":-1.5e3,"a":[true,false,null],"big":12345678901234567890}"#.utf8))
        XCTAssertEqual(value["s"], .string("a\"b\\cé😀\n"))
        XCTAssertEqual(value["n"]?.doubleValue, -1500)
        XCTAssertEqual(value["a"], .array([.bool(true), .bool(false), .null]))
        XCTAssertEqual(value["big"], .number("12345678901234567890"), "numbers keep their exact text")
        for bad in ["", "{", "[1,]", "{\"a\" 1}", "\"unterminated", "tru", "[1] x", "\"\\ud83d\"", "\"\u{01}\"", "-", "{\"a\":01x}"] {
            XCTAssertThrowsError(try JSONValue.parse(Array(bad.utf8)), bad)
        }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        XCTAssertThrowsError(try JSONValue.parse(Array(deep.utf8))) { error in
            XCTAssertTrue((error as? JSONError)?.message.contains("nesting") == true)
        }
        XCTAssertEqual(try JSONValue.parse(Array(value.serialized.utf8)), value, "writer output parses back")
    }
}
