#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The object keys a decoder knows, matched against a key's raw bytes: no String is made per key, and no chain of
/// string comparisons runs (a Trino client reads about twenty keys on every poll).
package struct JSONKeys<Key: RawRepresentable & CaseIterable & Sendable>: Sendable where Key.RawValue == String {
    private let table: JSONKeyTable
    private let keys: [Key]

    package init() {
        self.keys = Array(Key.allCases)
        self.table = JSONKeyTable(self.keys.map(\.rawValue))
    }

    package func match(_ bytes: UnsafeBufferPointer<UInt8>) -> Key? {
        self.table.index(of: bytes).map { self.keys[$0] }
    }
}

/// Keys laid end to end in one buffer, compared by length and then by memcmp (kept free of generics, which
/// cross-module calls do not specialize).
struct JSONKeyTable: Sendable {
    private let bytes: [UInt8]
    private let ends: [Int]

    init(_ keys: [String]) {
        self.bytes = keys.flatMap(\.utf8)
        var end = 0
        self.ends = keys.map { end += $0.utf8.count; return end }
    }

    func index(of key: UnsafeBufferPointer<UInt8>) -> Int? {
        guard let wanted = key.baseAddress else { return nil }
        return self.bytes.withUnsafeBufferPointer { all -> Int? in
            var start = 0
            for (position, end) in self.ends.enumerated() {
                if end - start == key.count, memcmp(all.baseAddress! + start, wanted, key.count) == 0 { return position }
                start = end
            }
            return nil
        }
    }
}

extension JSONScanner {
    /// Reads an object key and the colon after it: the known key, or nil for any other.
    package mutating func key<Key>(_ keys: JSONKeys<Key>) throws(JSONError) -> Key? {
        let key: Key?
        if let range = try self.rawStringBytes() {
            key = keys.match(UnsafeBufferPointer(rebasing: self.bytes[range]))
        } else {
            key = Key(rawValue: try self.parseString())
        }
        try self.expect(UInt8(ascii: ":"))
        return key
    }
}
