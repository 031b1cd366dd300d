import FlapJSON
import Foundation

/// Turns JSON cells into `TrinoValue`s by column type, following how Trino's JSON encoder writes each type.
enum TrinoValueDecoder {
    /// Decodes a cell that was already parsed to JSON (nested values, the generic path).
    static func decode(_ json: JSONValue, as type: TrinoType, column: String) throws(TrinoProtocolError) -> TrinoValue {
        if json == .null { return .null }
        func bad(_ detail: String) -> TrinoProtocolError { .badValue(column: column, type: type.description, detail: detail) }
        func text() throws(TrinoProtocolError) -> String {
            guard let s = json.stringValue else { throw bad("expected a string, got \(json.serialized.prefix(40))") }
            return s
        }
        switch type {
        case .boolean:
            guard let b = json.boolValue else { throw bad("expected true or false, got \(json.serialized.prefix(40))") }
            return .boolean(b)
        case .tinyint, .smallint, .integer, .bigint:
            guard case .number(let n) = json, let v = Int64(n) else { throw bad("expected an integer, got \(json.serialized.prefix(40))") }
            return .integer(v)
        case .real, .double:
            if case .number(let n) = json, let v = Double(n) { return .double(v) }
            guard let v = self.specialDouble(json.stringValue) else { throw bad("expected a number, got \(json.serialized.prefix(40))") }
            return .double(v)
        case .decimal:
            let s = try text()
            guard let d = TrinoDecimal(s) else { throw bad("\"\(s.prefix(40))\" is not a decimal") }
            return .decimal(d)
        case .varchar, .char: return .varchar(try text())
        case .json: return .json(try text())
        case .number: return .number(try text())
        case .ipAddress: return .ipAddress(try text())
        case .varbinary:
            let s = try text()
            guard let data = Data(base64Encoded: s) else { throw bad("not base64") }
            return .varbinary(data)
        case .uuid:
            let s = try text()
            guard let uuid = UUID(uuidString: s) else { throw bad("\"\(s.prefix(40))\" is not a UUID") }
            return .uuid(uuid)
        case .date:
            let s = try text()
            let bytes = Array(s.utf8)
            guard let date = bytes.withUnsafeBufferPointer({ TemporalText.date($0) }) else { throw bad("\"\(s.prefix(40))\" is not YYYY-MM-DD") }
            return .date(date)
        case .time:
            let s = try text()
            guard let time = TemporalText.time(s) else { throw bad("\"\(s.prefix(40))\" is not HH:MM:SS[.f]") }
            return .time(time)
        case .timeWithTimeZone:
            let s = try text()
            guard let (time, offset) = TemporalText.timeWithZone(s) else { throw bad("\"\(s.prefix(40))\" is not HH:MM:SS[.f]+HH:MM") }
            return .timeWithTimeZone(time, offsetMinutes: offset)
        case .timestamp:
            let s = try text()
            guard let ts = TemporalText.timestamp(s) else { throw bad("\"\(s.prefix(40))\" is not YYYY-MM-DD HH:MM:SS[.f]") }
            return .timestamp(ts)
        case .timestampWithTimeZone:
            let s = try text()
            guard let (ts, zone) = TemporalText.timestampWithZone(s) else { throw bad("\"\(s.prefix(40))\" is not a timestamp with a zone") }
            return .timestampWithTimeZone(ts, zone: zone)
        case .intervalYearToMonth:
            let s = try text()
            guard let months = TemporalText.yearToMonth(s) else { throw bad("\"\(s.prefix(40))\" is not Y-M") }
            return .intervalYearToMonth(months: months)
        case .intervalDayToSecond:
            let s = try text()
            guard let millis = TemporalText.dayToSecond(s) else { throw bad("\"\(s.prefix(40))\" is not D HH:MM:SS.mmm") }
            return .intervalDayToSecond(milliseconds: millis)
        case .array(let element):
            guard let items = json.arrayValue else { throw bad("expected an array") }
            var values: [TrinoValue] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try self.decode(item, as: element, column: column)) }
            return .array(values)
        case .map(let keyType, let valueType):
            guard let fields = json.objectValue else { throw bad("expected an object") }
            var entries: [TrinoMapEntry] = []
            for key in fields.keys.sorted() {
                let keyValue = try self.decodeMapKey(key, as: keyType, column: column)
                entries.append(TrinoMapEntry(key: keyValue, value: try self.decode(fields[key]!, as: valueType, column: column)))
            }
            return .map(entries)
        case .row(let fields):
            guard let items = json.arrayValue, items.count == fields.count else { throw bad("expected an array of \(fields.count) fields") }
            var out: [TrinoRowField] = []
            for (field, item) in zip(fields, items) {
                out.append(TrinoRowField(name: field.name, value: try self.decode(item, as: field.type, column: column)))
            }
            return .row(out)
        case .other: return .other(json)
        }
    }

    /// Map keys are always JSON strings; decode them by the key type.
    private static func decodeMapKey(_ key: String, as type: TrinoType, column: String) throws(TrinoProtocolError) -> TrinoValue {
        switch type {
        case .tinyint, .smallint, .integer, .bigint, .real, .double: try self.decode(.number(key), as: type, column: column)
        case .boolean: try self.decode(.bool(key == "true"), as: type, column: column)
        default: try self.decode(.string(key), as: type, column: column)
        }
    }

    static func specialDouble(_ text: String?) -> Double? {
        switch text {
        case "NaN": .nan
        case "Infinity", "+Infinity": .infinity
        case "-Infinity": -.infinity
        default: nil
        }
    }

    /// Decodes the next cell straight from the bytes for common scalar types (the hot path), falling back to JSON.
    static func decodeCell(_ scanner: inout JSONScanner, as type: TrinoType, column: String) throws(TrinoProtocolError) -> TrinoValue {
        do {
            if try scanner.consumeNull() { return .null }
            switch type {
            case .tinyint, .smallint, .integer, .bigint:
                if try scanner.peek() != UInt8(ascii: "\"") { return .integer(try scanner.parseInt64()) }
            case .real, .double:
                if try scanner.peek() != UInt8(ascii: "\"") { return .double(try scanner.parseDouble()) }
            case .varchar, .char:
                return .varchar(try scanner.parseString())
            case .boolean:
                return .boolean(try scanner.parseBool())
            case .date:
                let saved = scanner.index
                if let range = try scanner.rawStringBytes(),
                   let date = TemporalText.date(UnsafeBufferPointer(rebasing: scanner.bytes[range])) {
                    return .date(date)
                }
                scanner.index = saved
            default:
                break
            }
            return try self.decode(try scanner.parseValue(), as: type, column: column)
        } catch let error as JSONError {
            throw .badValue(column: column, type: type.description, detail: error.description)
        } catch let error as TrinoProtocolError {
            throw error
        } catch {
            throw .badValue(column: column, type: type.description, detail: "\(error)")
        }
    }
}
