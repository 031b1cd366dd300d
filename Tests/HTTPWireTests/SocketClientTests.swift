import XCTest
@testable import HTTPWire

final class SocketClientTests: XCTestCase {
    private func echoServer(_ configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws -> HTTPServer {
        var configuration = HTTPServer.Configuration()
        configure(&configuration)
        return try HTTPServer(configuration: configuration) { request in
            switch request.path {
            case "/close": return HTTPServerResponse(status: 200, body: Array("bye".utf8), closeConnection: true)
            case "/chunked": return HTTPServerResponse(status: 200, body: Array(repeating: UInt8(ascii: "z"), count: 10_000), delivery: .chunked(chunkSize: 333))
            case "/slow":
                Thread.sleep(forTimeInterval: 1)
                return .text("late", status: 200)
            case "/big-header": return .text("x", status: 200, headers: ["X-Big": String(repeating: "a", count: 100_000)])
            case "/drop": return HTTPServerResponse(status: 200, body: Array(repeating: 65, count: 1000), delivery: .dropAfterBodyBytes(10))
            default: return .text("\(request.method) \(request.target) conn=\(request.connectionID) body=\(request.body.count)", status: 200)
            }
        }
    }

    func testKeepAliveReusesOneConnectionAndReportsEvents() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let events = EventLog()
        let client = SocketHTTPClient(observer: { events.append($0) })
        let first = try await client.execute(get(server.baseURL, "a"), deadline: .now + .seconds(5))
        let second = try await client.execute(HTTPClientRequest(method: "POST", url: server.baseURL.appending(path: "b"), body: Array("hello".utf8)),
                                              deadline: .now + .seconds(5))
        XCTAssertEqual(String(decoding: first.body, as: UTF8.self), "GET /a conn=1 body=0")
        XCTAssertEqual(String(decoding: second.body, as: UTF8.self), "POST /b conn=1 body=5")
        XCTAssertEqual(first.connection?.reused, false)
        XCTAssertEqual(second.connection?.reused, true)
        XCTAssertEqual(first.connection?.connectionID, second.connection?.connectionID)
        XCTAssertEqual(first.connectionEvents.map(\.kind), [.opened])
        XCTAssertEqual(second.connectionEvents.map(\.kind), [.reused])
        XCTAssertEqual(events.kinds, [.opened, .reused])
    }

