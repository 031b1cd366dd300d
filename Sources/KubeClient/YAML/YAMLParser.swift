import FlapJSON
import Foundation

/// Where a YAML document went wrong.
public struct YAMLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String?
    public var line: Int
    public var column: Int
    public var message: String

    public var description: String { "\(self.file ?? "<yaml>"):\(self.line):\(self.column): \(self.message)" }
}

/// Parses the YAML subset that kubeconfigs and Kubernetes manifests use into JSON values:
/// block and flow mappings and sequences; plain, single- and double-quoted scalars; literal (`|`) and folded
/// (`>`) block scalars with chomping; comments; `---` documents. Plain scalars resolve by the core schema
/// (`null`, `~`, booleans, integers, floats); everything else is a string. Anchors, aliases and tags are refused.
public enum YAML {
    public static func parseDocuments(_ text: String, file: String? = nil) throws(YAMLError) -> [JSONValue] {
        var documents: [[SourceLine]] = [[]]
        for (index, raw) in text.replacingOccurrences(of: "\r\n", with: "\n").split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = String(raw)
            if line.hasPrefix("---") && (line.count == 3 || line.dropFirst(3).first == " ") {
                documents.append([])
                let rest = line.dropFirst(3).trimmingCharacters(in: .whitespaces)
                if !rest.isEmpty && !rest.hasPrefix("#") { documents[documents.count - 1].append(SourceLine(number: index + 1, raw: "   " + rest)) }
                continue
            }
            if line == "..." { documents.append([]); continue }
            if line.hasPrefix("%") { continue }   // directives
            documents[documents.count - 1].append(SourceLine(number: index + 1, raw: line))
        }
        var values: [JSONValue] = []
        for lines in documents {
            var parser = YAMLBlockParser(lines: lines, file: file)
            if let value = try parser.parseDocument() { values.append(value) }
        }
        return values
    }

    /// Parses a single-document YAML text (an empty document is `null`).
    public static func parse(_ text: String, file: String? = nil) throws(YAMLError) -> JSONValue {
        let documents = try self.parseDocuments(text, file: file)
        guard documents.count <= 1 else {
            throw YAMLError(file: file, line: 1, column: 1, message: "expected one YAML document, found \(documents.count)")
        }
        return documents.first ?? .null
    }
}

struct SourceLine {
    let number: Int
    var indent: Int
    var text: String
    let rawText: String

    init(number: Int, raw: String) {
        self.number = number
        self.rawText = raw
        let indent = raw.prefix { $0 == " " }.count
        self.indent = indent
        self.text = YAMLScalars.stripComment(String(raw.dropFirst(indent))).trimmingTrailingWhitespace()
    }

    var isBlank: Bool { self.text.isEmpty }
    var isSequenceItem: Bool { self.text == "-" || self.text.hasPrefix("- ") }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var s = Substring(self)
        while let last = s.last, last == " " || last == "\t" { s = s.dropLast() }
        return String(s)
    }
}

struct YAMLBlockParser {
    var lines: [SourceLine]
    let file: String?
    private var position = 0

    init(lines: [SourceLine], file: String?) {
        self.lines = lines
        self.file = file
    }

    func error(_ message: String, line: SourceLine? = nil, column: Int? = nil) -> YAMLError {
        let at = line ?? (self.position < self.lines.count ? self.lines[self.position] : self.lines.last)
        return YAMLError(file: self.file, line: at?.number ?? 1, column: column ?? ((at?.indent ?? 0) + 1), message: message)
    }

    mutating func skipBlank() {
        while self.position < self.lines.count, self.lines[self.position].isBlank { self.position += 1 }
    }

    var current: SourceLine? {
        self.position < self.lines.count ? self.lines[self.position] : nil
    }

    mutating func parseDocument() throws(YAMLError) -> JSONValue? {
        self.skipBlank()
        guard let first = self.current else { return nil }
        let value = try self.parseBlock(indent: first.indent)
        self.skipBlank()
        if let extra = self.current { throw self.error("unexpected content (bad indentation?)", line: extra) }
        return value
    }

    /// Nesting deeper than this is refused (each level recurses; Kubernetes manifests nest a few dozen at most).
    static let maxDepth = 100
    private var depth = 0

    /// Parses the node that starts at the current line, whose indentation is `indent`.
    mutating func parseBlock(indent: Int) throws(YAMLError) -> JSONValue {
        self.skipBlank()
        guard let line = self.current else { return .null }
        guard self.depth < Self.maxDepth else { throw self.error("nesting deeper than \(Self.maxDepth) levels", line: line) }
        self.depth += 1
        defer { self.depth -= 1 }
        if line.isSequenceItem { return try self.parseSequence(indent: line.indent) }
        if YAMLScalars.mappingKey(line.text) != nil { return try self.parseMapping(indent: line.indent) }
        return try self.parseScalarLines(indent: indent)
    }

    private mutating func parseSequence(indent: Int) throws(YAMLError) -> JSONValue {
        var items: [JSONValue] = []
        while true {
            self.skipBlank()
            guard let line = self.current, line.indent == indent, line.isSequenceItem else { break }
            let content = line.text == "-" ? "" : String(line.text.dropFirst(2))
            let offset = line.text.count - content.trimmingCharacters(in: .whitespaces).count
            let trimmed = content.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty {
                self.position += 1
                self.skipBlank()
                if let next = self.current, next.indent > indent {
                    items.append(try self.parseBlock(indent: next.indent))
                } else {
                    items.append(.null)
                }
            } else {
                // The item's content becomes a line of its own, indented where the content starts.
                self.lines[self.position].indent = indent + offset
                self.lines[self.position].text = trimmed
                items.append(try self.parseBlock(indent: indent + offset))
            }
        }
        return .array(items)
    }

