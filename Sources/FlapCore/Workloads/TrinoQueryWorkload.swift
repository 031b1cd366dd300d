import Foundation
import HTTPWire
import TrinoClient

/// Trino queries: the original experiment's TPC-H Q9 by default, a query file, or a weighted mix.
public struct TrinoQueryWorkload: QueryWorkload {
    public struct Query: Sendable, Codable, Equatable {
        public var sql: String
        public var weight: Double
        public var label: String
        public init(sql: String, weight: Double = 1, label: String? = nil) {
            self.sql = sql
            self.weight = weight
            self.label = label ?? String(sql.split(whereSeparator: \.isNewline).first?.prefix(40) ?? "query")
        }
    }

    public static let tpchQ9 = """
        SELECT nation, o_year, sum(amount) AS sum_profit
        FROM (SELECT n_name AS nation, extract(YEAR FROM o_orderdate) AS o_year,
                     l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity AS amount
              FROM part, supplier, lineitem, partsupp, orders, nation
              WHERE s_suppkey = l_suppkey AND ps_suppkey = l_suppkey AND ps_partkey = l_partkey
                AND p_partkey = l_partkey AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey
                AND p_name LIKE '%green%') AS profit
        GROUP BY nation, o_year
        ORDER BY nation, o_year DESC
        """

    public var queries: [Query]
    public var session: TrinoSession
    /// The policy the measuring client uses. `.none` (the default) keeps every raw failure visible; client
    /// profiles are then computed from the traces.
    public var retryPolicy: RetryPolicy
    public var requestTimeout: Duration
    private let transport: SocketTransport
    private let seed: UInt64

    public init(queries: [Query] = [Query(sql: TrinoQueryWorkload.tpchQ9, label: "tpch-q9")],
                session: TrinoSession = TrinoSession(user: "flap", catalog: "tpch", schema: "sf1"),
                retryPolicy: RetryPolicy = .none, requestTimeout: Duration = .seconds(30), seed: UInt64 = 1,
                maxIdleConnectionsPerHost: Int = 4096) {
        self.queries = queries
        self.session = session
        self.retryPolicy = retryPolicy
        self.requestTimeout = requestTimeout
        self.seed = seed
        var configuration = SocketHTTPClient.Configuration()
        configuration.maxIdleConnectionsPerHost = maxIdleConnectionsPerHost
        self.transport = SocketTransport(client: SocketHTTPClient(configuration: configuration))
    }

    /// Queries separated by `;` lines in a file (`-- weight: N` before a query sets its weight).
    public static func queries(fromFile path: String) throws(WorkloadInputError) -> [Query] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw WorkloadInputError(.unreadable, "cannot read \(path)") }
        var queries: [Query] = []
        var weight = 1.0
        for chunk in text.components(separatedBy: ";") {
            var lines: [Substring] = []
            for line in chunk.split(separator: "\n", omittingEmptySubsequences: false) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.hasPrefix("-- weight:"), let w = Double(trimmed.dropFirst(10).trimmingCharacters(in: .whitespaces)), w > 0 {
                    weight = w
                } else {
                    lines.append(line)
                }
            }
            let sql = lines.joined(separator: "\n").trimmingCharacters(in: .whitespacesAndNewlines)
            let code = lines.filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("--") }.joined().trimmingCharacters(in: .whitespacesAndNewlines)
            guard !code.isEmpty else { continue }
            queries.append(Query(sql: sql, weight: weight))
            weight = 1
        }
        guard !queries.isEmpty else { throw WorkloadInputError(.empty, "query file \(path) holds no query") }
        return queries
    }

    public var name: String { "trino" }

    /// The query for index `n`, drawn by weight with a generator seeded by `n` (reproducible mixes).
    func query(_ index: Int) -> Query {
        guard self.queries.count > 1 else { return self.queries[0] }
        var generator = SplitMix(seed: self.seed &+ UInt64(index))
        let total = self.queries.reduce(0) { $0 + $1.weight }
        var pick = Double.random(in: 0..<total, using: &generator)
        for query in self.queries {
            pick -= query.weight
            if pick < 0 { return query }
        }
        return self.queries[self.queries.count - 1]
    }

    public func run(_ index: Int, through target: RouteTarget, deadline: ContinuousClock.Instant) async -> QueryExecution {
        // Set-up happens in synchronous helpers: what an async function holds lives in its task's memory for the
        // whole query, and 10,000 queries in flight multiply it.
        let query = self.query(index)
        let client = self.client(for: target)
        let recorder = QueryTraceRecorder()
        do {
            let result = try await client.execute(Self.trinoQuery(query.sql, deadline: deadline), trace: recorder)
            return QueryExecution(label: query.label, outcome: .success, trace: result.trace, rows: result.rows.count)
        } catch {
            let trace = recorder.snapshot
            return QueryExecution(label: query.label, outcome: QueryOutcome.classify(trinoError: error, trace: trace), trace: trace, rows: 0)
        }
    }

    private func client(for target: RouteTarget) -> TrinoClient {
        var configuration = TrinoClient.Configuration(server: target.url, session: self.session)
        configuration.retryPolicy = self.retryPolicy
        configuration.requestTimeout = self.requestTimeout
        var transport: any HTTPTransport = self.transport
        if let address = target.connectTo { transport = ConnectToTransport(base: self.transport, address: address) }
        return TrinoClient(configuration: configuration, transport: transport)
    }

    private static func trinoQuery(_ sql: String, deadline: ContinuousClock.Instant) -> TrinoQuery {
        var query = TrinoQuery(sql)
        query.timeout = deadline - .now
        return query
    }
}

/// Connects every request to one address whatever its URL's host (a proxy that routes by host, on loopback).
struct ConnectToTransport: HTTPTransport {
    let base: SocketTransport
    let address: String
    var name: String { self.base.name }
    func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> HTTPClientResponse {
        var request = request
        request.connectTo = self.address
        return try await self.base.send(request, deadline: deadline)
    }
}

/// A small seedable generator (SplitMix64).
package struct SplitMix: RandomNumberGenerator, Sendable {
    private var state: UInt64
    package init(seed: UInt64) { self.state = seed }
    package mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension QueryOutcome {
    /// Classifies what the Trino client threw; other errors as any workload's.
    public static func classify(trinoError error: any Error, trace: QueryTrace) -> QueryOutcome {
        let failedHop = trace.hops.last { !$0.succeeded }?.index ?? trace.hops.last?.index
        switch error {
        case let e as TrinoQueryError:
            return QueryOutcome(succeeded: false, failureClass: .trinoError, detail: "\(e.errorName): \(e.message)", failedHop: nil, trinoErrorName: e.errorName)
        case let e as TrinoProtocolError:
            if e.code == .unexpectedStatus, let status = e.status {
                return QueryOutcome(succeeded: false, failureClass: .httpStatus, detail: "HTTP \(status) on \(e.method ?? "?") at hop \(failedHop ?? -1)",
                                    failedHop: failedHop, httpStatus: status)
            }
            return QueryOutcome(succeeded: false, failureClass: .protocolError, detail: e.description, failedHop: failedHop)
        case let e as TrinoTransportError:
            return QueryOutcome(succeeded: false, failureClass: self.wireClass(e.underlying), detail: e.underlying.description, failedHop: failedHop)
        case let e as TrinoClientError:
            if e.code == .deadlineExceeded { return QueryOutcome(succeeded: false, failureClass: .clientGaveUp, detail: e.description, failedHop: failedHop) }
            return QueryOutcome(succeeded: false, failureClass: .other, detail: e.description, failedHop: failedHop)
        default:
            return self.classify(error, trace: trace)
        }
    }
}
