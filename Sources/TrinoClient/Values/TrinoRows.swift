/// Rows of a result, stored by column: typed buffers (Int64, Double, Bool, days), strings in one UTF-8 arena with
/// offsets, and a null bitmap per column, so a million rows cost a few bytes per value instead of a 72-byte
/// `TrinoValue` each. Rows and cells are views: `rows[i][j]` builds the `TrinoValue` when it is read, and the typed
/// accessors (`int64`, `double`, `string`, `date`, ...) read the buffers without building one.
public struct TrinoRows: RandomAccessCollection, Sendable, Equatable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    /// Pages appended by `execute()` stay as they were decoded; a row index finds its page by binary search.
    let pages: [ColumnStore]
    private let starts: [Int]

    init(pages: [ColumnStore]) {
        self.pages = pages.filter { $0.rowCount > 0 }
        var starts: [Int] = []
        var total = 0
        for page in self.pages {
            starts.append(total)
            total += page.rowCount
        }
        self.starts = starts + [total]
    }

    init(_ store: ColumnStore) { self.init(pages: [store]) }

    /// The sizes of the last page held, to size the next page of the same query.
    var lastPageSizes: PageSizes? { self.pages.last?.sizes }

    /// Rows built from values (tests, fakes); columns without a type keep each value as given.
    public init(_ rows: [[TrinoValue]]) {
        self.init(ColumnStore(values: rows))
    }

    public init(arrayLiteral rows: [TrinoValue]...) { self.init(rows) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.starts.last ?? 0 }

    public subscript(position: Int) -> TrinoRow {
        precondition(position >= 0 && position < self.endIndex, "row \(position) is out of range 0..<\(self.endIndex)")
        var low = 0, high = self.pages.count - 1
        while low < high {
            let middle = (low + high + 1) / 2
            if self.starts[middle] <= position { low = middle } else { high = middle - 1 }
        }
        return TrinoRow(store: self.pages[low], index: position - self.starts[low])
    }

    /// These rows followed by `other`'s, without copying either.
    public static func + (lhs: TrinoRows, rhs: TrinoRows) -> TrinoRows { TrinoRows(pages: lhs.pages + rhs.pages) }

    public static func += (lhs: inout TrinoRows, rhs: TrinoRows) { lhs = lhs + rhs }

    /// Every row as values (allocates them all; for small results and tests).
    public var values: [[TrinoValue]] { self.map(\.values) }

    public static func == (lhs: TrinoRows, rhs: TrinoRows) -> Bool { lhs.elementsEqual(rhs) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(self.count)
        for row in self { hasher.combine(row) }
    }

    public var description: String { self.values.description }
}

/// One row: a view into its page's columns.
public struct TrinoRow: RandomAccessCollection, Sendable, Equatable, Hashable, ExpressibleByArrayLiteral, CustomStringConvertible {
    let store: ColumnStore
    let index: Int

    init(store: ColumnStore, index: Int) {
        self.store = store
        self.index = index
    }

    public init(arrayLiteral values: TrinoValue...) {
        self.init(store: ColumnStore(values: [values]), index: 0)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { self.store.columnCount }

    /// The value in `column`, built from the column's storage.
    public subscript(column: Int) -> TrinoValue { self.store.value(column: column, row: self.index) }

    /// The value of the first column named `name`, or nil when there is none.
    public subscript(name: String) -> TrinoValue? { self.store.columnIndex(name).map { self[$0] } }

    public func isNull(_ column: Int) -> Bool { self.store.isNull(column: column, row: self.index) }

    /// tinyint to bigint, without building a value; nil for null or another type.
    public func int64(_ column: Int) -> Int64? { self.store.int64(column: column, row: self.index) }
    /// real and double.
    public func double(_ column: Int) -> Double? { self.store.double(column: column, row: self.index) }
    public func bool(_ column: Int) -> Bool? { self.store.bool(column: column, row: self.index) }
    /// varchar, char, json, decimal, number and ipaddress as text.
    public func string(_ column: Int) -> String? { self.store.string(column: column, row: self.index) }
    public func date(_ column: Int) -> TrinoDate? { self.store.date(column: column, row: self.index) }
    public func timestamp(_ column: Int) -> TrinoTimestamp? {
        switch self[column] {
        case .timestamp(let value), .timestampWithTimeZone(let value, _): value
        default: nil
        }
    }

    public func int64(_ name: String) -> Int64? { self.store.columnIndex(name).flatMap(self.int64) }
    public func double(_ name: String) -> Double? { self.store.columnIndex(name).flatMap(self.double) }
    public func string(_ name: String) -> String? { self.store.columnIndex(name).flatMap(self.string) }
    public func date(_ name: String) -> TrinoDate? { self.store.columnIndex(name).flatMap(self.date) }

    /// The row as values.
    public var values: [TrinoValue] { Array(self) }

    public static func == (lhs: TrinoRow, rhs: TrinoRow) -> Bool { lhs.elementsEqual(rhs) }
    public func hash(into hasher: inout Hasher) { for value in self { hasher.combine(value) } }
    public var description: String { self.values.description }
}

public func == (lhs: TrinoRow, rhs: [TrinoValue]) -> Bool { lhs.elementsEqual(rhs) }
public func == (lhs: TrinoRows, rhs: [[TrinoValue]]) -> Bool { lhs.elementsEqual(rhs) { $0 == $1 } }
public func != (lhs: TrinoRow, rhs: [TrinoValue]) -> Bool { !(lhs == rhs) }
public func != (lhs: TrinoRows, rhs: [[TrinoValue]]) -> Bool { !(lhs == rhs) }