    func testConnectionCloseMakesTheNextRequestOpenANewConnection() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let client = SocketHTTPClient()
        let closing = try await client.execute(get(server.baseURL, "close"), deadline: .now + .seconds(5))
        let next = try await client.execute(get(server.baseURL, "a"), deadline: .now + .seconds(5))
        XCTAssertEqual(closing.connectionEvents.map(\.kind), [.opened, .closedByPeer], "the peer said Connection: close")
        XCTAssertEqual(next.connection?.reused, false)
        XCTAssertNotEqual(closing.connection?.connectionID, next.connection?.connectionID)
    }

    func testPeerClosingAnIdleConnectionIsReportedAndAvoided() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let client = SocketHTTPClient()
        _ = try await client.execute(get(server.baseURL, "a"), deadline: .now + .seconds(5))
        server.dropAllConnections()
        try await Task.sleep(for: .milliseconds(100))
        let after = try await client.execute(get(server.baseURL, "a"), deadline: .now + .seconds(5))
        XCTAssertEqual(after.connectionEvents.map(\.kind), [.closedByPeerWhileIdle, .opened])
        XCTAssertEqual(after.connection?.reused, false)
    }

    func testChunkedBodiesAreDecoded() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let response = try await SocketHTTPClient().execute(get(server.baseURL, "chunked"), deadline: .now + .seconds(5))
        XCTAssertEqual(response.body, Array(repeating: UInt8(ascii: "z"), count: 10_000))
    }

    func testRefusedConnectionIsATypedErrorWithAnEvent() async throws {
        let server = try self.echoServer()
        let url = server.baseURL
        server.stop()
        let events = EventLog()
        let client = SocketHTTPClient(observer: { events.append($0) })
        do {
            _ = try await client.execute(get(url), deadline: .now + .seconds(2))
            XCTFail("expected refusal")
        } catch {
            XCTAssertEqual(HTTPRequestFailure.unwrap(error), .connectionRefused(host: "127.0.0.1", port: url.port!))
            XCTAssertEqual((error as? HTTPRequestFailure)?.connectionEvents.map(\.kind), [.refused])
        }
        XCTAssertEqual(events.kinds, [.refused])
    }

    func testSubSecondDeadlineEndsAServerThatNeverAnswers() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let start = ContinuousClock.now
        do {
            _ = try await SocketHTTPClient().execute(get(server.baseURL, "slow"), deadline: .now + .milliseconds(300))
            XCTFail("expected a timeout")
        } catch {
            XCTAssertEqual(HTTPRequestFailure.unwrap(error), .readTimedOut(received: 0))
            XCTAssertEqual((error as? HTTPRequestFailure)?.connectionEvents.last?.kind, .timedOut)
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(2), "the deadline, not the server, ended the request")
    }

    func testOversizedResponseHeaderIsRejected() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        do {
            _ = try await SocketHTTPClient().execute(get(server.baseURL, "big-header"), deadline: .now + .seconds(5))
            XCTFail("expected headerTooLarge")
        } catch {
            XCTAssertEqual(HTTPRequestFailure.unwrap(error), .headerTooLarge(limit: 64 * 1024))
        }
    }

    func testOversizedBodyIsRejected() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        var configuration = SocketHTTPClient.Configuration()
        configuration.limits.maxBodyBytes = 1000
        do {
            _ = try await SocketHTTPClient(configuration: configuration).execute(get(server.baseURL, "chunked"), deadline: .now + .seconds(5))
            XCTFail("expected bodyTooLarge")
        } catch {
            XCTAssertEqual(HTTPRequestFailure.unwrap(error), .bodyTooLarge(limit: 1000))
        }
    }

    func testConnectionDroppedMidBody() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let client = SocketHTTPClient()
        _ = try await client.execute(get(server.baseURL, "a"), deadline: .now + .seconds(5))
        do {
            _ = try await client.execute(get(server.baseURL, "drop"), deadline: .now + .seconds(5))
            XCTFail("expected a closed connection")
        } catch {
            guard case .closedBeforeComplete(_, let reused)? = HTTPRequestFailure.unwrap(error) else { return XCTFail("\(error)") }
            XCTAssertTrue(reused, "the dropped request ran on the kept-alive connection")
            XCTAssertEqual((error as? HTTPRequestFailure)?.connectionEvents.map(\.kind), [.reused, .closedByPeer])
        }
    }

    func testMalformedResponsesGiveTypedErrors() async throws {
        let cases: [(String, HTTPWireError)] = [
            ("HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", .malformedMessage("bad Content-Length \"nope\"")),
            ("HTTP/1.1 2x0 OK\r\n\r\n", .malformedMessage("bad status code \"2x0\"")),
            ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", .malformedMessage("bad chunk size \"zz\"")),
            ("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", .closedBeforeComplete(received: 45, reusedConnection: false)),
            ("HTTP/1.1 200 OK\r\nConte", .closedBeforeComplete(received: 22, reusedConnection: false)),
        ]
        for (raw, expected) in cases {
            let server = try RawTCPServer { fd, _ in RawTCPServer.send(fd, raw) }
            defer { server.stop() }
            do {
                _ = try await SocketHTTPClient().execute(HTTPClientRequest(url: server.url), deadline: .now + .seconds(5))
                XCTFail("expected an error for \(raw)")
            } catch {
                XCTAssertEqual(HTTPRequestFailure.unwrap(error), expected, raw)
            }
        }
    }

    func testCancellingTheTaskAbortsTheRequest() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let client = SocketHTTPClient()
        let task = Task { try await client.execute(get(server.baseURL, "slow"), deadline: .now + .seconds(10)) }
        try await Task.sleep(for: .milliseconds(200))
        let start = ContinuousClock.now
        task.cancel()
        do {
            _ = try await task.value
            XCTFail("expected cancellation")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        XCTAssertLessThan(ContinuousClock.now - start, .seconds(1))
    }

    func testUnsupportedSchemeAndBadURL() async throws {
        do {
            _ = try await SocketHTTPClient().execute(HTTPClientRequest(url: URL(string: "https://example.invalid/")!), deadline: .now + .seconds(1))
            XCTFail()
        } catch {
            XCTAssertEqual(HTTPRequestFailure.unwrap(error), .unsupportedScheme("https"))
        }
    }

    func testServerAnswersMalformedRequestsAndStopsCleanly() async throws {
        _ = EventLoopGroup.shared  // its epoll and eventfd descriptors live as long as the process
        let before = openFileDescriptorCount()
        let server = try self.echoServer { $0.limits.maxHeaderBytes = 1024 }
        let target = URL(string: "http://127.0.0.1:\(server.port)/")!
        let client = SocketHTTPClient()
        var request = get(target, "x")
        request.headers.add("X-Huge", String(repeating: "h", count: 4000))
        let tooLarge = try await client.execute(request, deadline: .now + .seconds(5))
        XCTAssertEqual(tooLarge.status, 431)
        let raw = try await RawHTTP.exchange(port: server.port, "GET / HTTP/1.1\r\nbroken header\r\n\r\n")
        XCTAssertTrue(raw.hasPrefix("HTTP/1.1 400"), raw)
        _ = try await client.execute(get(target, "a"), deadline: .now + .seconds(5))
        client.shutdown()
        server.stop()
        XCTAssertEqual(server.openConnectionCount, 0)
        XCTAssertEqual(openFileDescriptorCount(), before, "no socket leaked")
    }

    func testURLSessionTransportSpeaksPlainHTTPToo() async throws {
        let server = try self.echoServer()
        defer { server.stop() }
        let transport = URLSessionTransport()
        let response = try await transport.send(get(server.baseURL, "u"), timeout: .seconds(5))
        XCTAssertEqual(response.status, 200)
        XCTAssertNil(response.connection, "URLSession hides connections")
        XCTAssertEqual(transport.name, "urlsession")
        XCTAssertEqual(AutomaticTransport().transport(for: server.baseURL).name, "socket")
        XCTAssertEqual(AutomaticTransport().transport(for: URL(string: "https://x")!).name, "urlsession")
    }
}

