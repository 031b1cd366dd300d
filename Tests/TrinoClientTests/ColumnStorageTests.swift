import Foundation
import TrinoClient
import XCTest

/// Rows decoded into column storage read back exactly as sent, through values and typed accessors.
final class ColumnStorageTests: XCTestCase {
    private func decode(columns: [(String, String, String)], data: String) throws -> TrinoRows {
        let columnsJSON = columns.map { "{\"name\":\"\($0.0)\",\"type\":\"\($0.1)\",\"typeSignature\":\($0.2)}" }.joined(separator: ",")
        let body = "{\"id\":\"q\",\"infoUri\":\"u\",\"stats\":{},\"columns\":[\(columnsJSON)],\"data\":\(data)}"
        return try QueryResults.decode(Array(body.utf8)).rows
    }

    private static func signature(_ raw: String, _ longs: [Int] = []) -> String {
        "{\"rawType\":\"\(raw)\",\"arguments\":[\(longs.map { "{\"kind\":\"LONG\",\"value\":\($0)}" }.joined(separator: ","))]}"
    }

    func testDecimalsKeepTheirTextWhetherStoredAsIntegersOrNot() throws {
        let texts = ["1.50", "-0.05", "123456789012345.67", "007.50", "-0.00", "12.5"]
        let rows = try self.decode(columns: [("d", "decimal(17,2)", Self.signature("decimal", [17, 2]))],
                                   data: "[" + (texts.map { "[\"\($0)\"]" } + ["[null]"]).joined(separator: ",") + "]")
        XCTAssertEqual(rows.map { $0[0].string }, texts.map(Optional.some) + [nil])
        XCTAssertEqual(rows[6][0], .null)
    }

    func testTypedAccessorsReadTheBuffersByPositionAndName() throws {
        let rows = try self.decode(
            columns: [("id", "bigint", Self.signature("bigint")), ("x", "double", Self.signature("double")),
                      ("name", "varchar", Self.signature("varchar", [2147483647])), ("day", "date", Self.signature("date")),
                      ("ts", "timestamp(3) with time zone", Self.signature("timestamp with time zone", [3]))],
            data: #"[[9007199254740993,0.1,"h\u00e9\"llo","2024-02-29","2024-03-10 12:00:00.125 Asia/Kathmandu"],[null,null,null,null,null]]"#)
        XCTAssertEqual(rows.count, 2)
        let first = rows[0]
        XCTAssertEqual(first.int64(0), 9_007_199_254_740_993)
        XCTAssertEqual(first.int64("id"), 9_007_199_254_740_993)
        XCTAssertEqual(first.double("x"), 0.1)
        XCTAssertEqual(first.string("name"), "hé\"llo")
        XCTAssertEqual(first.date("day"), TrinoDate(year: 2024, month: 2, day: 29))
        XCTAssertEqual(first["ts"], .timestampWithTimeZone(TrinoTimestamp(date: TrinoDate(year: 2024, month: 3, day: 10),
                                                                          time: TrinoTime(hour: 12, minute: 0, second: 0, picoseconds: 125_000_000_000, precision: 3)),
                                                           zone: .named("Asia/Kathmandu")))
        XCTAssertEqual(first.timestamp(4)?.description, "2024-03-10 12:00:00.125")
        let second = rows[1]
        for column in 0..<5 { XCTAssertTrue(second.isNull(column)); XCTAssertEqual(second[column], .null) }
        XCTAssertNil(second.int64(0))
        XCTAssertNil(second.string(2))
        XCTAssertNil(first["missing"])
    }

    func testRowsOfSeveralPagesIndexAcrossThem() throws {
        let bigint = [("n", "bigint", Self.signature("bigint"))]
        let first = try self.decode(columns: bigint, data: "[[1],[2],[3]]")
        let second = try self.decode(columns: bigint, data: "[]")
        let third = try self.decode(columns: bigint, data: "[[4],[5]]")
        let all = first + second + third
        XCTAssertEqual(all.count, 5)
        XCTAssertEqual(all.map { $0.int64(0) }, [1, 2, 3, 4, 5])
        XCTAssertEqual(all[3], [.integer(4)])
        XCTAssertEqual(all, [[.integer(1)], [.integer(2)], [.integer(3)], [.integer(4)], [.integer(5)]])
    }

    func testDatesConvertToAndFromDaysSinceTheEpoch() {
        for days in [-719_468, -25_567, -1, 0, 1, 11_016, 19_782, 2_932_896] {
            XCTAssertEqual(TrinoDate(daysSinceEpoch: days).daysSinceEpoch, days)
        }
        XCTAssertEqual(TrinoDate(daysSinceEpoch: 0), TrinoDate(year: 1970, month: 1, day: 1))
        XCTAssertEqual(TrinoDate(daysSinceEpoch: 19_782), TrinoDate(year: 2024, month: 2, day: 29))
        XCTAssertEqual(TrinoDate(daysSinceEpoch: -1), TrinoDate(year: 1969, month: 12, day: 31))
    }
}

/// A poll's stats are read field by field and leniently; columns a poll repeats are not decoded again.
final class PollDecodingTests: XCTestCase {
    func testStatsOfUnexpectedTypesFallBackInsteadOfFailing() throws {
        let body = #"{"id":"q","infoUri":"u","stats":{"state":"RUNNING","nodes":1.5,"queued":"no","processedRows":12,"rootStage":{"x":[1]},"progressPercentage":null,"cpuTimeMillis":7}}"#
        let stats = try QueryResults.decode(Array(body.utf8)).stats
        XCTAssertEqual(stats.state, "RUNNING")
        XCTAssertEqual(stats.nodes, 0)
        XCTAssertFalse(stats.queued)
        XCTAssertEqual(stats.processedRows, 12)
        XCTAssertEqual(stats.cpuTimeMillis, 7)
        XCTAssertNil(stats.progressPercentage)
        XCTAssertThrowsError(try QueryResults.decode(Array(#"{"id":"q","infoUri":"u"}"#.utf8)), "stats are required")
    }

    func testRepeatedColumnsAreTheKnownOnes() throws {
        let known = try QueryResults.decode(Array(#"{"id":"q","infoUri":"u","stats":{},"columns":[{"name":"a","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}}]}"#.utf8)).columns
        let poll = #"{"id":"q","infoUri":"u","stats":{},"columns":[{"name":"a","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}}],"data":[[1],[2]]}"#
        let results = try QueryResults.decode(Array(poll.utf8), knownColumns: known)
        XCTAssertEqual(results.columns?.map(\.name), ["a"])
        XCTAssertEqual(results.rows.map { $0.int64(0) }, [1, 2])
    }
}
