import FlapJSON
import Foundation

enum YAMLScalars {
    /// Removes a `#` comment that is outside quotes and starts a word.
    static func stripComment(_ text: String) -> String {
        var inSingle = false
        var inDouble = false
        var previous: Character = " "
        var escaped = false
        for (offset, ch) in text.enumerated() {
            if inDouble {
                if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inDouble = false }
            } else if inSingle {
                if ch == "'" { inSingle = false }
            } else if ch == "\"" && (previous == " " || previous == ":" || previous == "[" || previous == "{" || previous == "," || previous == "-" || offset == 0) {
                inDouble = true
            } else if ch == "'" && (previous == " " || previous == "[" || previous == "{" || previous == "," || offset == 0) {
                inSingle = true
            } else if ch == "#" && (previous == " " || previous == "\t" || offset == 0) {
                return String(text.prefix(offset))
            }
            previous = ch
        }
        return text
    }

    /// Splits `key: value` (or `key:`) outside quotes and flow brackets.
    static func mappingKey(_ text: String) -> (String, String)? {
        if text.hasPrefix("[") || text.hasPrefix("{") { return nil }
        var inSingle = false
        var inDouble = false
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let ch = chars[i]
            if inDouble {
                if ch == "\\" { i += 1 } else if ch == "\"" { inDouble = false }
            } else if inSingle {
                if ch == "'" { inSingle = false }
            } else if ch == "\"" && i == 0 {
                inDouble = true
            } else if ch == "'" && i == 0 {
                inSingle = true
            } else if ch == ":" && (i + 1 == chars.count || chars[i + 1] == " " || chars[i + 1] == "\t") {
                return (String(chars[0..<i]).trimmingCharacters(in: .whitespaces), String(chars[(i + 1)...]))
            }
            i += 1
        }
        return nil
    }

    static func key(_ raw: String, line: SourceLine, parser: YAMLBlockParser) throws(YAMLError) -> String {
        if raw.isEmpty { throw parser.error("empty mapping key", line: line) }
        if raw.hasPrefix("&") || raw.hasPrefix("*") || raw.hasPrefix("!") || raw.hasPrefix("?") {
            throw parser.error("anchors, aliases, tags and complex keys are not supported", line: line)
        }
        if raw.hasPrefix("\"") || raw.hasPrefix("'") {
            guard case .string(let s) = try self.scalar(raw, line: line, column: line.indent + 1, file: parser.file) else {
                throw parser.error("bad quoted key", line: line)
            }
            return s
        }
        return raw
    }

    static func quoteClosed(_ text: String) -> Bool {
        guard let quote = text.first else { return true }
        var escaped = false
        for ch in text.dropFirst() {
            if quote == "\"" {
                if escaped { escaped = false; continue }
                if ch == "\\" { escaped = true; continue }
                if ch == "\"" { return true }
            } else if ch == "'" {
                return true   // '' pairs re-open on the next character; close enough for line joining
            }
        }
        return false
    }

    /// A scalar: quoted (with escapes) or plain (resolved by the core schema).
    static func scalar(_ text: String, line: SourceLine, column: Int, file: String?) throws(YAMLError) -> JSONValue {
        func fail(_ message: String) -> YAMLError { YAMLError(file: file, line: line.number, column: column, message: message) }
        if text.hasPrefix("\"") {
            var out = ""
            var chars = Array(text.dropFirst())
            guard let close = self.closingDoubleQuote(chars) else { throw fail("unterminated double-quoted string") }
            let rest = String(chars[(close + 1)...]).trimmingCharacters(in: .whitespaces)
            guard rest.isEmpty else { throw fail("unexpected text after a quoted string: \(rest.prefix(20))") }
            chars = Array(chars[..<close])
            var i = 0
            while i < chars.count {
                let ch = chars[i]
                guard ch == "\\" else { out.append(ch); i += 1; continue }
                i += 1
                guard i < chars.count else { throw fail("dangling backslash") }
                switch chars[i] {
                case "n": out += "\n"
                case "t": out += "\t"
                case "r": out += "\r"
                case "0": out += "\0"
                case "\"": out += "\""
                case "\\": out += "\\"
                case "/": out += "/"
                case " ": out += " "
                case "e": out += "\u{1B}"
                case "x", "u", "U":
                    let width = chars[i] == "x" ? 2 : chars[i] == "u" ? 4 : 8
                    guard i + width < chars.count + 0, i + width <= chars.count - 0,
                          let code = UInt32(String(chars[(i + 1)...(i + width)]), radix: 16), let scalar = Unicode.Scalar(code) else {
                        throw fail("bad \\\(chars[i]) escape")
                    }
                    out.unicodeScalars.append(scalar)
                    i += width
                default: throw fail("unknown escape \\\(chars[i])")
                }
                i += 1
            }
            return .string(out)
        }
        if text.hasPrefix("'") {
            let body = text.dropFirst()
            var out = ""
            var i = body.startIndex
            while i < body.endIndex {
                let ch = body[i]
                if ch == "'" {
                    let next = body.index(after: i)
                    if next < body.endIndex, body[next] == "'" { out.append("'"); i = body.index(after: next); continue }
                    let rest = body[next...].trimmingCharacters(in: .whitespaces)
                    guard rest.isEmpty else { throw fail("unexpected text after a quoted string: \(rest.prefix(20))") }
                    return .string(out)
                }
                out.append(ch)
                i = body.index(after: i)
            }
            throw fail("unterminated single-quoted string")
        }
        if text.hasPrefix("&") || text.hasPrefix("*") { throw fail("anchors and aliases are not supported") }
        if text.hasPrefix("!") { throw fail("tags are not supported") }
        if text.hasPrefix("[") || text.hasPrefix("{") { return try YAMLFlow.parse(text, line: line, column: column, file: file) }
        return self.resolvePlain(text)
    }

    private static func closingDoubleQuote(_ chars: [Character]) -> Int? {
        var escaped = false
        for (i, ch) in chars.enumerated() {
            if escaped { escaped = false; continue }
            if ch == "\\" { escaped = true; continue }
            if ch == "\"" { return i }
        }
        return nil
    }

    /// The YAML 1.2 core schema.
    static func resolvePlain(_ text: String) -> JSONValue {
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        default: break
        }
        if let value = Int64(text) { return .number(String(value)) }
        if text.hasPrefix("0x"), let value = Int64(text.dropFirst(2), radix: 16) { return .number(String(value)) }
        if text.hasPrefix("0o"), let value = Int64(text.dropFirst(2), radix: 8) { return .number(String(value)) }
        if text.range(of: #"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$"#, options: .regularExpression) != nil,
           let value = Double(text), value.isFinite {
            return .number(text.hasPrefix("+") ? String(text.dropFirst()) : (text.hasPrefix(".") ? "0" + text : (text.hasSuffix(".") ? text + "0" : text)))
        }
        return .string(text)
    }
}

