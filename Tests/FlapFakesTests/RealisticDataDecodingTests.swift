import FlapFakes
@testable import FlapFakes
import Foundation
import HTTPWire
import TrinoClient
import XCTest

/// The realistic benchmark data decodes to exactly what the server generated, and to what the official Python client
/// reads from the same server.
final class RealisticDataDecodingTests: XCTestCase {
    private let rows = 3000

    private func server() throws -> FakeTrinoServer {
        var configuration = FakeTrinoServer.Configuration()
        configuration.shape = FakeResultShape(kind: .realistic, rowCount: self.rows)
        configuration.rowsPerPage = 700
        configuration.queryDuration = .zero
        return try FakeTrinoServer(configuration: configuration)
    }

    private func fetch(_ server: FakeTrinoServer) async throws -> TrinoRows {
        var configuration = TrinoClient.Configuration(server: server.url, session: TrinoSession(user: "test"))
        configuration.retryPolicy = .none
        return try await TrinoClient(configuration: configuration, transport: SocketTransport()).execute(TrinoQuery("SELECT * FROM fake_realistic")).rows
    }

    func testEveryRowDecodesToTheValuesTheServerGenerated() async throws {
        let server = try self.server()
        defer { server.stop() }
        let decoded = try await self.fetch(server)
        XCTAssertEqual(decoded.count, self.rows)
        for (i, row) in decoded.enumerated() where row != RealisticRows.values(row: i) {
            return XCTFail("row \(i): decoded \(row), generated \(RealisticRows.values(row: i))")
        }
        // The data holds what the test is about.
        for column in 0..<6 { XCTAssertTrue(decoded.contains { $0[column] == .null }, "nulls in column \(column)") }
        XCTAssertTrue(decoded.contains { ($0[1].int64?.magnitude ?? 0) > 1 << 53 }, "bigints past 2^53")
        XCTAssertTrue(decoded.contains { row in row[2].doubleValue.map { Self.significantDigits($0) == 17 } ?? false }, "17-digit doubles")
        XCTAssertTrue(decoded.contains { row in row[2].doubleValue.map { abs($0) < 1e-3 && $0 != 0 } ?? false }, "doubles Java writes with E")
        let names = decoded.compactMap { $0[0].string }
        for piece in ["\"", "\\", "\n", "\t", "\u{1}", "東京", "🚀"] {
            XCTAssertTrue(names.contains { $0.contains(piece) }, "a name with \(piece.debugDescription)")
        }
        let zones = Set(decoded.compactMap { row -> String? in
            if case .timestampWithTimeZone(_, let zone) = row[4] { return zone.description } else { return nil }
        })
        XCTAssertTrue(zones.isSuperset(of: ["Asia/Kathmandu", "+05:30", "-08:00"]), "named zones and offsets: \(zones)")
        XCTAssertEqual(ResultChecksum.expected(realisticRows: 0..<self.rows), decoded.reduce(into: ResultChecksum(columns: 6)) { $0.add($1) })
    }

    func testThePythonClientReadsTheSameValues() async throws {
        let onPath = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map { "\($0)/python3" }
        guard let python = (onPath + ["/usr/bin/python3"]).first(where: FileManager.default.isExecutableFile(atPath:)) else {
            throw XCTSkip("python3 is not installed")
        }
        guard try PythonRunner.run(python, ["-c", "import trino"]).status == 0 else {
            return XCTFail("the official Trino Python client is not installed: run scripts/test-deps (pip install trino)")
        }
        let server = try self.server()
        defer { server.stop() }
        let script = """
        \(ResultChecksum.python)
        from trino.dbapi import connect
        cur = connect(host="127.0.0.1", port=\(server.ports[0]), user="py", http_scheme="http").cursor()
        cur.execute("SELECT * FROM fake_realistic")
        for row in cur.fetchall():
            print(" ".join(cell_terms(row)))
        """
        let result = try PythonRunner.run(python, ["-c", script])
        XCTAssertEqual(result.status, 0, result.stderr)
        let pythonRows = result.stdout.split(separator: "\n").map(String.init)
        let swiftRows = try await self.fetch(server).map { ResultChecksum.cellTerms($0).joined(separator: " ") }
        XCTAssertEqual(pythonRows.count, self.rows)
        for (i, (ours, theirs)) in zip(swiftRows, pythonRows).enumerated() where ours != theirs {
            return XCTFail("row \(i): flap \(ours), Python \(theirs) (generated \(RealisticRows.values(row: i)))")
        }
    }

    func testDoublesAreWrittenAsJavaWritesThem() {
        let cases: [(Double, String)] = [
            (1e7, "1.0E7"), (9999999.0, "9999999.0"), (0.001, "0.001"), (0.0001, "1.0E-4"), (100, "100.0"),
            (-1.2345678901234568e-5, "-1.2345678901234568E-5"), (123456.78901234567, "123456.78901234567"),
            (0.1, "0.1"), (1e21, "1.0E21"), (-0.0, "-0.0"),
        ]
        for (value, java) in cases { XCTAssertEqual(JavaDouble.text(value), java, "\(value)") }
    }

    private static func significantDigits(_ value: Double) -> Int {
        let mantissa = value.magnitude.description.split(separator: "e")[0]
        return mantissa.filter(\.isNumber).drop { $0 == "0" }.count
    }
}
