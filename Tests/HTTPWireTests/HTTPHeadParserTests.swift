import XCTest
@testable import HTTPWire

final class HTTPHeadParserTests: XCTestCase {
    private func bytes(_ s: String) -> ArraySlice<UInt8> { ArraySlice(Array(s.utf8)) }

    func testParsesRequestHeadKeepingOrderAndRepeats() throws {
        let head = try HTTPHeadParser.parseRequestHead(bytes("POST /v1/statement?x=1 HTTP/1.1\r\nHost: a:8080\r\nX-Trino-Session: a=1\r\nx-trino-session: b=2\r\n\r\n"))
        XCTAssertEqual(head.method, "POST")
        XCTAssertEqual(head.target, "/v1/statement?x=1")
        XCTAssertEqual(head.headers["host"], "a:8080")
        XCTAssertEqual(head.headers.values(for: "X-TRINO-SESSION"), ["a=1", "b=2"])
    }

    func testParsesResponseStatusLineWithAndWithoutReason() throws {
        XCTAssertEqual(try HTTPHeadParser.parseResponseHead(bytes("HTTP/1.1 503 Service Unavailable\r\n\r\n")).status, 503)
        let bare = try HTTPHeadParser.parseResponseHead(bytes("HTTP/1.1 204\r\nA: b\r\n\r\n"))
        XCTAssertEqual(bare.status, 204)
        XCTAssertEqual(bare.reason, "")
    }

    func testRejectsMalformedHeads() {
        let cases = ["HTTP/2 200 OK\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 abc OK\r\n\r\n", "garbage\r\n\r\n",
                     "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"]
        for text in cases {
            XCTAssertThrowsError(try HTTPHeadParser.parseResponseHead(bytes(text)), text) { error in
                guard case .malformedMessage = error as? HTTPWireError else { return XCTFail("\(text): \(error)") }
            }
        }
        XCTAssertThrowsError(try HTTPHeadParser.parseRequestHead(bytes("GET /\r\n\r\n")))
        XCTAssertThrowsError(try HTTPHeadParser.parseRequestHead(bytes("get / HTTP/1.1\r\n\r\n")))
        XCTAssertThrowsError(try HTTPHeadParser.parseRequestHead(bytes("GET / HTTP/3\r\n\r\n")))
    }

    func testBodyFramingFollowsRFC9112() throws {
        XCTAssertEqual(try BodyFraming.forResponse(["Content-Length": "5"], status: 200, requestMethod: "GET"), .contentLength(5))
        XCTAssertEqual(try BodyFraming.forResponse(["Transfer-Encoding": "gzip, chunked", "Content-Length": "5"], status: 200, requestMethod: "GET"), .chunked)
        XCTAssertEqual(try BodyFraming.forResponse([:], status: 200, requestMethod: "GET"), .untilClose)
        XCTAssertEqual(try BodyFraming.forResponse(["Content-Length": "5"], status: 200, requestMethod: "HEAD"), BodyFraming.none)
        XCTAssertEqual(try BodyFraming.forResponse([:], status: 204, requestMethod: "DELETE"), BodyFraming.none)
        XCTAssertEqual(try BodyFraming.forRequest([:]), BodyFraming.none)
        XCTAssertEqual(try BodyFraming.forRequest(HTTPHeaders([("Content-Length", "3"), ("Content-Length", "3")])), .contentLength(3))
        for bad in [HTTPHeaders([("Content-Length", "3"), ("Content-Length", "4")]), ["Content-Length": "-1"], ["Content-Length": "x"], ["Transfer-Encoding": "gzip"]] {
            XCTAssertThrowsError(try BodyFraming.forRequest(bad))
        }
    }

    func testHeadEndIsFoundAcrossSearchRestarts() {
        let data = Array("HTTP/1.1 200 OK\r\nA: b\r\n\r\nBODY".utf8)
        XCTAssertEqual(HTTPHeadParser.headEnd(in: data, from: 0, searchFrom: 0), data.count - 4)
        XCTAssertEqual(HTTPHeadParser.headEnd(in: data, from: 0, searchFrom: 22), data.count - 4)
        XCTAssertNil(HTTPHeadParser.headEnd(in: Array("HTTP/1.1 200 OK\r\n".utf8), from: 0, searchFrom: 0))
    }

    func testHeadersAreCaseInsensitiveAndSplittable() {
        var headers: HTTPHeaders = ["X-A": "1, 2", "x-a": "3"]
        XCTAssertEqual(headers.splitValues(for: "x-A"), ["1", "2", "3"])
        headers.set("X-A", "9")
        XCTAssertEqual(headers.values(for: "x-a"), ["9"])
        headers.remove("X-A")
        XCTAssertTrue(headers.isEmpty)
    }
}

final class ServerRequestTargetTests: XCTestCase {
    func testPathAndQueryParametersAreReadFromTheTarget() {
        var request = HTTPServerRequest(method: "GET", target: "/v1/statement/q/1?maxWait=1s&name=a%20b&flag&x=1&x=2", headers: [:], body: [], connectionID: 1)
        XCTAssertEqual(request.path, "/v1/statement/q/1")
        XCTAssertEqual(request.query, ["maxWait": "1s", "name": "a b", "flag": "", "x": "2"])
        request.target = "/plain"
        XCTAssertEqual(request.path, "/plain")
        XCTAssertEqual(request.query, [:])
        request.target = "/p?bad=%zz&a=%41"
        XCTAssertEqual(request.query, ["bad": "%zz", "a": "A"], "undecodable escapes stay as sent")
    }
}

final class ConnectionOptionTests: XCTestCase {
    func testConnectionOptionsAreTokensInAnyCase() {
        let headers: HTTPHeaders = ["connection": "Keep-Alive, CLOSE", "X-Other": "close"]
        XCTAssertTrue(headers.connectionOption("close"))
        XCTAssertTrue(headers.connectionOption("keep-alive"))
        XCTAssertFalse(HTTPHeaders([("Connection", "closed")]).connectionOption("close"), "a token, not a substring")
        XCTAssertFalse(HTTPHeaders([("X-Connection", "close")]).connectionOption("close"))
    }
}
