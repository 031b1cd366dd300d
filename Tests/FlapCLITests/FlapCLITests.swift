import FlapCore
import FlapFakes
import FlapLab
import FlapSystem
import FlapTesting
import Foundation
import XCTest
@testable import FlapCommandLine

final class CommandParsingTests: XCTestCase {
    func testFakeTrinoOptions() throws {
        guard case .fakeTrino(let c, idlePriority: true) = try FlapCommand.parse(["fake", "trino", "--port", "0", "--shape", "bench", "--rows", "500",
                                                                                  "--duration=2s", "--max-wait", "250ms", "--spooling", "--listeners", "2",
                                                                                  "--idle-priority"]),
              case .fakeTrino(_, idlePriority: false) = try FlapCommand.parse(["fake", "trino"]) else {
            return XCTFail()
        }
        XCTAssertEqual(c.shape, FakeResultShape(kind: .bench, rowCount: 500))
        XCTAssertEqual(c.queryDuration, .seconds(2))
        XCTAssertEqual(c.maxWait, .milliseconds(250))
        XCTAssertTrue(c.spooling)
        XCTAssertEqual(c.listeners, 2)
    }

    /// Defaults are declared once: what a command does without flags is what its help says.
    func testHelpShowsTheDefaultsTheParserUses() throws {
        guard case .benchEngine(let levels, let hold, let ramp, false) = try FlapCommand.parse(["bench", "engine"]),
              case .help(let benchHelp) = try FlapCommand.parse(["bench", "engine", "--help"]) else { return XCTFail() }
        XCTAssertTrue(benchHelp.contains("[--levels \(levels.map(String.init).joined(separator: ","))] [--hold \(DurationText.format(hold))]"), benchHelp)
        XCTAssertTrue(benchHelp.contains("[--ramp \(DurationText.format(ramp))]"), benchHelp)
        guard case .lab(let options, let profiles, nil) = try FlapCommand.parse(["lab"]), case .labScale(let routes, _) = try FlapCommand.parse(["lab", "scale"]),
              case .help(let labHelp) = try FlapCommand.parse(["lab", "--help"]) else { return XCTFail() }
        XCTAssertTrue(labHelp.contains("[--profiles \(profiles.map(\.rawValue).joined(separator: ","))|all] [--rounds \(options.rounds)]"), labHelp)
        XCTAssertTrue(labHelp.contains("[--slot \(DurationText.format(options.slot))] [--rate \(Int(options.rate))]"), labHelp)
        XCTAssertTrue(labHelp.contains("[--routes \(routes.map(String.init).joined(separator: ","))]"), labHelp)
        guard case .help(let runHelp) = try FlapCommand.parse(["run", "--help"]) else { return XCTFail() }
        for kind in MutatorRegistry.builtIn.usage { XCTAssertTrue(runHelp.contains(kind), "run --help lists \(kind)") }
    }

    func testBadFlagsSaySpecificallyWhatIsWrong() {
        let cases: [([String], String)] = [
            (["fake", "trino", "--port", "70000"], "--port must be a whole number from 0 to 65535, not \"70000\""),
            (["fake", "trino", "--shape", "huge"], "--shape must be q9, bench, realistic or types, not \"huge\""),
            (["fake", "trino", "--rows", "5"], "--rows needs --shape bench or realistic"),
            (["fake", "trino", "--duration", "soon"], "--duration: \"soon\" is not a duration such as 500ms, 6s or 2m"),
            (["fake", "trino", "--duration", "1e300s"], "--duration: \"1e300s\" is longer than 30 days"),
            (["lab", "--slot", "1e300s"], "--slot: \"1e300s\" is longer than 30 days"),
            (["restore", "--force"], "--force needs --journal FILE"),
            (["run", "--ingress", "x", "--ingress-url", "http://x", "--mutation", "touch", "--interval", "1e300s"], "schedule.slot: \"1e300s\" is longer than 30 days"),
            (["run", "--ingress", "x", "--ingress-url", "http://x", "--mutation", "touch", "--jitter", "99999999999999999s"],
             "schedule.jitter: \"99999999999999999s\" is longer than 30 days"),
            (["run", "--ingress", "x", "--ingress-url", "http://x", "--mutation", "touch", "--duration", "1e300m"],
             "--duration must be a positive duration: \"1e300m\" is longer than 30 days"),
            (["fake", "trino", "--port"], "--port needs a value"),
            (["fake", "trino", "--colour"], "unknown option --colour"),
            (["demo", "trino", "--spooling=yes"], "--spooling takes no value"),
            (["bench", "trino-client", "extra"], "unknown command \"bench trino-client extra\""),
            (["lab", "up", "--coordinators", "0"], "--coordinators must be a whole number from 1 to 16, not \"0\""),
            (["lab", "up", "--workers", "-1"], "--workers must be a whole number from 0 to 64, not \"-1\""),
            (["lab", "up", "--pod-namespace", "Team_A"], "--pod-namespace \"Team_A\" is not a namespace name"),
            (["lab", "up", "--query-duration", "soon"], "--query-duration: \"soon\" is not a duration"),
            (["lab", "--profiles", "traefik"], "--profiles: unknown profile \"traefik\" (profiles: ingress-nginx, contour, nginx-gateway-fabric, envoy-gateway, haproxy, haproxy-gateway, or all)"),
        ]
        for (arguments, message) in cases {
            XCTAssertThrowsError(try FlapCommand.parse(arguments), "\(arguments)") { error in
                XCTAssertTrue((error as? UsageError)?.message.hasPrefix(message) == true, "\(arguments): \(error)")
            }
        }
    }

