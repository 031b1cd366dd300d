import FlapJSON
import XCTest

/// The scanner's word-at-a-time string paths read exactly what a byte-by-byte reader reads, wherever the quote,
/// backslash or control character falls in a word.
final class StringScanningTests: XCTestCase {
    private let alphabet: [String] = ["a", "Z", " ", "é", "中", "😀", "\"", "\\", "/", "\u{01}", "\u{1F}", "\u{7F}", "~"]

    /// JSON text for `value`, escaped as a writer would (quote, backslash, control characters).
    private func encoded(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    private func scan<T>(_ text: String, from offset: Int, _ body: (inout JSONScanner) throws -> T) rethrows -> T {
        let bytes = Array(String(repeating: " ", count: offset).utf8) + Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            return try body(&scanner)
        }
    }

    func testRandomStringsReadBackExactly() throws {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<4000 {
            let value = (0..<Int.random(in: 0...40, using: &generator)).map { _ in self.alphabet.randomElement(using: &generator)! }.joined()
            let text = self.encoded(value) + ","
            let offset = Int.random(in: 0...9, using: &generator)
            XCTAssertEqual(try self.scan(text, from: offset) { try $0.parseString() }, value, text)
            var appended: [UInt8] = [7]
            let end = try self.scan(text, from: offset) { scanner -> Int in try scanner.appendString(to: &appended); return scanner.index }
            XCTAssertEqual(appended, [7] + Array(value.utf8), text)
            XCTAssertEqual(end, offset + text.utf8.count - 1, "stops just past the closing quote: \(text)")
            let raw = try self.scan(text, from: offset) { try $0.rawStringBytes() }
            if text.contains("\\") {
                XCTAssertNil(raw, text)
            } else {
                XCTAssertEqual(raw, (offset + 1)..<(offset + text.utf8.count - 2), text)
            }
        }
    }

    func testARawControlCharacterIsRefusedWhereItStands() {
        for length in 0..<20 {
            for offset in 0..<9 {
                let text = "\"" + String(repeating: "x", count: length) + "\u{0A}yz\""
                var out: [UInt8] = []
                XCTAssertThrowsError(try self.scan(text, from: offset) { try $0.appendString(to: &out) }) { error in
                    XCTAssertEqual((error as? JSONError)?.message, "control character in string", text)
                    XCTAssertEqual((error as? JSONError)?.offset, offset + 1 + length, text)
                }
                XCTAssertThrowsError(try self.scan(text, from: offset) { try $0.parseString() }, text)
            }
        }
        XCTAssertThrowsError(try self.scan("\"" + String(repeating: "x", count: 30), from: 0) { try $0.parseString() }, "unterminated")
    }
}