/// Sends raw bytes and reads the reply until the server closes.
enum RawHTTP {
    static func exchange(port: Int, _ text: String) async throws -> String {
        let socket = try await TCPSocket.connect(host: "127.0.0.1", port: port, deadline: .now + .seconds(2))
        defer { socket.close() }
        try await socket.write(Array(text.utf8), deadline: .now + .seconds(2))
        var buffer: [UInt8] = []
        while try await socket.read(into: &buffer, deadline: .now + .seconds(2), received: buffer.count) > 0 {}
        return String(decoding: buffer, as: UTF8.self)
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [ConnectionEvent] = []
    func append(_ event: ConnectionEvent) { self.lock.withLock { self.events.append(event) } }
    var kinds: [ConnectionEvent.Kind] { self.lock.withLock { self.events.map(\.kind) } }
}

final class RequestTargetTests: XCTestCase {
    /// The plain-URL fast path reads what Foundation reads, and leaves anything less plain to Foundation.
    func testPlainURLsReadAsFoundationReadsThem() throws {
        let urls = ["http://127.0.0.1:8080/v1/statement/executing/20261202_000000_00001_abcde/y1/3",
                    "http://coordinator/v1/statement", "http://c:81", "http://c:81?x=1", "http://c/p?q=%20&r",
                    "http://C.example:0/", "http://c:080/a", "http://u:p@c:1/a", "http://[::1]:8080/a", "http://c/a#frag",
                    "HTTP://c/a", "http://c:/a", "http://c:99999/a"]
        for text in urls {
            let url = try XCTUnwrap(URL(string: text), text)
            let fast = Result { () throws(HTTPRequestFailure) -> RequestTarget in try RequestTarget(url) }
            let foundation = Result { () throws(HTTPRequestFailure) -> RequestTarget in try RequestTarget(parsingWithFoundation: url, connectTo: nil) }
            switch (fast, foundation) {
            case (.success(let a), .success(let b)): XCTAssertEqual(a, b, text)
            case (.failure, .failure): break
            default: XCTFail("\(text): fast path \(fast), Foundation \(foundation)")
            }
        }
    }
}