/// Flow collections: `[a, b]`, `{k: v}`, nested.
enum YAMLFlow {
    static func isBalanced(_ text: String) -> Bool {
        var depth = 0
        var inSingle = false
        var inDouble = false
        var escaped = false
        for ch in text {
            if inDouble { if escaped { escaped = false } else if ch == "\\" { escaped = true } else if ch == "\"" { inDouble = false }; continue }
            if inSingle { if ch == "'" { inSingle = false }; continue }
            switch ch {
            case "\"": inDouble = true
            case "'": inSingle = true
            case "[", "{": depth += 1
            case "]", "}": depth -= 1
            default: break
            }
        }
        return depth <= 0
    }

    static func parse(_ text: String, line: SourceLine, column: Int, file: String?) throws(YAMLError) -> JSONValue {
        var reader = Reader(chars: Array(text), line: line, column: column, file: file)
        let value = try reader.value()
        reader.skipSpaces()
        guard reader.index == reader.chars.count else { throw reader.fail("unexpected text after a flow collection") }
        return value
    }

    struct Reader {
        let chars: [Character]
        let line: SourceLine
        let column: Int
        let file: String?
        var index = 0
        var depth = 0

        init(chars: [Character], line: SourceLine, column: Int, file: String?) {
            self.chars = chars
            self.line = line
            self.column = column
            self.file = file
        }

