import FlapSystem
import Foundation
import HTTPWire
import TrinoClient

/// An in-process Trino coordinator that follows the client protocol: queued and executing phases, slugs and
/// tokens, cached pages, 410 for stale tokens, `DELETE` cancels, abandoned queries, long polls, spooling, and
/// a ledger of what really happened to each query. Faults can be injected per request kind.
///
/// ```swift
/// let trino = try FakeTrinoServer()
/// defer { trino.stop() }
/// let client = TrinoClient(configuration: .init(server: trino.url, session: TrinoSession(user: "test")))
/// ```
public final class FakeTrinoServer: Sendable {
    public struct Configuration: Sendable {
        /// The result of queries that do not ask for another shape.
        public var shape = FakeResultShape.q9
        /// From the first GET to the last page; pages are spread evenly over it.
        public var queryDuration: Duration = .milliseconds(100)
        /// Time a query stays QUEUED after its first GET.
        public var queuedTime: Duration = .zero
        public var rowsPerPage = 16_384
        /// The longest a GET waits for the next page (Trino: 1 s).
        public var maxWait: Duration = .seconds(1)
        /// A query not polled for this long ends `ABANDONED_QUERY` (Trino's `query.client.timeout`, 5 min).
        public var clientTimeout: Duration = .seconds(300)
        /// Answer clients that ask for `X-Trino-Query-Data-Encoding: json` with spooled segments.
        public var spooling = false
        /// When set, statement requests must carry exactly this `Authorization` value.
        public var requiredAuthorization: String?
        /// How many listeners (ports) share this coordinator's queries: Services selecting one pod.
        public var listeners = 1
        public var host = "127.0.0.1"
        /// Port of the first listener (0 picks a free one).
        public var port = 0
        public init() {}
    }

    private let coordinator: FakeTrinoCoordinator
    private let servers: [HTTPServer]

    public init(configuration: Configuration = Configuration()) throws {
        let coordinator = FakeTrinoCoordinator(configuration: configuration)
        self.coordinator = coordinator
        var servers: [HTTPServer] = []
        for index in 0..<max(1, configuration.listeners) {
            var http = HTTPServer.Configuration()
            http.host = configuration.host
            http.port = index == 0 ? configuration.port : 0
            let box = Locked(0)
            let server = try HTTPServer(configuration: http, asyncHandler: { request in await coordinator.handle(request, port: box.value) })
            box.value = server.port
            servers.append(server)
        }
        self.servers = servers
    }

    /// The first listener's URL.
    public var url: URL { self.servers[0].baseURL }
    /// Every listener's URL; all reach the same queries.
    public var urls: [URL] { self.servers.map(\.baseURL) }
    public var ports: [Int] { self.servers.map(\.port) }

    /// Every query so far, in submission order.
    public var ledger: [FakeQueryRecord] { self.coordinator.records }
    public func record(for queryID: String) -> FakeQueryRecord? { self.coordinator.record(queryID) }

    /// Generates every page of the default result shape now, so serving it later costs no generation time.
    public func warmPageCache() { self.coordinator.warmPageCache() }

    /// Applies `fault` to the next `fault.remaining` matching requests.
    public func inject(_ fault: FakeTrinoFault) { self.coordinator.inject(fault) }
    public func clearFaults() { self.coordinator.clearFaults() }

    /// Closes every client connection, as a restarting pod or a reloading proxy would.
    public func dropAllConnections() { self.servers.forEach { $0.dropAllConnections() } }

    public var openConnectionCount: Int { self.servers.reduce(0) { $0 + $1.openConnectionCount } }

    public func stop() { self.servers.forEach { $0.stop() } }
}
