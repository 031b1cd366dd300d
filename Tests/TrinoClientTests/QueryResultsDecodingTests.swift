import TrinoClient
import XCTest

/// The real response bodies in fixtures/, old and new typeSignature shapes.
final class QueryResultsDecodingTests: XCTestCase {
    func testQueuedPostResponse() throws {
        let results = try QueryResults.decode(try fixture("01-queued-post-response"))
        XCTAssertEqual(results.id, "20210817_140827_00000_arvdv")
        XCTAssertEqual(results.stats.state, "QUEUED")
        XCTAssertTrue(results.stats.queued)
        XCTAssertEqual(results.nextURI, "https://coordinator/v1/statement/20210817_140827_00000_arvdv/1")
        XCTAssertNil(results.columns)
        XCTAssertTrue(results.rows.isEmpty)
    }

    func testRunningResponseWithOldTypeSignatureShape() throws {
        let results = try QueryResults.decode(try fixture("02-running-with-data-get-response"))
        let columns = try XCTUnwrap(results.columns)
        XCTAssertEqual(columns.map(\.name), ["node_id", "http_uri", "node_version", "coordinator", "state"])
        XCTAssertEqual(columns[0].type, .varchar(length: nil), "LONG_LITERAL 2147483647 means unbounded varchar")
        XCTAssertEqual(columns[3].type, .boolean)
        XCTAssertEqual(results.rows.count, 3)
        XCTAssertEqual(results.rows[1], [.varchar("UUID-1"), .varchar("http://worker1:8080"), .varchar("0.157"), .boolean(false), .varchar("active")])
        XCTAssertEqual(results.partialCancelURI, "http://localhost:8080/v1/stage/20210817_140827_00000_arvdv.0")
        XCTAssertEqual(results.stats.processedRows, 8)
    }

    func testFinishedResponseAsTrinoSerialisesIt() throws {
        let results = try QueryResults.decode(try fixture("03-finished-with-data-response"))
        XCTAssertNil(results.nextURI, "nextUri: null ends the query")
        XCTAssertEqual(results.columns?.first?.type, .bigint)
        XCTAssertEqual(results.rows, [[.integer(1)], [.integer(5)]])
        XCTAssertNil(results.error)
        XCTAssertNil(results.stats.progressPercentage)
        XCTAssertTrue(results.warnings.isEmpty)
    }

    func testFailedResponseBecomesATrinoQueryError() throws {
        let results = try QueryResults.decode(try fixture("04-failed-user-error-response"))
        let error = try XCTUnwrap(results.error)
        XCTAssertEqual(error.errorName, "SYNTAX_ERROR")
        XCTAssertEqual(error.errorCode, 1)
        XCTAssertEqual(error.errorType, "USER_ERROR")
        XCTAssertNil(error.sqlState)
        XCTAssertEqual(error.location, .init(lineNumber: 1, columnNumber: 15))
        XCTAssertEqual(error.queryID, "20210817_140827_00000_arvdv")
        XCTAssertEqual(error.failureInfo?["type"]?.stringValue, "io.trino.spi.TrinoException")
        XCTAssertEqual(error.failureInfo?["stack"]?.arrayValue?.count, 36)
        XCTAssertTrue(error.description.contains("Schema must be specified"))
    }

    func testSpooledSegmentsResponse() throws {
        // 05a has no infoUri/stats (a synthetic gateway test body): the client must say what is missing.
        XCTAssertThrowsError(try QueryResults.decode(try fixture("05a-spooled-segments-response"))) { error in
            XCTAssertEqual(error as? TrinoProtocolError, .missingField("infoUri"))
        }
        var body = String(decoding: try fixture("05a-spooled-segments-response"), as: UTF8.self)
        body = body.replacingOccurrences(of: "\"id\":", with: "\"infoUri\":\"http://x/ui\",\"stats\":{\"state\":\"RUNNING\"},\"columns\":[],\"id\":")
        let results = try QueryResults.decode(Array(body.utf8))
        let spooled = try XCTUnwrap(results.spooled)
        XCTAssertEqual(spooled.encoding, "json+zstd")
        XCTAssertEqual(spooled.segments.count, 2)
        XCTAssertEqual(spooled.segments[0].kind, .spooled(uri: "http://gateway:8080/v1/spooled/download/token1",
                                                          ackURI: "http://gateway:8080/v1/spooled/ack/token1", headers: [:]))
        XCTAssertEqual(spooled.segments[0].rowsCount, 100)
        XCTAssertEqual(spooled.segments[1].kind, .inline(base64: "abc"))
        XCTAssertEqual(spooled.segments[1].rowOffset, 100)
    }

    func testSpooledDataFieldAsJacksonWritesIt() throws {
        let data = String(decoding: try fixture("05b-spooled-data-field-jackson"), as: UTF8.self)
        let body = "{\"id\":\"q\",\"infoUri\":\"http://x\",\"stats\":{\"state\":\"RUNNING\"},\"data\":\(data)}"
        let spooled = try XCTUnwrap(try QueryResults.decode(Array(body.utf8)).spooled)
        XCTAssertEqual(spooled.encoding, "json")
        XCTAssertEqual(spooled.segments[0].kind, .inline(base64: "dGVzdERhdGE="))
        XCTAssertEqual(spooled.segments[1].kind, .spooled(uri: "https://download.uri", ackURI: "https://ack.uri", headers: ["X-Trino-Header": ["Header-Value"]]))
        XCTAssertEqual(spooled.segments[1].segmentSize, 1000)
    }

