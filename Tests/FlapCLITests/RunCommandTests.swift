import FlapCore
import FlapFakes
import FlapJSON
import FlapSystem
import FlapTesting
import Foundation
import KubeClient
import XCTest
#if canImport(FoundationXML)
import FoundationXML
#endif

/// `flap-cli run` and `flap-cli restore` as a user runs them, against the fakes and the test proxy.
/// doctor's access-review verbs (get, list, watch, create, update, patch, delete).
enum DoctorCommandVerbs { static let count = 7 }

final class RunCommandTests: XCTestCase {
    final class Environment {
        let trino: FakeTrinoServer
        let api: FakeKubeAPIServer
        let proxy: FakeRouteProxy
        let directory = NSTemporaryDirectory() + "flap-cli-" + UUID().uuidString
        let kubeconfig: String

        init(queryDuration: Duration = .milliseconds(400), forbidden: [String: Set<String>] = [:]) async throws {
            var trino = FakeTrinoServer.Configuration()
            trino.queryDuration = queryDuration
            trino.rowsPerPage = 50
            trino.maxWait = .milliseconds(100)
            self.trino = try FakeTrinoServer(configuration: trino)
            var api = FakeKubeAPIServer.Configuration()
            api.forbidden = forbidden
            self.api = try FakeKubeAPIServer(configuration: api)
            self.proxy = try FakeRouteProxy(mode: .ingress, api: self.api, services: ["trino": self.trino.url])
            try FileManager.default.createDirectory(atPath: self.directory, withIntermediateDirectories: true)
            self.kubeconfig = try self.api.writeKubeconfig(to: "\(self.directory)/kubeconfig")
            var ingress = Ingress(name: "trino", namespace: "default")
            ingress.spec.rules = [Ingress.Rule(host: "trino.example.com", paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
            try await KubeClient(configuration: KubeClient.Configuration(server: self.api.url)).create(ingress)
        }

        var runArguments: [String] {
            ["run", "--kubeconfig", self.kubeconfig, "--ingress", "trino", "--ingress-url", "http://trino.example.com",
             "--connect-to", "127.0.0.1:\(self.proxy.port)", "--mutation", "delete-recreate", "--rate", "6", "--interval", "1.2s",
             "--iterations", "2", "--output", "\(self.directory)/out"]
        }

        var environment: [String: String] { ["FLAP_STATE_DIR": "\(self.directory)/state"] }

        func stop() {
            self.proxy.stop()
            self.api.stop()
            self.trino.stop()
            try? FileManager.default.removeItem(atPath: self.directory)
        }
    }

    func testRunWritesReportsAndGatesDecideTheExitCode() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let before = env.api.snapshot()
        let passing = try CLI.run(env.runArguments + ["--require", "survival(ingress-control) >= 0.99", "--require", "propagation.p99 < 5s"],
                                  environment: env.environment)
        XCTAssertEqual(passing.status, 0, passing.stderr + passing.stdout)
        XCTAssertTrue(passing.stdout.contains("ingress-delete-recreate"), passing.stdout)
        XCTAssertTrue(passing.stdout.contains("PASS survival(ingress-control) >= 0.99"), passing.stdout)
        let report = try ExperimentReport.decode(try Data(contentsOf: URL(fileURLWithPath: "\(env.directory)/out/report.json")))
        XCTAssertEqual(report.arms.map(\.name), ["ingress-control", "ingress-delete-recreate"])
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(env.directory)/out/report.html"))
        // The results directory can move: the report names its event log relative to itself; both CSV files carry
        // the run id on every row, and agree with the JSON.
        XCTAssertEqual(report.eventLog, "events.jsonl")
        XCTAssertTrue(FileManager.default.fileExists(atPath: "\(env.directory)/out/\(try XCTUnwrap(report.eventLog))"))
        let queries = try String(contentsOfFile: "\(env.directory)/out/queries.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(queries.count - 1, report.queries.count)
        XCTAssertTrue(queries.dropFirst().allSatisfy { $0.hasPrefix(report.runID + ",") })
        let mutations = try String(contentsOfFile: "\(env.directory)/out/mutations.csv", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(mutations.count - 1, report.mutations.count)
        XCTAssertTrue(passing.stdout.contains("\(env.directory)/out/mutations.csv"), passing.stdout)
        XCTAssertFalse(passing.stderr.contains("\u{1B}[") || passing.stderr.contains("\r"), "no progress line when stderr is not a terminal")
        XCTAssertEqual(env.api.snapshot().mapValues(Self.withoutAnnotations), before.mapValues(Self.withoutAnnotations), "the Ingress is back")

        let failing = try CLI.run(["report", "\(env.directory)/out/report.json", "--require", "survival(ingress-delete-recreate) >= 0.9999"],
                                  environment: env.environment)
        if report.arm("ingress-delete-recreate")!.survival.estimate < 0.9999 {
            XCTAssertEqual(failing.status, 3, failing.stdout)
        }
        let junit = try CLI.run(["report", "\(env.directory)/out/report.json", "--format", "junit"], environment: env.environment)
        XCTAssertEqual(junit.status, 0)
        let document = try XMLDocument(data: Data(junit.stdout.utf8))
        XCTAssertEqual(try document.nodes(forXPath: "//testcase[@classname='flap.arm']").count, 2, "one test case per arm")
        XCTAssertEqual(try document.nodes(forXPath: "//testcase[@classname='flap.gate']").count, 2, "and one per gate")
        let compare = try CLI.run(["compare", "\(env.directory)/out/report.json", "\(env.directory)/out/report.json"], environment: env.environment)
        XCTAssertEqual(compare.status, 0, "a report equals itself: \(compare.stdout)")
    }

    func testKillDashNineThenRestoreFinishesTheJob() async throws {
        let env = try await Environment(queryDuration: .seconds(2))
        defer { env.stop() }
        let before = env.api.snapshot()
        let checkpoint = env.api.checkpoint()
        let process = try CLI.start(env.runArguments.map { $0 == "1.2s" ? "3s" : $0 }, environment: env.environment)
        // Wait until the run has deleted the Ingress, then kill it at a random moment within the flap window
        // (before or after the recreate), without a chance to restore.
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, !env.api.changes(since: checkpoint).contains(where: { $0.kind == .deleted }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        try await Task.sleep(for: .milliseconds(Int64.random(in: 0...1500)))
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let journals = try FileManager.default.contentsOfDirectory(atPath: "\(env.directory)/state/journals")
        XCTAssertEqual(journals.count, 1, "the journal survived the crash")
        let refused = try CLI.run(env.runArguments, environment: env.environment)
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("did not finish restoring"), refused.stderr)
        let restore = try CLI.run(["restore", "--kubeconfig", env.kubeconfig], environment: env.environment)
        XCTAssertEqual(restore.status, 0, restore.stderr)
        XCTAssertTrue(restore.stdout.hasPrefix("run flap-"), restore.stdout)
        XCTAssertEqual(env.api.snapshot().mapValues(Self.withoutAnnotations), before.mapValues(Self.withoutAnnotations))
        let again = try CLI.run(["restore", "--kubeconfig", env.kubeconfig], environment: env.environment)
        XCTAssertEqual(again.stdout, "nothing to restore: no journal in \(env.directory)/state/journals\n", "restore is idempotent")
    }

    func testRestoreRefusesAJournalFromAnotherClusterUnlessNamedAndForced() async throws {
        let here = try await Environment()
        let elsewhere = try await Environment()
        defer { here.stop(); elsewhere.stop() }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: elsewhere.api.url))
        let journal = try await RestoreJournal.capture([ObjectReference(resource: .ingress, namespace: "default", name: "trino")],
                                                       runID: "flap-elsewhere", kube: kube)
        let store = JournalStore(directory: "\(here.directory)/state/journals")
        try store.save(journal)
        try await KubeClient(configuration: KubeClient.Configuration(server: here.api.url))
            .modify(Ingress.self, name: "trino", namespace: "default") { $0.metadata.labels = ["mine": "yes"] }
        let before = here.api.snapshot()
        let refused = try CLI.run(["restore", "--kubeconfig", here.kubeconfig], environment: here.environment)
        XCTAssertEqual(refused.status, 1, refused.stdout + refused.stderr)
        XCTAssertTrue(refused.stderr.contains("was written against \(elsewhere.api.url.absoluteString)"), refused.stderr)
        XCTAssertTrue(refused.stderr.contains("the journal is kept"), refused.stderr)
        XCTAssertEqual(here.api.snapshot(), before, "nothing was written to this cluster")
        XCTAssertTrue(FileManager.default.fileExists(atPath: store.path(for: "flap-elsewhere")))
        let unnamed = try CLI.run(["restore", "--force", "--kubeconfig", here.kubeconfig], environment: here.environment)
        XCTAssertEqual(unnamed.status, 2, "--force needs the one journal named: \(unnamed.stderr)")
        let forced = try CLI.run(["restore", "--journal", store.path(for: "flap-elsewhere"), "--force", "--kubeconfig", here.kubeconfig],
                                 environment: here.environment)
        XCTAssertEqual(forced.status, 0, forced.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: store.path(for: "flap-elsewhere")))
    }

