import FlapJSON
/// One response of the statement protocol (`QueryResults`), decoded leniently: unknown fields are ignored.
public struct QueryResults: Sendable {
    public var id: String {
        get { self.fields.id }
        set { self.uniqueFields().id = newValue }
    }
    public var infoURI: String {
        get { self.fields.infoURI }
        set { self.uniqueFields().infoURI = newValue }
    }
    public var partialCancelURI: String? {
        get { self.fields.partialCancelURI }
        set { self.uniqueFields().partialCancelURI = newValue }
    }
    /// Absent when the query is done (finished or failed).
    public var nextURI: String? {
        get { self.fields.nextURI }
        set { self.uniqueFields().nextURI = newValue }
    }
    public var columns: [TrinoColumn]? {
        get { self.fields.columns }
        set { self.uniqueFields().columns = newValue }
    }
    /// Rows of the classic protocol (`data` as an array), stored by column.
    public var rows: TrinoRows {
        get { self.fields.rows }
        set { self.uniqueFields().rows = newValue }
    }
    /// Segments of the spooling protocol (`data` as an object).
    public var spooled: SpooledData? {
        get { self.fields.spooled }
        set { self.uniqueFields().spooled = newValue }
    }
    public var stats: StatementStats {
        get { self.fields.stats }
        set { self.uniqueFields().stats = newValue }
    }
    public var error: TrinoQueryError? {
        get { self.fields.error }
        set { self.uniqueFields().error = newValue }
    }
    public var warnings: [TrinoWarning] {
        get { self.fields.warnings }
        set { self.uniqueFields().warnings = newValue }
    }
    public var updateType: String? {
        get { self.fields.updateType }
        set { self.uniqueFields().updateType = newValue }
    }
    public var updateCount: Int64? {
        get { self.fields.updateCount }
        set { self.uniqueFields().updateCount = newValue }
    }

    /// The fields in one box, copied on write: a response passes through every frame of the polling loop, and an
    /// async frame keeps a slot for each copy that lives across a suspension, so 385 bytes held inline were
    /// kilobytes of every in-flight query's task memory.
    private final class Fields: @unchecked Sendable {  // mutated only while uniquely referenced
        var id: String
        var infoURI: String
        var partialCancelURI: String?
        var nextURI: String?
        var columns: [TrinoColumn]?
        var rows: TrinoRows
        var spooled: SpooledData?
        var stats: StatementStats
        var error: TrinoQueryError?
        var warnings: [TrinoWarning]
        var updateType: String?
        var updateCount: Int64?

        init(id: String, infoURI: String, partialCancelURI: String?, nextURI: String?, columns: [TrinoColumn]?, rows: TrinoRows, spooled: SpooledData?, stats: StatementStats, error: TrinoQueryError?, warnings: [TrinoWarning], updateType: String?, updateCount: Int64?) {
            self.id = id
            self.infoURI = infoURI
            self.partialCancelURI = partialCancelURI
            self.nextURI = nextURI
            self.columns = columns
            self.rows = rows
            self.spooled = spooled
            self.stats = stats
            self.error = error
            self.warnings = warnings
            self.updateType = updateType
            self.updateCount = updateCount
        }

        func copy() -> Fields {
            Fields(id: self.id, infoURI: self.infoURI, partialCancelURI: self.partialCancelURI, nextURI: self.nextURI, columns: self.columns, rows: self.rows, spooled: self.spooled, stats: self.stats, error: self.error, warnings: self.warnings, updateType: self.updateType, updateCount: self.updateCount)
        }
    }

    private var fields: Fields

    init(id: String, infoURI: String, partialCancelURI: String?, nextURI: String?, columns: [TrinoColumn]?, rows: TrinoRows, spooled: SpooledData?, stats: StatementStats, error: TrinoQueryError?, warnings: [TrinoWarning], updateType: String?, updateCount: Int64?) {
        self.fields = Fields(id: id, infoURI: infoURI, partialCancelURI: partialCancelURI, nextURI: nextURI, columns: columns, rows: rows, spooled: spooled, stats: stats, error: error, warnings: warnings, updateType: updateType, updateCount: updateCount)
    }

    private mutating func uniqueFields() -> Fields {
        if !isKnownUniquelyReferenced(&self.fields) { self.fields = self.fields.copy() }
        return self.fields
    }

