@testable import TrinoClient
import XCTest

/// A page decoded with the previous page's sizes holds exactly the values it would hold without them, whatever
/// the previous page looked like.
final class PageSizeHintTests: XCTestCase {
    private let columns = #"[{"name":"name","type":"varchar","typeSignature":{"rawType":"varchar","arguments":[]}},"#
        + #"{"name":"n","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}},"#
        + #"{"name":"ts","type":"timestamp(3) with time zone","typeSignature":{"rawType":"timestamp with time zone","arguments":[{"kind":"LONG","value":3}]}},"#
        + #"{"name":"d","type":"decimal(10,2)","typeSignature":{"rawType":"decimal","arguments":[{"kind":"LONG","value":10},{"kind":"LONG","value":2}]}}]"#

    private func page(rows: Int, nameLength: Int) -> [UInt8] {
        let data = (0..<rows).map { i in
            i % 7 == 3 ? "[null,null,null,null]"
                : "[\"\(String(repeating: "é", count: nameLength))\\n\(i)\",\(i * 1_000_003),\"2024-03-10 12:00:00.125 Asia/Kathmandu\",\"\(i).25\"]"
        }.joined(separator: ",")
        return Array("{\"id\":\"q\",\"infoUri\":\"u\",\"stats\":{},\"columns\":\(self.columns),\"data\":[\(data)]}".utf8)
    }

    private func values(_ rows: TrinoRows) -> [[TrinoValue]] { rows.map { row in (0..<4).map { row[$0] } } }

    func testHintsOfAnySizeDecodeTheSameValues() throws {
        let first = try QueryResults.decode(self.page(rows: 300, nameLength: 20), knownColumns: nil, sizes: nil)
        let sizes = try XCTUnwrap(first.rows.lastPageSizes)
        XCTAssertEqual(sizes.rows, 300)
        XCTAssertEqual(sizes.textBytes[1...3], [0, 0, 0], "only the varchar column has an arena")
        XCTAssertGreaterThan(sizes.textBytes[0], 250 * 40, "the names, 40 bytes of é each and more")
        let known = first.columns
        for (rows, length) in [(300, 20), (1000, 60), (10, 2), (0, 0)] {
            let body = self.page(rows: rows, nameLength: length)
            let plain = try QueryResults.decode(body, knownColumns: known, sizes: nil)
            for hint in [sizes, PageSizes(rows: 5, textBytes: [1, 0, 0, 0]), PageSizes(rows: 300, textBytes: [10])] {
                let hinted = try QueryResults.decode(body, knownColumns: known, sizes: hint)
                XCTAssertEqual(hinted.rows.count, rows)
                XCTAssertEqual(self.values(hinted.rows), self.values(plain.rows), "\(rows) rows with hint \(hint)")
            }
        }
    }
}