    func testNewTypeSignatureShapeForNestedTypes() throws {
        let body = """
        {"id":"q","infoUri":"u","stats":{"state":"RUNNING"},"columns":[
          {"name":"r","type":"row(a bigint, b array(varchar))","typeSignature":{"rawType":"row","arguments":[
            {"kind":"NAMED_TYPE","value":{"fieldName":{"name":"a"},"typeSignature":{"rawType":"bigint","arguments":[]}}},
            {"kind":"NAMED_TYPE","value":{"fieldName":null,"typeSignature":{"rawType":"array","arguments":[{"kind":"TYPE","value":{"rawType":"varchar","arguments":[{"kind":"LONG","value":10}]}}]}}}]}},
          {"name":"d","type":"decimal(10,2)","typeSignature":{"rawType":"decimal","arguments":[{"kind":"LONG","value":10},{"kind":"LONG","value":2}]}}],
         "data":[[[7,["x",null]],"-12.50"]]}
        """
        let results = try QueryResults.decode(Array(body.utf8))
        XCTAssertEqual(results.columns?[0].type, .row([.init(name: "a", type: .bigint), .init(name: nil, type: .array(.varchar(length: 10)))]))
        XCTAssertEqual(results.columns?[1].type, .decimal(precision: 10, scale: 2))
        XCTAssertEqual(results.rows[0][0], .row([.init(name: "a", value: .integer(7)), .init(name: nil, value: .array([.varchar("x"), .null]))]))
        XCTAssertEqual(results.rows[0][1].string, "-12.50")
    }

    func testDataBeforeColumnsIsStillTyped() throws {
        let body = #"{"data":[[1,"2024-01-02"]],"id":"q","infoUri":"u","stats":{},"columns":[{"name":"a","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}},{"name":"b","type":"date","typeSignature":{"rawType":"date","arguments":[]}}]}"#
        let results = try QueryResults.decode(Array(body.utf8))
        XCTAssertEqual(results.rows, [[.integer(1), .date(TrinoDate(year: 2024, month: 1, day: 2))]])
    }

    func testKeysMatchByTheirTextHoweverTheyAreWrittenAndTheLastRepeatWins() throws {
        // Keys are matched on their raw bytes; an escaped key is the same key, a near miss is not.
        let body = #"{"\u0069d":"q","infoUri":"u","nextUri":5,"nextUri":"http://c/2","nextUrl":"x","updateType":"INSERT","#
            + #""stats":{"st\u0061te":"RUNNING","processedRows":7,"processedRowz":8},"updateType":null}"#
        let results = try QueryResults.decode(Array(body.utf8))
        XCTAssertEqual(results.id, "q")
        XCTAssertEqual(results.nextURI, "http://c/2")
        XCTAssertEqual(results.stats.state, "RUNNING")
        XCTAssertEqual(results.stats.processedRows, 7)
        XCTAssertNil(results.updateType)
    }

    func testBadInputGivesSpecificErrors() {
        let column = #"{"name":"a","type":"bigint","typeSignature":{"rawType":"bigint","arguments":[]}}"#
        let cases: [(String, TrinoProtocolError)] = [
            (#"{"id":"q","infoUri":"u""#, .notJSON(status: 200, contentType: nil, uri: "", bodyExcerpt: "", parseError: "invalid JSON at byte 23: unexpected end of input")),
            ("<html><body>502 Bad Gateway</body></html>", .notJSON(status: 200, contentType: nil, uri: "", bodyExcerpt: "", parseError: "invalid JSON at byte 0: expected '{' but found '<'")),
            (#"{"id":1,"infoUri":"u","stats":{}}"#, .missingField("id")),
            (#"{"id":"q","infoUri":"u"}"#, .missingField("stats")),
            (#"{"id":"q","infoUri":"u","stats":{},"nextUri":5}"#, .wrongType(field: "nextUri", expected: "a string")),
            (#"{"id":"q","infoUri":"u","stats":{},"columns":{}}"#, .wrongType(field: "columns", expected: "an array")),
            (#"{"id":"q","infoUri":"u","stats":{},"data":[[1]]}"#, .missingField("columns (data arrived without columns)")),
            (#"{"id":"q","infoUri":"u","stats":{},"columns":[\#(column)],"data":[["x"]]}"#,
             .badValue(column: "a", type: "bigint", detail: "expected an integer, got \"x\"")),
            (#"{"id":"q","infoUri":"u","stats":{},"columns":[\#(column)],"data":[[1.5]]}"#,
             .badValue(column: "a", type: "bigint", detail: "invalid JSON at byte 137: expected an integer, found a fraction")),
            (#"{"id":"q","infoUri":"u","stats":{},"columns":[\#(column)],"data":[[1,2]]}"#,
             .wrongType(field: "data row 0", expected: "an array of 1 values")),
            (#"{"id":"q","infoUri":"u","stats":{},"columns":[\#(column)],"data":[[99999999999999999999]]}"#,
             .badValue(column: "a", type: "bigint", detail: "invalid JSON at byte 137: integer out of 64-bit range")),
        ]
        for (body, expected) in cases {
            XCTAssertThrowsError(try QueryResults.decode(Array(body.utf8)), body) { error in
                XCTAssertEqual(error as? TrinoProtocolError, expected, body)
            }
        }
    }
}
