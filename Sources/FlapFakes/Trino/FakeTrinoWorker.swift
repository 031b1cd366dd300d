import Foundation
import HTTPWire

/// A fake Trino worker: it answers `/v1/info` (as a node that is not the coordinator) and nothing else a client
/// uses. A real worker has no statement API, so a query or a poll routed to it gets 404: what a route that sends
/// client traffic to the workers' Service does to queries.
public final class FakeTrinoWorker: Sendable {
    private let server: HTTPServer
    public var port: Int { self.server.port }
    public var url: URL { self.server.baseURL }

    public init() throws {
        self.server = try HTTPServer { request in
            if request.method == "GET" && request.path == "/v1/info" {
                return .json(Array(#"{"nodeVersion":{"version":"flap-fake"},"environment":"fake","coordinator":false,"starting":false,"uptime":"1.00m"}"#.utf8))
            }
            return .text("Not Found\n", status: 404)
        }
    }

    public func stop() { self.server.stop() }
}