    private mutating func parseMapping(indent: Int) throws(YAMLError) -> JSONValue {
        var fields: [String: JSONValue] = [:]
        while true {
            self.skipBlank()
            guard let line = self.current, line.indent == indent else {
                if let line = self.current, line.indent > indent { throw self.error("unexpected indentation", line: line) }
                break
            }
            guard !line.isSequenceItem else { break }
            guard let (rawKey, rest) = YAMLScalars.mappingKey(line.text) else {
                throw self.error("expected \"key: value\"", line: line)
            }
            let key = try YAMLScalars.key(rawKey, line: line, parser: self)
            if fields[key] != nil { throw self.error("duplicate key \"\(key)\"", line: line) }
            let value = rest.trimmingCharacters(in: .whitespaces)
            let valueColumn = line.indent + line.text.count - rest.count + (rest.count - rest.drop { $0 == " " }.count) + 1
            if value.isEmpty {
                self.position += 1
                self.skipBlank()
                if let next = self.current, next.indent > indent || (next.indent == indent && next.isSequenceItem) {
                    fields[key] = try self.parseBlock(indent: next.indent)
                } else {
                    fields[key] = .null
                }
            } else if value.hasPrefix("|") || value.hasPrefix(">") {
                self.position += 1
                fields[key] = .string(try self.parseBlockScalar(header: value, parentIndent: indent, line: line))
            } else {
                fields[key] = try self.parseInlineValue(value, line: line, column: valueColumn, parentIndent: indent)
            }
        }
        return .object(fields)
    }

    /// A value on the key's line: a flow collection (possibly continued on more lines), a quoted or plain scalar.
    private mutating func parseInlineValue(_ first: String, line: SourceLine, column: Int, parentIndent: Int) throws(YAMLError) -> JSONValue {
        var text = first
        self.position += 1
        if text.hasPrefix("[") || text.hasPrefix("{") {
            while !YAMLFlow.isBalanced(text), let next = self.current {
                text += " " + next.text
                self.position += 1
            }
            return try YAMLFlow.parse(text, line: line, column: column, file: self.file)
        }
        if text.hasPrefix("\"") || text.hasPrefix("'") {
            while !YAMLScalars.quoteClosed(text), let next = self.current {
                text += next.isBlank ? "\n" : " " + next.text
                self.position += 1
            }
        } else {
            // Plain multi-line scalars continue on more-indented lines.
            while let next = self.current, next.indent > parentIndent, !next.isBlank, YAMLScalars.mappingKey(next.text) == nil, !next.isSequenceItem {
                text += " " + next.text
                self.position += 1
            }
        }
        return try YAMLScalars.scalar(text, line: line, column: column, file: self.file)
    }

    private mutating func parseScalarLines(indent: Int) throws(YAMLError) -> JSONValue {
        guard let line = self.current else { return .null }
        return try self.parseInlineValue(line.text, line: line, column: line.indent + 1, parentIndent: indent - 1)
    }

    /// `|` or `>` with optional chomping (`-`, `+`) and indentation digit.
    private mutating func parseBlockScalar(header: String, parentIndent: Int, line: SourceLine) throws(YAMLError) -> String {
        let literal = header.hasPrefix("|")
        var chomp: Character = " "
        var explicitIndent: Int?
        for ch in header.dropFirst() {
            if ch == "-" || ch == "+" { chomp = ch } else if let d = ch.wholeNumberValue, d > 0 { explicitIndent = d } else if ch != " " {
                throw self.error("bad block scalar header \"\(header)\"", line: line)
            }
        }
        var contentLines: [(Int, String)] = []
        var blockIndent: Int? = explicitIndent.map { parentIndent + $0 }
        while self.position < self.lines.count {
            let number = self.lines[self.position].number
            let raw = self.rawLine(self.position)
            let lineIndent = raw.prefix { $0 == " " }.count
            let isBlank = raw.trimmingCharacters(in: .whitespaces).isEmpty
            if !isBlank {
                if blockIndent == nil { blockIndent = lineIndent }
                guard lineIndent >= blockIndent!, lineIndent > parentIndent else { break }
            }
            contentLines.append((number, isBlank ? "" : String(raw.dropFirst(blockIndent ?? 0))))
            self.position += 1
        }
        var trailingBlank = 0
        while let last = contentLines.last, last.1.isEmpty { contentLines.removeLast(); trailingBlank += 1 }
        var text = ""
        if literal {
            text = contentLines.map(\.1).joined(separator: "\n")
        } else {
            var previousBlank = true
            for (_, content) in contentLines {
                if content.isEmpty { text += "\n"; previousBlank = true; continue }
                if !previousBlank && !text.isEmpty && !text.hasSuffix("\n") { text += content.hasPrefix(" ") ? "\n" : " " }
                text += content
                previousBlank = false
            }
        }
        switch chomp {
        case "-": return text
        case "+": return text.isEmpty ? String(repeating: "\n", count: trailingBlank) : text + "\n" + String(repeating: "\n", count: trailingBlank)
        default: return text.isEmpty ? "" : text + "\n"
        }
    }

    /// Block scalars keep comments and spacing, so they read the unprocessed line.
    private func rawLine(_ index: Int) -> String {
        let line = self.lines[index]
        return line.rawText
    }
}