    /// Decodes a response body. `knownColumns` types rows when this response has data but no columns.
    public static func decode(_ body: [UInt8], knownColumns: [TrinoColumn]? = nil) throws(TrinoProtocolError) -> QueryResults {
        try self.decode(body, knownColumns: knownColumns, sizes: nil)
    }

    /// `sizes`: the query's previous page, to size this page's buffers.
    static func decode(_ body: [UInt8], knownColumns: [TrinoColumn]?, sizes: PageSizes?) throws(TrinoProtocolError) -> QueryResults {
        var outcome: Result<QueryResults, TrinoProtocolError> = .failure(.missingField("id"))
        body.withUnsafeBufferPointer { buffer in
            outcome = Result { () throws(TrinoProtocolError) -> QueryResults in
                try self.decode(buffer, knownColumns: knownColumns, sizes: sizes)
            }
        }
        return try outcome.get()
    }

    private static func decode(_ buffer: UnsafeBufferPointer<UInt8>, knownColumns: [TrinoColumn]?, sizes: PageSizes?) throws(TrinoProtocolError) -> QueryResults {
        var scanner = JSONScanner(buffer)
        // Strings are read straight into their fields (a poll carries five); anything else waits as a JSON value.
        var texts = Texts()
        var values: [Field: JSONValue] = [:]
        var dataRange: Range<Int>?
        var directRows: TrinoRows?
        var parsedColumns: [TrinoColumn]?
        var columnsRepeated = false
        var stats: StatementStats?
        do {
            try scanner.expect(UInt8(ascii: "{"))
            if try !scanner.consume(UInt8(ascii: "}")) {
                repeat {
                    let field = try scanner.key(Self.keys)
                    let next = try scanner.peek()
                    if let field, !values.isEmpty { values[field] = nil }
                    switch field {
                    case .data? where next == UInt8(ascii: "["):
                        // Trino writes columns before data: decode rows in this one pass when we can.
                        if let columns = parsedColumns ?? knownColumns {
                            directRows = try RowDecoder.decodeRows(&scanner, columns: columns, sizes: sizes)
                        } else {
                            dataRange = try scanner.skipValue()
                        }
                    case .columns? where knownColumns != nil && next != UInt8(ascii: "n"):
                        // A query's columns never change once sent: a poll that repeats them is not decoded again
                        // (re-decoding them was a tenth of a polling engine's CPU).
                        _ = try scanner.skipValue()
                        columnsRepeated = true
                    case .columns?:
                        let value = try scanner.parseValue()
                        values[.columns] = value
                        parsedColumns = try? self.columns(value)
                    case .stats? where next == UInt8(ascii: "{"):
                        stats = try StatementStats(&scanner)
                    case let field? where Texts.holds(field):
                        texts[field] = next == UInt8(ascii: "\"") ? try scanner.parseString() : nil
                        if texts[field] == nil { values[field] = try scanner.parseValue() }
                    case let field?:
                        values[field] = try scanner.parseValue()
                    case nil:
                        _ = try scanner.skipValue()
                    }
                } while try scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "}"))
            }
            try scanner.expectEnd()
        } catch let error as JSONError {
            throw .notJSON(status: 200, contentType: nil, uri: "", bodyExcerpt: "", parseError: error.description)
        } catch let error as TrinoProtocolError {
            throw error
        } catch {
            throw .notJSON(status: 200, contentType: nil, uri: "", bodyExcerpt: "", parseError: "\(error)")
        }
        guard let id = texts.id else { throw .missingField("id") }
        guard let infoURI = texts.infoURI else { throw .missingField("infoUri") }
        guard let stats else { throw .missingField("stats") }
        if let other = values[.nextUri], !other.isNull { throw .wrongType(field: "nextUri", expected: "a string") }
        var results = QueryResults(
            id: id, infoURI: infoURI, partialCancelURI: texts.partialCancelURI, nextURI: texts.nextURI,
            columns: nil, rows: TrinoRows(pages: []), spooled: nil, stats: stats, error: nil, warnings: [],
            updateType: texts.updateType, updateCount: values[.updateCount]?.int64Value)
        if let columns = values[.columns] {
            results.columns = try self.columns(columns)
        } else if columnsRepeated {
            results.columns = knownColumns
        }
        if let rows = directRows { results.rows = rows }
        if let range = dataRange {
            guard let columns = results.columns ?? knownColumns else { throw .missingField("columns (data arrived without columns)") }
            results.rows = try RowDecoder.decodeRows(buffer, range: range, columns: columns, sizes: sizes)
        } else if let data = values[.data], !data.isNull {
            guard data.objectValue != nil else { throw .wrongType(field: "data", expected: "an array of rows or a spooled-data object") }
            results.spooled = try SpooledData(json: data)
        }
        if let error = values[.error], !error.isNull {
            results.error = try TrinoQueryError(queryID: id, json: error)
        }
        results.warnings = (values[.warnings]?.arrayValue ?? []).map(TrinoWarning.init(json:))
        return results
    }

    /// The top-level fields a response may carry; others are skipped.
    private enum Field: String, CaseIterable, Sendable {
        case id, infoUri, partialCancelUri, nextUri, columns, data, stats, error, warnings, updateType, updateCount
    }

    private static let keys = JSONKeys<Field>()

    /// The string fields of a response, as read.
    private struct Texts {
        var id, infoURI, partialCancelURI, nextURI, updateType: String?

        static func holds(_ field: Field) -> Bool {
            switch field {
            case .id, .infoUri, .partialCancelUri, .nextUri, .updateType: true
            default: false
            }
        }

        subscript(field: Field) -> String? {
            get {
                switch field {
                case .id: self.id
                case .infoUri: self.infoURI
                case .partialCancelUri: self.partialCancelURI
                case .nextUri: self.nextURI
                case .updateType: self.updateType
                default: nil
                }
            }
            set {
                switch field {
                case .id: self.id = newValue
                case .infoUri: self.infoURI = newValue
                case .partialCancelUri: self.partialCancelURI = newValue
                case .nextUri: self.nextURI = newValue
                case .updateType: self.updateType = newValue
                default: break
                }
            }
        }
    }

    private static func columns(_ json: JSONValue) throws(TrinoProtocolError) -> [TrinoColumn]? {
        if json.isNull { return nil }
        guard let list = json.arrayValue else { throw .wrongType(field: "columns", expected: "an array") }
        return try list.map { (column) throws(TrinoProtocolError) -> TrinoColumn in
            guard let name = column["name"]?.stringValue else { throw .missingField("columns[].name") }
            guard let type = column["type"]?.stringValue else { throw .missingField("columns[].type") }
            guard let signature = column["typeSignature"] else { throw .missingField("columns[].typeSignature") }
            return TrinoColumn(name: name, typeName: type, signature: try TypeSignature(json: signature))
        }
    }

    private static func optionalString(_ value: JSONValue?, _ name: String) throws(TrinoProtocolError) -> String? {
        guard let value, !value.isNull else { return nil }
        guard let s = value.stringValue else { throw .wrongType(field: name, expected: "a string") }
        return s
    }
}

