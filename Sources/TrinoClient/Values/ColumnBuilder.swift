import FlapJSON

/// Decodes one column's cells straight from the JSON bytes into its storage, following how Trino's JSON encoder
/// writes each type; a cell that does not fit its type is an error naming the column.
struct ColumnBuilder {
    private enum Storage {
        case integers([Int64])
        case doubles([Double])
        case booleans([Bool])
        case dates([Int32])
        case text(TextColumn)
        case timestamps(TimestampColumn)
        case decimals([Int64], scale: Int)
        case values([TrinoValue])
    }

    let type: TrinoType
    let name: String
    private var storage: Storage
    private var nulls = NullMask()
    private var count = 0
    private var zoneIndex: [TrinoTimeZone: UInt32] = [:]

    init(_ column: TrinoColumn, capacity: Int, textCapacity: Int = 0) {
        self.type = column.type
        self.name = column.name
        switch column.type {
        case .tinyint, .smallint, .integer, .bigint: self.storage = .integers(Self.reserved(capacity))
        case .real, .double: self.storage = .doubles(Self.reserved(capacity))
        case .boolean: self.storage = .booleans(Self.reserved(capacity))
        case .date: self.storage = .dates(Self.reserved(capacity))
        case .timestamp, .timestampWithTimeZone: self.storage = .timestamps(TimestampColumn(capacity: capacity, zoned: { if case .timestampWithTimeZone = column.type { true } else { false } }()))
        case .decimal(let precision, let scale) where precision <= 18: self.storage = .decimals(Self.reserved(capacity), scale: scale)
        case .varchar, .char, .json, .number, .ipAddress, .decimal, .varbinary, .uuid, .time, .timeWithTimeZone,
             .intervalYearToMonth, .intervalDayToSecond:
            var text = TextColumn()
            text.ends.reserveCapacity(capacity)
            text.arena.reserveCapacity(textCapacity)
            text.isPlainText = { if case .varchar = column.type { true } else if case .char = column.type { true } else { false } }()
            self.storage = .text(text)
        case .array, .map, .row, .other: self.storage = .values(Self.reserved(capacity))
        }
    }

    private static func reserved<T>(_ capacity: Int) -> [T] {
        var array: [T] = []
        array.reserveCapacity(capacity)
        return array
    }

    func bad(_ detail: String) -> TrinoProtocolError { .badValue(column: self.name, type: self.type.description, detail: detail) }

    /// Reads the next cell.
    mutating func append(_ scanner: inout JSONScanner) throws(TrinoProtocolError) {
        do {
            try self.read(&scanner)
        } catch let error as JSONError {
            throw self.bad(error.description)
        } catch let error as TrinoProtocolError {
            throw error
        } catch {
            throw self.bad("\(error)")
        }
        self.count += 1
    }

    private mutating func read(_ scanner: inout JSONScanner) throws {
        let isNull = try scanner.consumeNull()
        if isNull { self.nulls.insert(self.count) }
        switch self.storage {
        case .integers(var values):
            self.storage = .values([])  // keeps `values` uniquely referenced while it grows
            defer { self.storage = .integers(values) }
            if isNull { values.append(0); return }
            guard try scanner.peek() != UInt8(ascii: "\"") else {
                throw self.bad("expected an integer, got \(JSONValue.string(try scanner.parseString()).serialized.prefix(40))")
            }
            values.append(try scanner.parseInt64())
        case .doubles(var values):
            self.storage = .values([])
            defer { self.storage = .doubles(values) }
            if isNull { values.append(0); return }
            if try scanner.peek() == UInt8(ascii: "\"") {
                let text = try scanner.parseString()
                guard let special = TrinoValueDecoder.specialDouble(text) else { throw self.bad("expected a number, got \"\(text.prefix(40))\"") }
                values.append(special)
            } else {
                values.append(try scanner.parseDouble())
            }
        case .booleans(var values):
            self.storage = .values([])
            defer { self.storage = .booleans(values) }
            values.append(isNull ? false : try scanner.parseBool())
        case .dates(var days):
            self.storage = .values([])
            defer { self.storage = .dates(days) }
            if isNull { days.append(0); return }
            days.append(Int32(try self.date(&scanner).daysSinceEpoch))
        case .text(var text):
            self.storage = .values([])
            defer { self.storage = .text(text) }
            if !isNull { try self.appendText(&scanner, to: &text) }
            text.ends.append(UInt32(text.arena.count))
        case .decimals(var unscaled, let scale):
            self.storage = .values([])
            if isNull { unscaled.append(0); self.storage = .decimals(unscaled, scale: scale); return }
            let saved = scanner.index
            if let range = try scanner.rawStringBytes(),
               let value = DecimalText.unscaled(UnsafeBufferPointer(rebasing: scanner.bytes[range]), scale: scale) {
                unscaled.append(value)
                self.storage = .decimals(unscaled, scale: scale)
                return
            }
            // Not written canonically: this column keeps text from here on, earlier values rewritten as text.
            scanner.index = saved
            var text = TextColumn()
            text.isPlainText = false
            for (row, value) in unscaled.enumerated() {
                if !self.nulls.contains(row) { text.arena.append(contentsOf: DecimalText.text(value, scale: scale).utf8) }
                text.ends.append(UInt32(text.arena.count))
            }
            try self.appendText(&scanner, to: &text)
            text.ends.append(UInt32(text.arena.count))
            self.storage = .text(text)
        case .timestamps(var timestamps):
            self.storage = .values([])
            defer { self.storage = .timestamps(timestamps) }
            try self.appendTimestamp(&scanner, isNull: isNull, to: &timestamps)
        case .values(var values):
            self.storage = .values([])
            defer { self.storage = .values(values) }
            values.append(isNull ? .null : try TrinoValueDecoder.decode(try scanner.parseValue(), as: self.type, column: self.name))
        }
    }

