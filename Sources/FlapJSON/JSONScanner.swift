#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A fast recursive-descent JSON reader over raw bytes. It can build `JSONValue`s, skip values
/// (remembering their byte range) and read scalars straight into Swift types for the row hot path.
package struct JSONScanner {
    package let bytes: UnsafeBufferPointer<UInt8>
    package var index = 0
    /// Deeper documents are refused: everything that walks a parsed value (serialization, patches, equality)
    /// recurses, and a few hundred levels exhausted a server thread's stack. Kubernetes objects and Trino pages
    /// nest a few dozen levels at most.
    package static let maxDepth = 100

    package init(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int = 0) {
        self.bytes = bytes
        self.index = start
    }

    package func error(_ message: String) -> JSONError { JSONError(message: message, offset: self.index) }

    package mutating func skipWhitespace() {
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case 0x20, 0x0A, 0x0D, 0x09: self.index += 1
            default: return
            }
        }
    }

    /// The next non-space byte, without consuming it.
    package mutating func peek() throws(JSONError) -> UInt8 {
        self.skipWhitespace()
        guard self.index < self.bytes.count else { throw self.error("unexpected end of input") }
        return self.bytes[self.index]
    }

    package mutating func expect(_ byte: UInt8) throws(JSONError) {
        guard try self.peek() == byte else {
            throw self.error("expected '\(Character(Unicode.Scalar(byte)))' but found '\(Character(Unicode.Scalar(self.bytes[self.index])))'")
        }
        self.index += 1
    }

    /// Consumes `byte` if it is next.
    package mutating func consume(_ byte: UInt8) throws(JSONError) -> Bool {
        if try self.peek() == byte { self.index += 1; return true }
        return false
    }

    package mutating func expectEnd() throws(JSONError) {
        self.skipWhitespace()
        guard self.index == self.bytes.count else { throw self.error("unexpected content after the JSON value") }
    }

    package mutating func parseValue(depth: Int = 0) throws(JSONError) -> JSONValue {
        guard depth < Self.maxDepth else { throw self.error("nesting deeper than \(Self.maxDepth)") }
        switch try self.peek() {
        case UInt8(ascii: "{"):
            self.index += 1
            var fields: [String: JSONValue] = [:]
            if try self.consume(UInt8(ascii: "}")) { return .object(fields) }
            repeat {
                let key = try self.parseString()
                try self.expect(UInt8(ascii: ":"))
                fields[key] = try self.parseValue(depth: depth + 1)
            } while try self.consume(UInt8(ascii: ","))
            try self.expect(UInt8(ascii: "}"))
            return .object(fields)
        case UInt8(ascii: "["):
            self.index += 1
            var items: [JSONValue] = []
            if try self.consume(UInt8(ascii: "]")) { return .array(items) }
            repeat {
                items.append(try self.parseValue(depth: depth + 1))
            } while try self.consume(UInt8(ascii: ","))
            try self.expect(UInt8(ascii: "]"))
            return .array(items)
        case UInt8(ascii: "\""): return .string(try self.parseString())
        case UInt8(ascii: "t"): try self.literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try self.literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try self.literal("null"); return .null
        default: return .number(try self.parseNumberText())
        }
    }

    /// Skips one value and returns the byte range it occupied.
    package mutating func skipValue(depth: Int = 0) throws(JSONError) -> Range<Int> {
        guard depth < Self.maxDepth else { throw self.error("nesting deeper than \(Self.maxDepth)") }
        let first = try self.peek()
        let start = self.index
        switch first {
        case UInt8(ascii: "{"):
            self.index += 1
            if try !self.consume(UInt8(ascii: "}")) {
                repeat {
                    try self.skipString()
                    try self.expect(UInt8(ascii: ":"))
                    _ = try self.skipValue(depth: depth + 1)
                } while try self.consume(UInt8(ascii: ","))
                try self.expect(UInt8(ascii: "}"))
            }
        case UInt8(ascii: "["):
            self.index += 1
            if try !self.consume(UInt8(ascii: "]")) {
                repeat { _ = try self.skipValue(depth: depth + 1) } while try self.consume(UInt8(ascii: ","))
                try self.expect(UInt8(ascii: "]"))
            }
        case UInt8(ascii: "\""): try self.skipString()
        case UInt8(ascii: "t"): try self.literal("true")
        case UInt8(ascii: "f"): try self.literal("false")
        case UInt8(ascii: "n"): try self.literal("null")
        default: _ = try self.numberRange()
        }
        return start..<self.index
    }

    /// Consumes `null` if it is next.
    package mutating func consumeNull() throws(JSONError) -> Bool {
        if try self.peek() == UInt8(ascii: "n") {
            try self.literal("null")
            return true
        }
        return false
    }

    package mutating func literal(_ word: StaticString) throws(JSONError) {
        let count = word.utf8CodeUnitCount
        guard self.index + count <= self.bytes.count else { throw self.error("unexpected end of input") }
        let start = word.utf8Start
        for k in 0..<count where self.bytes[self.index + k] != start[k] {
            throw self.error("invalid literal")
        }
        self.index += count
    }

    package mutating func parseBool() throws(JSONError) -> Bool {
        switch try self.peek() {
        case UInt8(ascii: "t"): try self.literal("true"); return true
        case UInt8(ascii: "f"): try self.literal("false"); return false
        default: throw self.error("expected a boolean")
        }
    }

    package mutating func parseString() throws(JSONError) -> String {
        guard try self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string") }
        self.index += 1
        let start = self.index
        var simple = true
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            if byte == UInt8(ascii: "\"") {
                if simple {
                    let s = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[start..<self.index]), as: UTF8.self)
                    self.index += 1
                    return s
                }
                break
            }
            if byte == UInt8(ascii: "\\") { simple = false; break }
            if byte < 0x20 { throw self.error("control character in string") }
            self.index += 1
        }
        self.index = start
        return try self.parseEscapedString()
    }

    private mutating func parseEscapedString() throws(JSONError) -> String {
        var out: [UInt8] = []
        self.index -= 1  // back to the opening quote
        try self.appendString(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes the next string onto the end of `out` in one pass: runs of plain bytes are copied whole, escapes
    /// decoded, control characters refused. A column's text arena grows without a String per cell.
    package mutating func appendString(to out: inout [UInt8]) throws(JSONError) {
        guard try self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string") }
        self.index += 1
        var run = self.index
        while self.index < self.bytes.count {
            self.index = self.plainRun(from: self.index)
            guard self.index < self.bytes.count else { break }
            let byte = self.bytes[self.index]
            if byte >= 0x20, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\") {
                self.index += 1
                continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: self.bytes[run..<self.index]))
            self.index += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte < 0x20 { self.index -= 1; throw self.error("control character in string") }
            try self.appendEscape(to: &out)
            run = self.index
        }
        throw self.error("unterminated string")
    }

    /// The first index at or after `start` that may end a run of plain string bytes (a quote, a backslash or a
    /// control character), found eight bytes at a time: text columns spend most of their time here.
    @inline(__always)
    private func plainRun(from start: Int) -> Int {
        guard let base = self.bytes.baseAddress else { return start }
        var i = start
        let ones: UInt64 = 0x0101_0101_0101_0101, highs: UInt64 = 0x8080_8080_8080_8080
        while i + 8 <= self.bytes.count {
            let word = UInt64(littleEndian: UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self))
            let quote = word ^ (ones &* 0x22), backslash = word ^ (ones &* 0x5C)
            // A byte is flagged when it is zero after the XOR (a quote or backslash) or below 0x20; bytes of 0x80 and
            // up never are. Flags may spill above a true hit, never below one: the caller then looks byte by byte.
            let flags = ((quote &- ones) & ~quote | (backslash &- ones) & ~backslash | (word &- ones &* 0x20) & ~word) & highs
            if flags != 0 { return i + (flags.trailingZeroBitCount >> 3) }
            i += 8
        }
        return i
    }

    /// The escape after a backslash, decoded onto `out`.
    private mutating func appendEscape(to out: inout [UInt8]) throws(JSONError) {
        guard self.index < self.bytes.count else { throw self.error("unterminated string") }
        let escape = self.bytes[self.index]
        self.index += 1
        switch escape {
        case UInt8(ascii: "\""): out.append(0x22)
        case UInt8(ascii: "\\"): out.append(0x5C)
        case UInt8(ascii: "/"): out.append(0x2F)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            var scalar = try self.hex4()
            if (0xD800..<0xDC00).contains(scalar) {
                guard self.index + 1 < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "\\"), self.bytes[self.index + 1] == UInt8(ascii: "u") else {
                    throw self.error("unpaired surrogate")
                }
                self.index += 2
                let low = try self.hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw self.error("invalid low surrogate") }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            }
            guard let unicode = Unicode.Scalar(scalar) else { throw self.error("invalid unicode escape") }
            out.append(contentsOf: unicode.utf8)
        default: throw self.error("invalid escape")
        }
    }

    private mutating func hex4() throws(JSONError) -> UInt32 {
        guard self.index + 4 <= self.bytes.count else { throw self.error("short unicode escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let b = self.bytes[self.index]
            let digit: UInt32
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
            default: throw self.error("invalid hex digit")
            }
            value = value * 16 + digit
            self.index += 1
        }
        return value
    }

    package mutating func skipString() throws(JSONError) {
        guard try self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string") }
        self.index += 1
        while self.index < self.bytes.count {
            let byte = self.bytes[self.index]
            self.index += 1
            if byte == UInt8(ascii: "\"") { return }
            if byte == UInt8(ascii: "\\") { self.index += 1 }
        }
        throw self.error("unterminated string")
    }

    private mutating func numberRange() throws(JSONError) -> Range<Int> {
        let start = self.index
        if self.index < self.bytes.count, self.bytes[self.index] == UInt8(ascii: "-") { self.index += 1 }
        let digitsStart = self.index
        while self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-"):
                self.index += 1
            default:
                guard self.index > digitsStart else { throw self.error("unexpected character") }
                return start..<self.index
            }
        }
        guard self.index > digitsStart else { throw self.error("unexpected end of input") }
        return start..<self.index
    }

    package mutating func parseNumberText() throws(JSONError) -> String {
        let range = try self.numberRange()
        let text = String(decoding: UnsafeBufferPointer(rebasing: self.bytes[range]), as: UTF8.self)
        guard Double(text) != nil else { throw JSONError(message: "invalid number \(text)", offset: range.lowerBound) }
        return text
    }

    /// Reads an integer number exactly; fractions and overflow are errors.
    package mutating func parseInt64() throws(JSONError) -> Int64 {
        _ = try self.peek()
        let start = self.index
        var negative = false
        if self.bytes[self.index] == UInt8(ascii: "-") { negative = true; self.index += 1 }
        var value: Int64 = 0
        var digits = 0
        while self.index < self.bytes.count {
            let b = self.bytes[self.index]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(b - 48)) : m.addingReportingOverflow(Int64(b - 48))
            guard !o1, !o2 else { self.index = start; throw self.error("integer out of 64-bit range") }
            value = s
            digits += 1
            self.index += 1
        }
        if digits == 0 { self.index = start; throw self.error("expected an integer") }
        if self.index < self.bytes.count {
            switch self.bytes[self.index] {
            case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"):
                self.index = start
                throw self.error("expected an integer, found a fraction")
            default: break
            }
        }
        return value
    }

    private static let exactPowersOfTen: [Double] = (0...22).map { pow(10, Double($0)) }

    /// Reads a JSON number as a Double. Short decimals take Clinger's exact fast path, up to 19 digits the
    /// extended-precision one (x86_64), the rest strtod.
    package mutating func parseDouble() throws(JSONError) -> Double {
        let range = try self.numberRange()
        if let fast = self.fastDouble(range) { return fast }
        if let extended = self.extendedDouble(range) { return extended }
        let bytes = self.bytes
        let parsed: Double? = withUnsafeTemporaryAllocation(of: CChar.self, capacity: range.count + 1) { text in
            for (k, i) in range.enumerated() { text[k] = CChar(bitPattern: bytes[i]) }
            text[range.count] = 0
            var end: UnsafeMutablePointer<CChar>?
            let value = strtod(text.baseAddress!, &end)
            return end.map { $0 - text.baseAddress! } == range.count ? value : nil
        }
        guard let parsed else { throw JSONError(message: "invalid number", offset: range.lowerBound) }
        return parsed
    }

    /// At most 15 significant digits and a power of ten within 10^22: both exact in a Double, so one
    /// multiplication or division rounds correctly.
    private func fastDouble(_ range: Range<Int>) -> Double? {
        var i = range.lowerBound
        var negative = false
        if self.bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var fractionDigits = 0
        var seenPoint = false
        while i < range.upperBound {
            let b = self.bytes[i]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                mantissa = mantissa &* 10 &+ UInt64(b - UInt8(ascii: "0"))
                if mantissa != 0 { digits += 1 }
                if seenPoint { fractionDigits += 1 }
            } else if b == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else {
                return nil
            }
            i += 1
        }
        guard digits <= 15, fractionDigits <= 22, !(seenPoint && fractionDigits == 0) else { return nil }
        let value = Double(mantissa) / Self.exactPowersOfTen[fractionDigits]
        return negative ? -value : value
    }

    /// Up to 19 significant digits (Java writes 17 for most doubles) with a decimal exponent within ±27, in x87
    /// extended precision: the digits and the power of ten are exact in its 64-bit significand, so the one
    /// multiplication or division rounds once, within half an extended ulp of the true value. Rounding that to a
    /// Double is then correct unless the extended result lies exactly halfway between two Doubles, which is the
    /// only case in which the true value could be on the other side; that case, and results outside the normal
    /// range, go to strtod.
    private func extendedDouble(_ range: Range<Int>) -> Double? {
        #if arch(x86_64)
        var i = range.lowerBound
        var negative = false
        if self.bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var mantissa: UInt64 = 0
        var digits = 0
        var scale = 0
        var seenPoint = false
        var exponent = 0
        while i < range.upperBound {
            let b = self.bytes[i]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if mantissa != 0 || b != UInt8(ascii: "0") { digits += 1 }
                guard digits <= 19 else { return nil }
                mantissa = mantissa &* 10 &+ UInt64(b - UInt8(ascii: "0"))
                if seenPoint { scale -= 1 }
            } else if b == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
            } else if b == UInt8(ascii: "e") || b == UInt8(ascii: "E") {
                i += 1
                var exponentNegative = false
                if i < range.upperBound, self.bytes[i] == UInt8(ascii: "-") || self.bytes[i] == UInt8(ascii: "+") {
                    exponentNegative = self.bytes[i] == UInt8(ascii: "-")
                    i += 1
                }
                guard i < range.upperBound else { return nil }
                while i < range.upperBound {
                    let e = self.bytes[i]
                    guard e >= UInt8(ascii: "0") && e <= UInt8(ascii: "9"), exponent < 10_000 else { return nil }
                    exponent = exponent * 10 + Int(e - UInt8(ascii: "0"))
                    i += 1
                }
                if exponentNegative { exponent = -exponent }
                break
            } else {
                return nil
            }
            i += 1
        }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        let power = scale + exponent
        guard abs(power) <= 27 else { return nil }
        let ten = Self.extendedPowersOfTen[abs(power)]
        let extended = power < 0 ? Float80(mantissa) / ten : Float80(mantissa) * ten
        // The 11 bits below a Double's significand: exactly 1 followed by zeros is a halfway point.
        let below = extended.significandBitPattern & 0x7FF
        guard below != 0x400, extended.isNormal, Double(extended).isNormal else { return nil }
        return negative ? -Double(extended) : Double(extended)
        #else
        return nil
        #endif
    }

    #if arch(x86_64)
    /// 10^0 ... 10^27: all exact in Float80's 64-bit significand (5^27 < 2^64).
    private static let extendedPowersOfTen: [Float80] = {
        var powers: [Float80] = [1]
        for _ in 1...27 { powers.append(powers.last! * 10) }
        return powers
    }()
    #endif

    /// The raw bytes of the next string, without unescaping (for fixed-format values such as dates).
    /// Returns nil when the string holds escapes.
    package mutating func rawStringBytes() throws(JSONError) -> Range<Int>? {
        guard try self.peek() == UInt8(ascii: "\"") else { throw self.error("expected a string") }
        let start = self.index + 1
        var i = start
        while i < self.bytes.count {
            i = self.plainRun(from: i)
            guard i < self.bytes.count else { break }
            let byte = self.bytes[i]
            if byte == UInt8(ascii: "\"") { self.index = i + 1; return start..<i }
            if byte == UInt8(ascii: "\\") { return nil }
            i += 1
        }
        throw self.error("unterminated string")
    }
}