/// Decodes `[[cell, ...], ...]` by column types into column storage.
enum RowDecoder {
    static func decodeRows(_ buffer: UnsafeBufferPointer<UInt8>, range: Range<Int>, columns: [TrinoColumn],
                           sizes: PageSizes? = nil) throws(TrinoProtocolError) -> TrinoRows {
        var scanner = JSONScanner(UnsafeBufferPointer(rebasing: buffer[..<range.upperBound]), from: range.lowerBound)
        return try self.decodeRows(&scanner, columns: columns, sizes: sizes)
    }

    /// Decodes the array of rows that starts at the scanner's position.
    static func decodeRows(_ scanner: inout JSONScanner, columns: [TrinoColumn], sizes: PageSizes? = nil) throws(TrinoProtocolError) -> TrinoRows {
        // Buffers start at the previous page's sizes, else grow as rows arrive: any size guessed from the page's
        // bytes was off by 10x for some shape.
        let hint = sizes.flatMap { $0.textBytes.count == columns.count ? $0 : nil }
        var builders = columns.indices.map { k in
            ColumnBuilder(columns[k], capacity: hint.map { PageSizes.reserve($0.rows) } ?? 0,
                          textCapacity: hint.map { PageSizes.reserve($0.textBytes[k]) } ?? 0)
        }
        var count = 0
        do {
            try scanner.expect(UInt8(ascii: "["))
            if try !scanner.consume(UInt8(ascii: "]")) {
                repeat {
                    try scanner.expect(UInt8(ascii: "["))
                    for k in 0..<builders.count {
                        if k > 0 { try scanner.expect(UInt8(ascii: ",")) }
                        try builders[k].append(&scanner)
                    }
                    guard try scanner.consume(UInt8(ascii: "]")) else {
                        throw TrinoProtocolError.wrongType(field: "data row \(count)", expected: "an array of \(columns.count) values")
                    }
                    count += 1
                } while try scanner.consume(UInt8(ascii: ","))
                try scanner.expect(UInt8(ascii: "]"))
            }
        } catch let error as TrinoProtocolError {
            throw error
        } catch {
            throw .wrongType(field: "data row \(count)", expected: "an array of \(columns.count) values (\(error))")
        }
        return TrinoRows(ColumnStore(names: columns.map(\.name), types: columns.map(\.type), rowCount: count, columns: builders.map { $0.finish() }))
    }

