@testable import FlapFakes
import XCTest

/// How the fake reads a statement's text: session statements by their words, queries by markers in any case.
final class FakeStatementTests: XCTestCase {
    private let fallback = FakeResultShape(kind: .bench, rowCount: 7)

    func testQueriesAreToldApartByMarkersInAnyLetterCase() {
        XCTAssertEqual(FakeStatement(sql: "  select 42 ;\n", defaultShape: self.fallback).shape.constant, 42)
        XCTAssertEqual(FakeStatement(sql: "SELECT 42 FROM t", defaultShape: self.fallback).shape, self.fallback)
        XCTAssertEqual(FakeStatement(sql: "SELECT nation, SUM_PROFIT\nFROM profit", defaultShape: self.fallback).shape, .q9)
        XCTAssertEqual(FakeStatement(sql: "select * from Fake_Types", defaultShape: self.fallback).shape.kind, .types)
        XCTAssertEqual(FakeStatement(sql: "SELECT * FROM fake_realistic", defaultShape: self.fallback).shape.kind, .realistic)
        XCTAssertEqual(FakeStatement(sql: "SELECT * FROM fake_bench", defaultShape: self.fallback).shape, self.fallback)
        XCTAssertEqual(FakeStatement(sql: "SELECT * FROM fake_bencx", defaultShape: self.fallback).shape, self.fallback)
        XCTAssertEqual(FakeStatement(sql: "SELECT * FROM fake_bencx", defaultShape: .q9).shape, .q9, "no marker: the default")
        XCTAssertEqual(FakeStatement(sql: "Ä fake_types", defaultShape: self.fallback).shape.kind, .types, "non-ASCII text")
        XCTAssertEqual(FakeStatement(sql: ";;", defaultShape: self.fallback).shape, self.fallback)
    }

    func testSessionStatementsAnswerWithTheirHeaders() {
        let set = FakeStatement(sql: " set  session query_max_run_time = '1h' ;", defaultShape: self.fallback)
        XCTAssertEqual(set.updateType, "SET SESSION")
        XCTAssertEqual(set.responseHeaders.map(\.0), ["X-Trino-Set-Session"])
        XCTAssertEqual(set.responseHeaders.first?.1, "query_max_run_time=1h")
        XCTAssertEqual(set.shape.kind, .none)
        let use = FakeStatement(sql: "USE tpch.sf1", defaultShape: self.fallback)
        XCTAssertEqual(use.responseHeaders.map(\.1), ["tpch", "sf1"])
        XCTAssertNil(FakeStatement(sql: "SETTLE 1", defaultShape: self.fallback).updateType, "a query that starts like a keyword")
    }
}
