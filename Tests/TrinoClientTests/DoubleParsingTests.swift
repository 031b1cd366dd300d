import FlapJSON
import Foundation
import XCTest

/// The scanner's fast paths for doubles agree bit for bit with a correctly rounding parser (the C library's).
final class DoubleParsingTests: XCTestCase {
    private func scanned(_ text: String) throws -> Double {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return try scanner.parseDouble()
        }
    }

    private func assertMatchesStrtod(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = strtod(text, nil)
        let got = try self.scanned(text)
        XCTAssertEqual(got.bitPattern, expected.bitPattern, "\(text): scanned \(got), strtod \(expected)", file: file, line: line)
    }

    func testSeventeenDigitDoublesRoundLikeStrtod() throws {
        var random = SystemRandomNumberGenerator()
        for _ in 0..<50_000 {
            let value = Double(bitPattern: random.next() & 0x7FEF_FFFF_FFFF_FFFF)
            guard value.isNormal else { continue }
            let scaled = value.significand * pow(10, Double(Int(random.next() % 20)) - 10)
            for text in [scaled.description, String(format: "%.17g", scaled), String(format: "%.16g", scaled),
                         String(format: "%.19g", scaled), String(format: "%.17e", scaled)] {
                try self.assertMatchesStrtod(text)
            }
        }
    }

    func testHalfwayCasesAndEdgesFallBackCorrectly() throws {
        let cases = [
            "9007199254740993",        // 2^53 + 1: exactly halfway, rounds to even
            "9007199254740995", "18014398509481985", "0.1", "0.30000000000000004", "1.7976931348623157e308",
            "2.2250738585072014E-308", "4.9E-324", "123456789012345678901234", "1e27", "1e-27", "1e28", "-0.0", "0",
            "1.00000000000000011102230246251565404236316680908203125", "9999999999999999999", "0.000001234567890123456789",
            "-1.2345678901234568E-5", "6.02214076E23", "1.0E7", "123456.78901234567",
        ]
        for text in cases { try self.assertMatchesStrtod(text) }
    }
}