    static func decodeRows(_ body: [UInt8], columns: [TrinoColumn]) throws(TrinoProtocolError) -> TrinoRows {
        var outcome: Result<TrinoRows, TrinoProtocolError> = .success(TrinoRows(pages: []))
        body.withUnsafeBufferPointer { buffer in
            var scanner = JSONScanner(buffer)
            outcome = Result { () throws(TrinoProtocolError) -> TrinoRows in
                let range: Range<Int>
                do {
                    range = try scanner.skipValue()
                    try scanner.expectEnd()
                } catch {
                    throw .spooling("segment is not a JSON array of rows: \(error)")
                }
                return try self.decodeRows(buffer, range: range, columns: columns)
            }
        }
        return try outcome.get()
    }
}

/// `stats` of a response. `state` is for people: the absence of `nextUri` is what ends a query.
public struct StatementStats: Sendable, Equatable {
    public var state: String
    public var queued: Bool
    public var scheduled: Bool
    public var progressPercentage: Double?
    public var nodes: Int
    public var totalSplits: Int
    public var completedSplits: Int
    public var elapsedTimeMillis: Int64
    public var queuedTimeMillis: Int64
    public var cpuTimeMillis: Int64
    public var processedRows: Int64
    public var processedBytes: Int64

    /// Reads the `stats` object field by field, skipping what it does not keep (no JSON tree for every poll).
    init(_ scanner: inout JSONScanner) throws(JSONError) {
        self.init(json: .object([:]))
        try scanner.expect(UInt8(ascii: "{"))
        if try scanner.consume(UInt8(ascii: "}")) { return }
        repeat {
            let key = try scanner.key(Self.keys)
            if try scanner.consumeNull() { continue }
            switch key {
            case .state: self.state = try Self.lenient(&scanner) { try $0.parseString() } ?? "UNKNOWN"
            case .queued: self.queued = try Self.lenient(&scanner) { try $0.parseBool() } ?? false
            case .scheduled: self.scheduled = try Self.lenient(&scanner) { try $0.parseBool() } ?? false
            case .progressPercentage: self.progressPercentage = try Self.lenient(&scanner) { try $0.parseDouble() }
            case .nodes: self.nodes = Int(try Self.integer(&scanner))
            case .totalSplits: self.totalSplits = Int(try Self.integer(&scanner))
            case .completedSplits: self.completedSplits = Int(try Self.integer(&scanner))
            case .elapsedTimeMillis: self.elapsedTimeMillis = try Self.integer(&scanner)
            case .queuedTimeMillis: self.queuedTimeMillis = try Self.integer(&scanner)
            case .cpuTimeMillis: self.cpuTimeMillis = try Self.integer(&scanner)
            case .processedRows: self.processedRows = try Self.integer(&scanner)
            case .processedBytes: self.processedBytes = try Self.integer(&scanner)
            case nil: _ = try scanner.skipValue()
            }
        } while try scanner.consume(UInt8(ascii: ","))
        try scanner.expect(UInt8(ascii: "}"))
    }

    private enum Field: String, CaseIterable, Sendable {
        case state, queued, scheduled, progressPercentage, nodes, totalSplits, completedSplits, elapsedTimeMillis
        case queuedTimeMillis, cpuTimeMillis, processedRows, processedBytes
    }