    func testLabUpOptions() throws {
        guard case .labUp(let configuration) = try FlapCommand.parse(["lab", "up", "--coordinators", "2", "--workers", "3", "--pod-namespace", "gateway-system",
                                                                      "--pod-namespace", "team-a", "--manifests", "cluster", "--no-routes", "--query-duration", "3s"])
        else { return XCTFail() }
        XCTAssertEqual(configuration.coordinators, 2)
        XCTAssertEqual(configuration.workers, 3)
        XCTAssertEqual(configuration.podNamespaces, ["gateway-system", "team-a"])
        XCTAssertEqual(configuration.manifests, "cluster")
        XCTAssertFalse(configuration.seedRoutes)
        XCTAssertEqual(configuration.queryDuration, .seconds(3))
        guard case .labUp(let defaults) = try FlapCommand.parse(["lab", "up"]) else { return XCTFail() }
        XCTAssertEqual(defaults.coordinators, 1)
        XCTAssertEqual(defaults.profiles, LabProfile.factorial)
        guard case .lab(_, let all, _) = try FlapCommand.parse(["lab", "--profiles", "all"]),
              case .lab(_, let two, _) = try FlapCommand.parse(["lab", "--profiles", "envoy-gateway,ingress-nginx"]) else { return XCTFail() }
        XCTAssertEqual(all, LabProfile.allCases)
        XCTAssertEqual(two, [.ingressNginx, .envoyGateway], "in the factorial's order")
        XCTAssertEqual(defaults.workers, 1)
        XCTAssertTrue(defaults.seedRoutes)
    }

    func testHelpForEverySubcommand() throws {
        for arguments in [[], ["help"], ["fake", "trino", "--help"], ["demo", "trino", "--help"], ["bench", "trino-client", "-h"]] {
            guard case .help(let text) = try FlapCommand.parse(arguments) else { return XCTFail("\(arguments)") }
            XCTAssertTrue(text.hasPrefix("usage: flap-cli"), text)
        }
    }
}

/// Runs the built binary, as a user would.
final class CommandLineTests: XCTestCase {
    private func binary() throws -> URL {
        let bundle = Bundle(for: Self.self).bundleURL
        let candidates = [bundle.appending(path: "flap-cli"), bundle.deletingLastPathComponent().appending(path: "flap-cli")]
        return try XCTUnwrap(candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) },
                             "flap-cli must be built next to the tests (swift build --build-tests builds it): looked at \(candidates.map(\.path))")
    }

    private func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let output = try ProcessLauncher.run(try self.binary().path, arguments)
        return (output.status, output.stdout, output.stderr)
    }

    func testUsageErrorsExitTwoOnStderr() throws {
        let result = try self.run(["fake", "trino", "--port", "nope"])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stdout, "")
        XCTAssertEqual(result.stderr, "flap-cli: --port must be a whole number from 0 to 65535, not \"nope\"\n")
    }

    func testDemoRunsTheClientAgainstTheFake() throws {
        let result = try self.run(["demo", "trino", "--queries", "1"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("rows=175"), result.stdout)
        XCTAssertTrue(result.stdout.contains("server ledger: 1 queries, 1 finished, 175 rows served"), result.stdout)
    }
}
