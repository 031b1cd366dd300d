import Foundation
@testable import HTTPWire
import XCTest

/// The server bounds the request-body bytes all connections hold together, not only each request's.
final class HTTPServerBodyBudgetTests: XCTestCase {
    func testARequestThatWouldPassTheSharedBudgetGets503AndTheNextOneFits() async throws {
        var configuration = HTTPServer.Configuration()
        configuration.maxInFlightBodyBytes = 1000
        let gate = DispatchSemaphore(value: 0)
        let entered = DispatchSemaphore(value: 0)
        let server = try HTTPServer(configuration: configuration) { request in
            if request.target == "/hold" {
                entered.signal()
                gate.wait()
            }
            return .text("got \(request.body.count)\n", status: 200)
        }
        defer { server.stop() }
        let client = SocketHTTPClient()
        func post(_ path: String, bytes: Int) async throws -> HTTPClientResponse {
            try await client.execute(HTTPClientRequest(method: "POST", url: URL(string: "http://127.0.0.1:\(server.port)\(path)")!,
                                                       body: Array(repeating: 65, count: bytes)), deadline: .now + .seconds(10))
        }
        let held = Task { try await post("/hold", bytes: 600) }
        entered.wait()
        let refused = try await post("/other", bytes: 600)
        XCTAssertEqual(refused.status, 503, "600 + 600 bytes would pass the 1000-byte budget")
        XCTAssertEqual(refused.headers["Retry-After"], "1")
        let small = try await post("/other", bytes: 300)
        XCTAssertEqual(small.status, 200, "300 more still fits")
        gate.signal()
        let first = try await held.value
        XCTAssertEqual(first.status, 200)
        let after = try await post("/other", bytes: 600)
        XCTAssertEqual(after.status, 200, "the budget is released when a request is answered")
        XCTAssertEqual(String(decoding: after.body, as: UTF8.self), "got 600\n")
    }
}
