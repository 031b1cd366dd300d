import FlapFakes
import Foundation
import HTTPWire
import TrinoClient
import XCTest

func fixture(_ name: String) throws -> [UInt8] {
    let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures"))
    return [UInt8](try Data(contentsOf: url))
}

/// A fake coordinator and a client pointed at it, torn down by the test.
struct TrinoHarness {
    let server: FakeTrinoServer
    let client: TrinoClient

    init(server configure: (inout FakeTrinoServer.Configuration) -> Void = { _ in },
         client adjust: (inout TrinoClient.Configuration) -> Void = { _ in },
         transport: any HTTPTransport = SocketTransport()) throws {
        var serverConfiguration = FakeTrinoServer.Configuration()
        serverConfiguration.queryDuration = .milliseconds(50)
        configure(&serverConfiguration)
        self.server = try FakeTrinoServer(configuration: serverConfiguration)
        var clientConfiguration = TrinoClient.Configuration(server: self.server.url, session: TrinoSession(user: "alice", catalog: "tpch", schema: "sf1"))
        clientConfiguration.requestTimeout = .seconds(5)
        adjust(&clientConfiguration)
        self.client = TrinoClient(configuration: clientConfiguration, transport: transport)
    }

    func stop() { self.server.stop() }
}

let q9SQL = "SELECT nation, o_year, sum(amount) AS sum_profit FROM profit GROUP BY nation, o_year"

extension XCTestCase {
    /// Awaits `body` and returns its error, failing the test if it did not throw.
    func expectError<T>(_ body: () async throws -> T, file: StaticString = #filePath, line: UInt = #line) async -> (any Error)? {
        do {
            _ = try await body()
            XCTFail("expected an error", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    /// Polls `condition` until it holds or `timeout` passes (for server-side effects that land asynchronously).
    func eventually(_ timeout: Duration = .seconds(3), _ condition: () -> Bool) async -> Bool {
        let end = ContinuousClock.now + timeout
        while ContinuousClock.now < end {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}
