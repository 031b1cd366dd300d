/// An ordered list of HTTP header fields with case-insensitive lookup.
///
/// Order and spelling are kept as sent, because repeated headers (Trino's
/// `X-Trino-Set-Session`, for instance) carry one value each.
public struct HTTPHeaders: Sendable, Equatable, Sequence, ExpressibleByDictionaryLiteral {
    public struct Field: Sendable, Equatable {
        public var name: String
        public var value: String
        public init(name: String, value: String) {
            self.name = name
            self.value = value
        }
    }

    public private(set) var fields: [Field] = []

    public init() {}

    public init(_ pairs: [(String, String)]) {
        self.fields = pairs.map { Field(name: $0.0, value: $0.1) }
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public var count: Int { self.fields.count }
    public var isEmpty: Bool { self.fields.isEmpty }

    /// The first value of `name`, ignoring case.
    public subscript(name: String) -> String? {
        self.fields.first { $0.name.caseInsensitiveEquals(name) }?.value
    }

    /// Every value of `name`, in order, ignoring case.
    public func values(for name: String) -> [String] {
        self.fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }

    /// Every value of `name`, with comma-joined values split apart (as HTTP stacks that merge repeated headers send them).
    /// Trims spaces and tabs itself: Foundation's `trimmingCharacters` cost 5% of a client polling 5,000 queries.
    public func splitValues(for name: String) -> [String] {
        var values: [String] = []
        for field in self.fields where field.name.caseInsensitiveEquals(name) {
            for piece in field.value.utf8.split(separator: UInt8(ascii: ",")) {
                let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
                guard let start = piece.firstIndex(where: { !isBlank($0) }), let end = piece.lastIndex(where: { !isBlank($0) }) else { continue }
                values.append(String(Substring(piece[start...end])))
            }
        }
        return values
    }

    public func contains(_ name: String) -> Bool { self[name] != nil }

    /// Whether the Connection header lists `option` (`close`, `keep-alive`), as a token in any letter case.
    func connectionOption(_ option: String) -> Bool {
        self.splitValues(for: "Connection").contains { $0.caseInsensitiveEquals(option) }
    }

    public mutating func add(_ name: String, _ value: String) {
        self.fields.append(Field(name: name, value: value))
    }

    /// Replaces every value of `name` with one value.
    public mutating func set(_ name: String, _ value: String) {
        self.remove(name)
        self.add(name, value)
    }

    public mutating func remove(_ name: String) {
        self.fields.removeAll { $0.name.caseInsensitiveEquals(name) }
    }

    public func makeIterator() -> IndexingIterator<[Field]> { self.fields.makeIterator() }
}

extension String {
    /// ASCII case-insensitive equality without allocating (header names are ASCII).
    func caseInsensitiveEquals(_ other: String) -> Bool {
        var a = self.utf8.makeIterator()
        var b = other.utf8.makeIterator()
        while true {
            switch (a.next(), b.next()) {
            case (nil, nil): return true
            case (let x?, let y?):
                if x == y { continue }
                let lx = x >= 65 && x <= 90 ? x + 32 : x
                let ly = y >= 65 && y <= 90 ? y + 32 : y
                if lx != ly { return false }
            default: return false
            }
        }
    }
}

import Foundation
