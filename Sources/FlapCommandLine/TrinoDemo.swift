import FlapCore
import FlapFakes
import Foundation
import HTTPWire
import TrinoClient

/// A direct Trino-client demo: no proxy and no cluster, just the client and an in-process FakeTrinoServer.
enum TrinoDemo {
    static let q9 = TrinoQueryWorkload.tpchQ9

    static func run(queries: Int, spooling: Bool) async throws {
        var configuration = FakeTrinoServer.Configuration()
        configuration.queryDuration = .milliseconds(300)
        configuration.rowsPerPage = 50
        configuration.spooling = spooling
        let server = try FakeTrinoServer(configuration: configuration)
        defer { server.stop() }
        print("flap demo: the Trino client against an in-process FakeTrinoServer at \(server.url) (no proxy, no cluster)")
        var clientConfiguration = TrinoClient.Configuration(server: server.url, session: TrinoSession(user: "admin", catalog: "tpch", schema: "sf1"))
        if spooling { clientConfiguration.spoolingEncodings = ["json"] }
        let client = TrinoClient(configuration: clientConfiguration, transport: SocketTransport())
        for index in 1...queries {
            let result = try await client.execute(TrinoQuery(self.q9))
            let trace = result.trace
            let elapsed = (trace.end ?? .now) - trace.start
            let reused = trace.hops.flatMap(\.attempts).filter { $0.connection?.reused == true }.count
            print("query \(index): \(result.queryID) \(result.stats.state) rows=\(result.rows.count) columns=\(result.columns.map(\.name).joined(separator: ",")) "
                  + "time=\(Self.format(elapsed)) hops=\(trace.hops.count) connections opened=\(trace.connectionsOpened) reused=\(reused) transport=\(trace.transport)")
            for hop in trace.hops {
                let attempt = hop.attempts.last
                let connection = attempt?.connection.map { "conn#\($0.connectionID)\($0.reused ? " reused" : " new")" } ?? "-"
                print("  hop \(hop.index) \(hop.purpose.rawValue) \(hop.method) \(hop.finalStatus.map(String.init) ?? "-") "
                      + "\(Self.format(hop.end - hop.start)) \(attempt?.bytesReceived ?? 0)B \(connection) \(Self.shortPath(hop.uri))")
            }
            if let first = result.rows.first {
                print("  first row: " + first.map(Self.describe).joined(separator: " | "))
            }
        }
        let ledger = server.ledger
        print("server ledger: \(ledger.count) queries, \(ledger.filter { $0.outcome == .finished }.count) finished, "
              + "\(ledger.reduce(0) { $0 + $1.rowsServed }) rows served")
    }

    static func describe(_ value: TrinoValue) -> String {
        switch value {
        case .null: "NULL"
        case .integer(let v): String(v)
        case .double(let v): String(v)
        case .varchar(let s): s
        case .date(let d): d.description
        default: "\(value)"
        }
    }

    static func format(_ d: Duration) -> String {
        let ms = Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
        return String(format: "%.1fms", ms)
    }

    static func shortPath(_ uri: String) -> String {
        URL(string: uri)?.path ?? uri
    }
}