    private static let keys = JSONKeys<Field>()

    /// A value of the expected kind, or nil (and the value skipped) when the server sent another: stats are
    /// informational, and a surprise in them never fails a query.
    private static func lenient<T>(_ scanner: inout JSONScanner, _ parse: (inout JSONScanner) throws -> T) throws(JSONError) -> T? {
        let start = scanner.index
        do { return try parse(&scanner) } catch {
            scanner.index = start
            _ = try scanner.skipValue()
            return nil
        }
    }

    private static func integer(_ scanner: inout JSONScanner) throws(JSONError) -> Int64 {
        try self.lenient(&scanner) { try $0.parseInt64() } ?? 0
    }

    init(json: JSONValue) {
        self.state = json["state"]?.stringValue ?? "UNKNOWN"
        self.queued = json["queued"]?.boolValue ?? false
        self.scheduled = json["scheduled"]?.boolValue ?? false
        self.progressPercentage = json["progressPercentage"]?.doubleValue
        self.nodes = Int(json["nodes"]?.int64Value ?? 0)
        self.totalSplits = Int(json["totalSplits"]?.int64Value ?? 0)
        self.completedSplits = Int(json["completedSplits"]?.int64Value ?? 0)
        self.elapsedTimeMillis = json["elapsedTimeMillis"]?.int64Value ?? 0
        self.queuedTimeMillis = json["queuedTimeMillis"]?.int64Value ?? 0
        self.cpuTimeMillis = json["cpuTimeMillis"]?.int64Value ?? 0
        self.processedRows = json["processedRows"]?.int64Value ?? 0
        self.processedBytes = json["processedBytes"]?.int64Value ?? 0
    }
}

public struct TrinoWarning: Sendable, Equatable {
    public var code: Int
    public var name: String
    public var message: String

    init(json: JSONValue) {
        self.code = Int(json["warningCode"]?["code"]?.int64Value ?? 0)
        self.name = json["warningCode"]?["name"]?.stringValue ?? ""
        self.message = json["message"]?.stringValue ?? ""
    }
}

/// The spooling protocol's `data` object.
public struct SpooledData: Sendable, Equatable {
    public struct Segment: Sendable, Equatable {
        public enum Kind: Sendable, Equatable {
            case inline(base64: String)
            case spooled(uri: String, ackURI: String?, headers: [String: [String]])
        }
        public var kind: Kind
        public var rowOffset: Int64?
        public var rowsCount: Int64?
        public var segmentSize: Int?
        public var uncompressedSize: Int?
    }

    public var encoding: String
    public var segments: [Segment]

    init(json: JSONValue) throws(TrinoProtocolError) {
        guard let encoding = json["encoding"]?.stringValue else { throw .missingField("data.encoding") }
        self.encoding = encoding
        self.segments = try (json["segments"]?.arrayValue ?? []).map { (segment) throws(TrinoProtocolError) -> Segment in
            let metadata = segment["metadata"]
            // DataAttribute values may be JSON numbers or strings.
            func number(_ key: String) -> Int64? {
                guard let value = metadata?[key] else { return nil }
                return value.int64Value ?? value.stringValue.flatMap { Int64($0) }
            }
            let kind: Segment.Kind
            switch segment["type"]?.stringValue {
            case "inline":
                guard let data = segment["data"]?.stringValue else { throw .missingField("segments[].data") }
                kind = .inline(base64: data)
            case "spooled":
                guard let uri = segment["uri"]?.stringValue else { throw .missingField("segments[].uri") }
                var headers: [String: [String]] = [:]
                for (name, values) in segment["headers"]?.objectValue ?? [:] {
                    headers[name] = values.arrayValue?.compactMap(\.stringValue) ?? values.stringValue.map { [$0] } ?? []
                }
                kind = .spooled(uri: uri, ackURI: segment["ackUri"]?.stringValue, headers: headers)
            default:
                throw .spooling("unknown segment type \(segment["type"]?.serialized ?? "null")")
            }
            return Segment(kind: kind, rowOffset: number("rowOffset"), rowsCount: number("rowsCount"),
                           segmentSize: number("segmentSize").map { Int($0) }, uncompressedSize: number("uncompressedSize").map { Int($0) })
        }
    }
}