        func fail(_ message: String) -> YAMLError {
            YAMLError(file: self.file, line: self.line.number, column: self.column + self.index, message: message)
        }

        mutating func skipSpaces() {
            while self.index < self.chars.count, self.chars[self.index] == " " || self.chars[self.index] == "\t" { self.index += 1 }
        }

        mutating func value() throws(YAMLError) -> JSONValue {
            self.skipSpaces()
            guard self.index < self.chars.count else { throw self.fail("unexpected end of a flow collection") }
            guard self.depth < YAMLBlockParser.maxDepth else { throw self.fail("nesting deeper than \(YAMLBlockParser.maxDepth) levels") }
            self.depth += 1
            defer { self.depth -= 1 }
            switch self.chars[self.index] {
            case "[":
                self.index += 1
                var items: [JSONValue] = []
                while true {
                    self.skipSpaces()
                    if self.index < self.chars.count, self.chars[self.index] == "]" { self.index += 1; return .array(items) }
                    items.append(try self.value())
                    self.skipSpaces()
                    guard self.index < self.chars.count else { throw self.fail("unterminated flow sequence") }
                    if self.chars[self.index] == "," { self.index += 1; continue }
                    guard self.chars[self.index] == "]" else { throw self.fail("expected ',' or ']' in a flow sequence") }
                }
            case "{":
                self.index += 1
                var fields: [String: JSONValue] = [:]
                while true {
                    self.skipSpaces()
                    if self.index < self.chars.count, self.chars[self.index] == "}" { self.index += 1; return .object(fields) }
                    guard case .string(let key) = try self.scalar(stopAtColon: true) else { throw self.fail("flow mapping keys must be strings") }
                    self.skipSpaces()
                    guard self.index < self.chars.count, self.chars[self.index] == ":" else { throw self.fail("expected ':' in a flow mapping") }
                    self.index += 1
                    fields[key] = try self.value()
                    self.skipSpaces()
                    guard self.index < self.chars.count else { throw self.fail("unterminated flow mapping") }
                    if self.chars[self.index] == "," { self.index += 1; continue }
                    guard self.chars[self.index] == "}" else { throw self.fail("expected ',' or '}' in a flow mapping") }
                }
            default:
                return try self.scalar(stopAtColon: false)
            }
        }

        mutating func scalar(stopAtColon: Bool) throws(YAMLError) -> JSONValue {
            self.skipSpaces()
            let start = self.index
            if self.index < self.chars.count, self.chars[self.index] == "\"" || self.chars[self.index] == "'" {
                let quote = self.chars[self.index]
                self.index += 1
                while self.index < self.chars.count {
                    if quote == "\"" && self.chars[self.index] == "\\" { self.index += 2; continue }
                    if self.chars[self.index] == quote {
                        if quote == "'" && self.index + 1 < self.chars.count && self.chars[self.index + 1] == "'" { self.index += 2; continue }
                        self.index += 1
                        break
                    }
                    self.index += 1
                }
                let value = try YAMLScalars.scalar(String(self.chars[start..<min(self.index, self.chars.count)]), line: self.line, column: self.column + start, file: self.file)
                return stopAtColon ? .string(value.stringValue ?? "") : value
            }
            while self.index < self.chars.count {
                let ch = self.chars[self.index]
                if ch == "," || ch == "]" || ch == "}" { break }
                if stopAtColon && ch == ":" { break }
                self.index += 1
            }
            let text = String(self.chars[start..<self.index]).trimmingCharacters(in: .whitespaces)
            return stopAtColon ? .string(text) : YAMLScalars.resolvePlain(text)
        }
    }
}