    func testAnUnwritableOutputDirectoryIsNamedBeforeTheClusterIsTouched() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let before = env.api.snapshot()
        let arguments = env.runArguments.map { $0 == "\(env.directory)/out" ? "/proc/flap-cannot-write-here" : $0 }
        let run = try CLI.run(arguments, environment: env.environment)
        XCTAssertEqual(run.status, 1)
        XCTAssertTrue(run.stderr.hasPrefix("flap-cli: cannot write /proc/flap-cannot-write-here: "), run.stderr)
        XCTAssertFalse(run.stderr.contains("NSCocoaErrorDomain"), run.stderr)
        XCTAssertEqual(env.api.snapshot(), before)
        XCTAssertFalse(FileManager.default.fileExists(atPath: "\(env.directory)/state/journals"), "no journal: the run never started")
    }

    func testAFailedRestoreStillWritesTheReportsAndSaysSoOnce() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let checkpoint = env.api.checkpoint()
        let process = try CLI.start(env.runArguments, environment: env.environment, stderrPath: "\(env.directory)/stderr.log")
        // Once the run has deleted the Ingress, the API refuses every create: the recreate and the restore fail.
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, !env.api.changes(since: checkpoint).contains(where: { $0.kind == .deleted }) {
            try await Task.sleep(for: .milliseconds(10))
        }
        env.api.inject(FakeKubeFault(.internalError, verb: .create, count: 10_000))
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, "a run that could not restore exits 1")
        let report = try ExperimentReport.decode(try Data(contentsOf: URL(fileURLWithPath: "\(env.directory)/out/report.json")))
        XCTAssertNotNil(report.notRestored, "report.json is written and marked")
        XCTAssertTrue(try String(contentsOfFile: "\(env.directory)/out/report.html", encoding: .utf8).contains("NOT RESTORED"))
        let log = try String(contentsOfFile: "\(env.directory)/stderr.log", encoding: .utf8)
        XCTAssertEqual(log.components(separatedBy: "the journal is kept").count - 1, 1, "said once: \(log)")
    }

    func testFakeKubeWithATokenSaysHTTPClientsWillNotSendIt() async throws {
        let directory = NSTemporaryDirectory() + "flap-token-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = try CLI.start(["fake", "kube", "--token", "s3cret-token", "--kubeconfig", "\(directory)/kubeconfig"], environment: [:],
                                    stderrPath: "\(directory)/stderr.log")
        defer { process.terminate(); process.waitUntilExit() }
        var log = ""
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, !log.contains("401") {
            try await Task.sleep(for: .milliseconds(50))
            log = (try? String(contentsOfFile: "\(directory)/stderr.log", encoding: .utf8)) ?? ""
        }
        XCTAssertTrue(log.contains("kubectl and client-go send no bearer token over http"), log)
        XCTAssertFalse(log.contains("s3cret-token"), "the token is never printed")
    }

    func testSIGTERMStopsRestoresAndExitsFour() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let before = env.api.snapshot()
        let checkpoint = env.api.checkpoint()
        let process = try CLI.start(env.runArguments.map { $0 == "1.2s" ? "3s" : $0 }, environment: env.environment)
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline, !env.api.changes(since: checkpoint).contains(where: { $0.kind == .deleted }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        process.terminate()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 4, "stopped runs exit 4")
        XCTAssertEqual(env.api.snapshot().mapValues(Self.withoutAnnotations), before.mapValues(Self.withoutAnnotations), "SIGTERM restored the Ingress")
        XCTAssertTrue(try FileManager.default.contentsOfDirectory(atPath: "\(env.directory)/state/journals").isEmpty)
    }

    func testDoctorChecksAccessObjectsAndTrino() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let doctor = try CLI.run(["doctor", "--kubeconfig", env.kubeconfig, "--ingress", "trino", "--ingress-url", "http://trino.example.com",
                                  "--connect-to", "127.0.0.1:\(env.proxy.port)"], environment: env.environment)
        XCTAssertEqual(doctor.status, 0, doctor.stdout + doctor.stderr)
        XCTAssertTrue(doctor.stdout.contains("ok   may delete ingresses.networking.k8s.io in default"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("ok   Ingress trino exists"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("ok   Trino answers through ingress"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("kind: Role"), doctor.stdout)
        let missing = try CLI.run(["doctor", "--kubeconfig", env.kubeconfig, "--ingress", "ghost", "--ingress-url", "http://127.0.0.1:1"], environment: env.environment)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stdout.contains("FAIL Ingress ghost"), missing.stdout)
    }

    /// The issue's first observation, from the command line: a backend the Ingress does not have.
    func testAnImpossibleMutationIsRefusedByRunDryRunAndDoctorBeforeAnyWrite() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let checkpoint = env.api.checkpoint()
        let arguments = env.runArguments.map { $0 == "delete-recreate" ? "remove-readd-backend:trino-worker-service" : $0 }
        let message = "Ingress default/trino has no backend named trino-worker-service (its backends: trino)"
        let run = try CLI.run(arguments, environment: env.environment)
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.contains("nothing was written: arm ingress-remove-readd-trino-worker-service: \(message)"), run.stderr)
        let dryRun = try CLI.run(arguments + ["--dry-run"], environment: env.environment)
        XCTAssertEqual(dryRun.status, 1, dryRun.stdout + dryRun.stderr)
        XCTAssertTrue(dryRun.stdout.contains("ok   ingress-control: control can work on Ingress default/trino"), dryRun.stdout)
        XCTAssertTrue(dryRun.stdout.contains("FAIL ingress-remove-readd-trino-worker-service: \(message)"), dryRun.stdout)
        let doctor = try CLI.run(["doctor"] + arguments.dropFirst(), environment: env.environment)
        XCTAssertEqual(doctor.status, 1)
        XCTAssertTrue(doctor.stdout.contains("FAIL mutation ingress-remove-readd-trino-worker-service: \(message)"), doctor.stdout)
        XCTAssertTrue(env.api.changes(since: checkpoint).isEmpty, "nothing was written")
        let possible = try CLI.run(env.runArguments + ["--dry-run"], environment: env.environment)
        XCTAssertEqual(possible.status, 0, possible.stdout + possible.stderr)
    }

    /// A Role without `delete` on Ingresses: delete-recreate is refused before any write, by run, --dry-run and doctor.
    func testAMissingPermissionIsRefusedBeforeAnyWrite() async throws {
        let env = try await Environment(forbidden: ["ingresses": ["delete"]])
        defer { env.stop() }
        let checkpoint = env.api.checkpoint()
        let message = "arm ingress-delete-recreate: this identity may not delete ingresses.networking.k8s.io in default (a SelfSubjectAccessReview said so)"
        let run = try CLI.run(env.runArguments, environment: env.environment)
        XCTAssertEqual(run.status, 1, run.stdout + run.stderr)
        XCTAssertTrue(run.stderr.contains("nothing was written: \(message)"), run.stderr)
        let dryRun = try CLI.run(env.runArguments + ["--dry-run"], environment: env.environment)
        XCTAssertEqual(dryRun.status, 1)
        XCTAssertTrue(dryRun.stdout.contains("FAIL ingress-delete-recreate: this identity may not delete"), dryRun.stdout)
        let doctor = try CLI.run(["doctor"] + env.runArguments.dropFirst(), environment: env.environment)
        XCTAssertEqual(doctor.status, 1)
        XCTAssertTrue(doctor.stdout.contains("FAIL may delete ingresses.networking.k8s.io in default"), doctor.stdout)
        XCTAssertTrue(doctor.stdout.contains("FAIL mutation ingress-delete-recreate: this identity may not delete"), doctor.stdout)
        XCTAssertTrue(env.api.changes(since: checkpoint).isEmpty, "nothing was written")
        // The fake refuses the write itself too, as the real server would.
        let kube = KubeClient(configuration: KubeClient.Configuration(server: env.api.url))
        do {
            _ = try await kube.delete(.ingress, name: "trino", namespace: "default")
            XCTFail("the delete should be forbidden")
        } catch let error as KubeStatusError {
            XCTAssertEqual(error.code, 403)
        }
    }

    func testDoctorAgainstASilentAPIServerSaysWhichStepTimedOut() async throws {
        let env = try await Environment()
        defer { env.stop() }
        env.api.inject(FakeKubeFault(.latency(.seconds(12)), verb: .any, count: 1))
        let doctor = try CLI.run(["doctor", "--kubeconfig", env.kubeconfig, "--ingress", "trino", "--ingress-url", "http://trino.example.com",
                                  "--connect-to", "127.0.0.1:\(env.proxy.port)"], environment: env.environment)
        XCTAssertEqual(doctor.status, 1, doctor.stdout + doctor.stderr)
        let lines = doctor.stdout.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasPrefix("FAIL may get ingresses") && $0.contains("access review (get): the API server at \(env.api.url.absoluteString) did not answer within") },
                      doctor.stdout)
        XCTAssertEqual(lines.filter { $0.contains("not checked: the API server") }.count, DoctorCommandVerbs.count, // six more access reviews and the object check
                       "the other access reviews and the object check wait for nothing: \(doctor.stdout)")
        // An https:// server that speaks plain HTTP: the TLS handshake never completes; the step still ends.
        let https = env.directory + "/https.kubeconfig"
        let text = try String(contentsOfFile: env.kubeconfig, encoding: .utf8).replacingOccurrences(of: "http://", with: "https://")
        try text.write(toFile: https, atomically: true, encoding: .utf8)
        let tls = try CLI.run(["doctor", "--kubeconfig", https, "--ingress", "trino", "--ingress-url", "http://127.0.0.1:1"], environment: env.environment)
        XCTAssertEqual(tls.status, 1, tls.stdout + tls.stderr)
        XCTAssertTrue(tls.stdout.hasPrefix("FAIL may get ingresses"), tls.stdout)
        XCTAssertTrue(tls.stdout.contains("kind: Role"), "doctor finished: \(tls.stdout)")
    }

    func testDryRunPrintsThePlanAndBadFlagsExitTwo() async throws {
        let env = try await Environment()
        defer { env.stop() }
        let checkpoint = env.api.checkpoint()
        let plan = try CLI.run(env.runArguments + ["--dry-run"], environment: env.environment)
        XCTAssertEqual(plan.status, 0)
        XCTAssertTrue(plan.stdout.contains("step 0: DELETE ingresses.networking.k8s.io default/trino"), plan.stdout)
        XCTAssertTrue(plan.stdout.contains("step 1: POST ingresses.networking.k8s.io default/trino"), plan.stdout)
        XCTAssertTrue(env.api.changes(since: checkpoint).isEmpty, "a dry run writes nothing")
        for (arguments, message) in [
            (["run", "--ingress", "x"], "--ingress x needs --ingress-url"),
            (["run", "--ingress", "x", "--ingress-url", "http://h", "--mutation", "explode"], "unknown mutation kind \"explode\""),
            (["run", "--ingress", "x", "--ingress-url", "http://h", "--mutation", "touch", "--require", "p99(x) < soon"], "is not a number"),
            (["run", "--ingress", "x", "--ingress-url", "http://h", "--mutation", "touch", "--interval", "fast"], "schedule.slot"),
        ] {
            let result = try CLI.run(arguments, environment: env.environment)
            XCTAssertEqual(result.status, 2, "\(arguments)")
            XCTAssertTrue(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
        let badScenario = "\(env.directory)/bad.json"
        try #"{"targets": [{"name": "a", "kind": "ingress", "route": "r"}], "mutations": []}"#.write(toFile: badScenario, atomically: true, encoding: .utf8)
        let scenario = try CLI.run(["run", "--scenario", badScenario], environment: env.environment)
        XCTAssertEqual(scenario.status, 2)
        XCTAssertTrue(scenario.stderr.contains("targets[0].url is required"), scenario.stderr)
    }

    static func withoutAnnotations(_ value: JSONValue) -> JSONValue {
        var value = value
        value.setValue(nil, at: "metadata.annotations")
        return value
    }
}

enum CLI {
    struct Result { var status: Int32; var stdout: String; var stderr: String }

    static var binary: URL {
        get throws {
            let bundle = Bundle(for: RunCommandTests.self).bundleURL
            let candidates = [bundle.appending(path: "flap-cli"), bundle.deletingLastPathComponent().appending(path: "flap-cli")]
            return try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) }, "flap-cli must be built next to the tests")
        }
    }

    static func start(_ arguments: [String], environment: [String: String], stderrPath: String? = nil) throws -> Process {
        let process = Process()
        process.executableURL = try self.binary
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        if let stderrPath {
            _ = FileManager.default.createFile(atPath: stderrPath, contents: nil)
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        } else {
            process.standardError = FileHandle.nullDevice
        }
        try process.run()
        return process
    }

    static func run(_ arguments: [String], environment: [String: String]) throws -> Result {
        let output = try ProcessLauncher.run(try self.binary.path, arguments, environment: environment)
        return Result(status: output.status, stdout: output.stdout, stderr: output.stderr)
    }
}
