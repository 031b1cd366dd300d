import Foundation
import HTTPWire

/// A non-Trino workload: each "query" is a series of GETs to a path, spaced like a client polling, so any HTTP
/// service behind a route can be flapped and measured the same way.
public struct HTTPWorkload: QueryWorkload {
    public var path: String
    public var requestsPerQuery: Int
    public var interval: Duration
    public var expectedStatus: Int
    private let transport: SocketTransport

    public init(path: String = "/", requestsPerQuery: Int = 10, interval: Duration = .milliseconds(100), expectedStatus: Int = 200,
                maxIdleConnectionsPerHost: Int = 4096) {
        self.path = path
        self.requestsPerQuery = requestsPerQuery
        self.interval = interval
        self.expectedStatus = expectedStatus
        var configuration = SocketHTTPClient.Configuration()
        configuration.maxIdleConnectionsPerHost = maxIdleConnectionsPerHost
        self.transport = SocketTransport(client: SocketHTTPClient(configuration: configuration))
    }

    public var name: String { "http" }

    public func run(_ index: Int, through target: RouteTarget, deadline: ContinuousClock.Instant) async -> QueryExecution {
        let recorder = QueryTraceRecorder(transport: self.transport.name)
        guard self.requestsPerQuery >= 1 else {
            // A setting no query can run with is a failed query that says so, not a trap.
            return QueryExecution(label: "http", outcome: QueryOutcome(succeeded: false, failureClass: .other,
                                                                       detail: "requestsPerQuery must be at least 1, not \(self.requestsPerQuery)"),
                                  trace: recorder.snapshot, rows: 0)
        }
        let url = URL(string: target.url.absoluteString.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + self.path)!
        for hop in 0..<self.requestsPerQuery {
            var request = HTTPClientRequest(url: url)
            request.connectTo = target.connectTo
            let start = ContinuousClock.now
            do {
                let response = try await self.transport.send(request, deadline: deadline)
                recorder.record(method: "GET", uri: url.absoluteString, start: start, status: response.status, bytesReceived: response.body.count,
                                connection: response.connection, connectionEvents: response.connectionEvents,
                                failure: response.status == self.expectedStatus ? nil : .status(response.status, retryAfter: nil))
                if response.status != self.expectedStatus {
                    return QueryExecution(label: "http", outcome: QueryOutcome(succeeded: false, failureClass: .httpStatus,
                                                                               detail: "HTTP \(response.status) at hop \(hop)", failedHop: hop, httpStatus: response.status),
                                          trace: recorder.snapshot, rows: hop)
                }
            } catch let failure as HTTPRequestFailure {
                recorder.record(method: "GET", uri: url.absoluteString, start: start, status: nil, connection: failure.connection,
                                connectionEvents: failure.connectionEvents, failure: .transport(failure.error))
                return QueryExecution(label: "http", outcome: QueryOutcome(succeeded: false, failureClass: QueryOutcome.wireClass(failure.error),
                                                                           detail: failure.description, failedHop: hop), trace: recorder.snapshot, rows: hop)
            } catch {
                return QueryExecution(label: "http", outcome: QueryOutcome.classify(error, trace: recorder.snapshot), trace: recorder.snapshot, rows: hop)
            }
            if hop + 1 < self.requestsPerQuery { try? await Task.sleep(for: self.interval) }
        }
        return QueryExecution(label: "http", outcome: .success, trace: recorder.snapshot, rows: self.requestsPerQuery)
    }
}
