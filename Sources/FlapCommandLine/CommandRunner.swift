import FlapFakes
import FlapSystem
import Foundation
import HTTPWire
import TrinoClient

enum CommandRunner {
    /// Runs a command and returns its exit code.
    static func run(_ command: FlapCommand) async throws -> Int32 {
        switch command {
        case .run(let options): return try await RunCommand.execute(options)
        case .lab(let options, let profiles, let output): return try await LabCommands.compare(options: options, profiles: profiles, output: output)
        case .labUp(let configuration): return try await LabCommands.up(configuration)
        case .labScale(let routes, let profiles): return try await LabCommands.scale(routes: routes, profiles: profiles)
        case .labIncidents(let only, let profiles, let options, let output):
            return try await LabCommands.incidents(only: only, profiles: profiles, options: options, output: output)
        case .doctor(let options): return try await DoctorCommand.execute(options)
        case .report(let path, let format, let output, let gates): return try ReportCommands.report(path: path, format: format, output: output, gates: gates)
        case .compare(let old, let new, let thresholds): return try ReportCommands.compare(old: old, new: new, thresholds: thresholds)
        case .restore(let journal, let force, let kubeconfig, let context):
            return try await RestoreCommand.execute(journal: journal, force: force, kubeconfig: kubeconfig, context: context)
        default:
            try await self.runTool(command)
            return ExitCode.ok
        }
    }

    static func runTool(_ command: FlapCommand) async throws {
        switch command {
        case .run, .doctor, .report, .compare, .restore, .lab, .labUp, .labScale, .labIncidents: break
        case .help(let text):
            print(text)
        case .fakeTrino(let configuration, let idlePriority):
            // Before the server starts its threads, which then inherit the policy.
            if idlePriority { IdlePolicy.enterForProcess() }
            let server = try FakeTrinoServer(configuration: configuration)
            server.warmPageCache()
            for url in server.urls { print(url.absoluteString) }
            Output.flush()
            await Signals.waitForTermination()
            server.stop()
        case .fakeKube(let configuration, let kubeconfig):
            let server = try FakeKubeAPIServer(configuration: configuration)
            let path = kubeconfig ?? NSTemporaryDirectory() + "flap-fake-kube-\(server.port).kubeconfig"
            try server.writeKubeconfig(to: path)
            if configuration.bearerToken != nil {
                Output.note("note: this fake serves plain http; kubectl and client-go send no bearer token over http, so they get 401. "
                            + "The token is for clients told to send it anyway (KubeClient's sendCredentialsOverPlainHTTP) and for testing 401 handling.")
            }
            print(server.url.absoluteString)
            print("kubeconfig: \(path)")
            Output.flush()
            await Signals.waitForTermination()
            server.stop()
            if kubeconfig == nil { try? FileManager.default.removeItem(atPath: path) }
        case .demoTrino(let queries, let spooling):
            try await TrinoDemo.run(queries: queries, spooling: spooling)
        case .benchEngine(let levels, let hold, let ramp, let realTime):
            try await EngineBenchmark.run(levels: levels, hold: hold, ramp: ramp, realTime: realTime)
        case .benchTrinoClient(let rows, let python):
            try await TrinoClientBenchmark.run(rows: rows, python: python)
        }
    }
}

enum Output {
    static func flush() { fflush(nil) }

    /// Progress and notes: stderr, so stdout stays results only.
    static func note(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// Waits for SIGINT or SIGTERM.
enum Signals {
    /// A flag that turns true on the first SIGINT or SIGTERM (for loops that also watch for something else).
    static func terminationFlag() -> Locked<Bool> {
        let flag = Locked(false)
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { _ = flag.claim() }
            source.resume()
            Retained.keep(source as AnyObject)
        }
        return flag
    }

    static func waitForTermination() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let once = Locked(false)
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler {
                    if once.claim() { continuation.resume() }
                }
                source.resume()
                Retained.keep(source as AnyObject)
            }
        }
    }
}

/// Keeps signal sources alive for the life of the process.
enum Retained {
    nonisolated(unsafe) private static var objects: [AnyObject] = []
    private static let lock = NSLock()
    static func keep(_ object: AnyObject) { self.lock.withLock { self.objects.append(object) } }
}