    private func date(_ scanner: inout JSONScanner) throws -> TrinoDate {
        let saved = scanner.index
        if let range = try scanner.rawStringBytes(), let date = TemporalText.date(UnsafeBufferPointer(rebasing: scanner.bytes[range])) {
            return date
        }
        scanner.index = saved
        let text = try scanner.parseString()
        guard let date = Array(text.utf8).withUnsafeBufferPointer({ TemporalText.date($0) }) else { throw self.bad("\"\(text.prefix(40))\" is not YYYY-MM-DD") }
        return date
    }

    private mutating func appendTimestamp(_ scanner: inout JSONScanner, isNull: Bool, to column: inout TimestampColumn) throws {
        let withZone = { if case .timestampWithTimeZone = self.type { true } else { false } }()
        if isNull { return column.appendNull(withZone: withZone) }
        let saved = scanner.index
        if let range = try scanner.rawStringBytes() {
            try self.appendTimestamp(UnsafeBufferPointer(rebasing: scanner.bytes[range]), withZone: withZone, to: &column)
        } else {
            scanner.index = saved
            let unescaped = Array(try scanner.parseString().utf8)
            try unescaped.withUnsafeBufferPointer { try self.appendTimestamp($0, withZone: withZone, to: &column) }
        }
    }

    private mutating func appendTimestamp(_ bytes: UnsafeBufferPointer<UInt8>, withZone: Bool, to column: inout TimestampColumn) throws {
        if withZone {
            guard let (timestamp, zone) = TemporalText.timestampWithZone(bytes) else {
                throw self.bad("\"\(String(decoding: bytes, as: UTF8.self).prefix(40))\" is not a timestamp with a zone")
            }
            let index = self.zoneIndex[zone] ?? {
                let index = UInt32(column.zones.count)
                column.zones.append(zone)
                self.zoneIndex[zone] = index
                return index
            }()
            column.append(timestamp, zone: index)
        } else {
            var i = 0
            guard let timestamp = TemporalText.timestamp(bytes, &i), i == bytes.count else {
                throw self.bad("\"\(String(decoding: bytes, as: UTF8.self).prefix(40))\" is not YYYY-MM-DD HH:MM:SS[.f]")
            }
            column.append(timestamp, zone: nil)
        }
    }

    /// Copies a string's UTF-8 into the arena (unescaping only when it has escapes), then checks it fits the type.
    private func appendText(_ scanner: inout JSONScanner, to text: inout TextColumn) throws {
        guard try scanner.peek() == UInt8(ascii: "\"") else { throw self.bad("expected a string") }
        let start = text.arena.count
        try scanner.appendString(to: &text.arena)
        guard !text.isPlainText else { return }
        // Other types are text on the wire but must parse as their type, as the row decoder always required.
        switch self.type {
        case .json, .number, .ipAddress: return
        default: break
        }
        let valid = text.arena[start...].withUnsafeBufferPointer { TemporalText.isValid($0, as: self.type) }
        if valid == true { return }
        let value = String(decoding: text.arena[start...], as: UTF8.self)
        if valid == false, case .decimal = self.type { throw self.bad("\"\(value.prefix(40))\" is not a decimal") }
        // Decoding names what is wrong (or, for types without a byte-level check, checks it).
        _ = try TrinoValueDecoder.decode(.string(value), as: self.type, column: self.name)
        if valid == false { throw self.bad("\"\(value.prefix(40))\" is not a \(self.type)") }
    }

    /// The column, each buffer copied to its exact size: growth leaves up to twice the capacity, and a page kept by
    /// `execute()` should hold only what it uses (the spare capacity was a fifth of a million rows' memory).
    func finish() -> ColumnData {
        switch self.storage {
        case .integers(let values): .integers(values.exactCopy(), self.nulls)
        case .doubles(let values): .doubles(values.exactCopy(), self.nulls)
        case .booleans(let values): .booleans(values.exactCopy(), self.nulls)
        case .dates(let days): .dates(days.exactCopy(), self.nulls)
        case .text(var text):
            { text.arena = text.arena.exactCopy(); text.ends = text.ends.exactCopy(); return .text(text, self.nulls) }()
        case .timestamps(var column):
            {
                column.days = column.days.exactCopy()
                column.picoseconds = column.picoseconds.exactCopy()
                column.precision = column.precision.exactCopy()
                column.zone = column.zone.exactCopy()
                return .timestamps(column, self.nulls)
            }()
        case .decimals(let unscaled, let scale): .decimals(unscaled.exactCopy(), scale: scale, self.nulls)
        case .values(let values): .values(values)
        }
    }
}

extension Array {
    /// A copy whose capacity is its count (unless it is already close).
    func exactCopy() -> [Element] {
        guard self.capacity > self.count + self.count / 16 + 16 else { return self }
        return self.withUnsafeBufferPointer { [Element]($0) }
    }
}
