import CustomWorkloadExample
import FlapCore
import FlapFakes
import FlapTesting
import Foundation
import HTTPWire
import KubeClient
import Synchronization
import XCTest

final class KeyValueWorkloadTests: XCTestCase {
    func testAQueryWritesThenReadsItsValueBack() async throws {
        let service = try KeyValueService()
        defer { service.stop() }
        let execution = await KeyValueWorkload(reads: 3, interval: .milliseconds(10)).run(1, through: service.target, deadline: .now + .seconds(10))
        XCTAssertTrue(execution.outcome.succeeded, "\(execution.outcome)")
        XCTAssertEqual(execution.trace.hops.map(\.method), ["PUT", "GET", "GET", "GET"])
        XCTAssertEqual(execution.rows, 3)
    }

    func testAReadFromABackendWithoutTheDataFailsTheQuery() async throws {
        let service = try KeyValueService()
        defer { service.stop() }
        service.forget()
        let execution = await KeyValueWorkload(reads: 3, interval: .milliseconds(10)).run(1, through: service.target, deadline: .now + .seconds(10))
        XCTAssertEqual(execution.outcome.failureClass, .protocolError)
        XCTAssertEqual(execution.outcome.failedHop, 1)
        XCTAssertTrue(execution.outcome.detail?.contains("wrote \"value-1\"") == true, "\(execution.outcome)")
    }

    func testAnErrorStatusAPassedDeadlineAndARefusedConnectionAreClassified() async throws {
        let service = try KeyValueService(status: 503)
        let unavailable = await KeyValueWorkload(reads: 1).run(0, through: service.target, deadline: .now + .seconds(10))
        XCTAssertEqual(unavailable.outcome.label, "http-503")
        let late = await KeyValueWorkload(reads: 1).run(0, through: service.target, deadline: .now - .seconds(1))
        XCTAssertEqual(late.outcome.failureClass, .timeout, "\(late.outcome)")
        XCTAssertTrue(late.trace.hops.isEmpty, "no request after the deadline")
        service.stop()
        let refused = await KeyValueWorkload(reads: 1).run(0, through: service.target, deadline: .now + .seconds(10))
        XCTAssertEqual(refused.outcome.failureClass, .connectionRefused, "\(refused.outcome)")
    }

    /// The workload plugged into a whole experiment: a control arm, measured and gated like a Trino one.
    func testTheWorkloadRunsInAnExperimentAndPassesASurvivalGate() async throws {
        let service = try KeyValueService()
        let api = try FakeKubeAPIServer()
        defer { service.stop(); api.stop() }
        let state = NSTemporaryDirectory() + "flap-kv-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        var configuration = ExperimentConfiguration(arms: [.init(target: service.target, targetName: "kv", mutator: ControlMutator())],
                                                    workload: KeyValueWorkload(reads: 3, interval: .milliseconds(50)), kube: kube)
        configuration.load.arrival = .fixed(perSecond: 10)
        configuration.schedule.slot = .seconds(1)
        configuration.schedule.rounds = 2
        configuration.journalDirectory = state + "/journals"
        let report = try await ExperimentRunner(configuration: configuration).run()
        let arm = try XCTUnwrap(report.arm("kv-control"))
        XCTAssertGreaterThan(arm.queries, 5)
        try report.expect(survival: 0.99, arm: "kv-control")
    }
}

/// A key-value service on loopback: PUT /kv/KEY stores the body, GET returns it. `forget()` makes it answer
/// like a backend that never saw the write.
final class KeyValueService: Sendable {
    private final class Store: Sendable {
        let values = Mutex<[String: [UInt8]]>([:])
        let forgetful = Atomic<Bool>(false)
    }

    private let server: HTTPServer
    private let store = Store()

    init(status: Int = 200) throws {
        let store = self.store
        self.server = try HTTPServer { request in
            guard status == 200 else { return HTTPServerResponse(status: status) }
            if request.method == "PUT" {
                store.values.withLock { $0[request.path] = request.body }
                return HTTPServerResponse(status: 201)
            }
            let stored = store.forgetful.load(ordering: .relaxed) ? nil : store.values.withLock { $0[request.path] }
            return HTTPServerResponse(status: 200, body: stored ?? Array("someone else's value".utf8))
        }
    }

    var target: RouteTarget { RouteTarget(kind: .httpRoute, name: "kv", url: self.server.baseURL) }
    func forget() { self.store.forgetful.store(true, ordering: .relaxed) }
    func stop() { self.server.stop() }
}
