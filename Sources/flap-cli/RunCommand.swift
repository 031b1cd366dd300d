import FlapCore
import Foundation
import KubeClient

/// Exit codes of `run`, `report` and `compare`.
enum ExitCode {
    static let ok: Int32 = 0
    static let error: Int32 = 1
    static let usage: Int32 = 2
    static let gateFailed: Int32 = 3
    static let aborted: Int32 = 4
}

enum RunCommand {
    static func execute(_ options: RunOptions) async throws -> Int32 {
        let scenario = options.scenario
        let gates = try scenario.gates.map(Gate.parse)
        if options.dryRun {
            print(try self.plan(scenario))
            return ExitCode.ok
        }
        let kube = try await KubeClient.connect(Kubeconfig.Options(kubeconfigPath: scenario.cluster.kubeconfig, context: scenario.cluster.context,
                                                                   namespace: scenario.cluster.namespace),
                                                transport: scenario.cluster.transport.flatMap(KubeTransportChoice.init(rawValue:)) ?? .auto)
        defer { kube.shutdown() }
        let runID = ExperimentRunner.makeRunID()
        let directory = options.output ?? "flap-results/\(runID)"
        try OutputFiles.prepare(directory: directory)
        var configuration = try scenario.configuration(kube: kube)
        configuration.eventLogPath = "\(directory)/events.jsonl"
        let runner = ExperimentRunner(configuration: configuration, runID: runID)
        let runTask = Task { try await runner.run() }
        let signals = SignalRelay { count in
            if count == 1 {
                Output.note("flap: stopping after the current slot and restoring routes (Ctrl-C again to abort now; routes are still restored)")
                Task { await runner.requestStop() }
            } else {
                runTask.cancel()
            }
        }
        defer { signals.cancel() }
        let progress = Progress.start(runner)
        defer { progress?.cancel() }
        var report: ExperimentReport
        do {
            report = try await runTask.value
        } catch is CancellationError {
            Output.note("flap: aborted; every route was restored")
            return ExitCode.aborted
        } catch ExperimentError.notRestored(_, let unrestored) {
            // The run's numbers stand; the report says, at its top, that routes may still be changed.
            report = unrestored
        }
        progress?.cancel()
        report.evaluate(gates)
        try OutputFiles.write(try report.encoded(), to: "\(directory)/report.json")
        try OutputFiles.write(Data(HTMLRenderer.render(report).utf8), to: "\(directory)/report.html")
        print(TextRenderer.render(report))
        print("report: \(directory)/report.json, \(directory)/report.html, events: \(directory)/events.jsonl")
        if let why = report.notRestored {
            Output.note("flap: the end-of-run restore failed: \(why); the journal is kept, run `flap-cli restore`")
            return ExitCode.error
        }
        if report.partial { return ExitCode.aborted }
        return report.gatesPassed ? ExitCode.ok : ExitCode.gateFailed
    }

    /// What a run would do, without touching the cluster.
    static func plan(_ scenario: Scenario) throws -> String {
        var out = "plan for \(scenario.name ?? "flap") (dry run: nothing is written)\n"
        let slot = scenario.schedule.slot ?? "6s"
        out += "arms (interleaved in seeded order, \(scenario.schedule.rounds ?? 3) rounds of one \(slot) slot per arm; seed \(scenario.seed ?? 1)):\n"
        for arm in scenario.arms {
            let mutator = try arm.mutation.makeMutator()
            let target = RouteTarget(kind: arm.target.kind, name: arm.target.route, namespace: arm.target.namespace ?? scenario.cluster.namespace ?? "default",
                                     url: URL(string: arm.target.url)!, connectTo: arm.target.connectTo)
            out += "  \(arm.name): \(target) via \(arm.target.url)\(arm.target.connectTo.map { " (connect to \($0))" } ?? "")\n"
            for step in 0..<mutator.stepsPerFlap { out += "    step \(step): \(mutator.plan(step: step, target: target))\n" }
        }
        out += "load: \(scenario.load.arrival ?? "fixed") \(scenario.load.rate ?? 2)/s per slot, cohort \(scenario.load.cohort ?? 0), max in flight \(scenario.load.maxInFlight ?? 2000)\n"
        out += "before the first write, the original objects are journalled in \(JournalStore.defaultDirectory); every one is restored at the end\n"
        if !scenario.gates.isEmpty { out += "gates: \(scenario.gates.joined(separator: "; "))\n" }
        return out
    }
}

/// Relays SIGINT and SIGTERM (counting them) to a handler.
final class SignalRelay: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    init(_ handler: @escaping @Sendable (Int) -> Void) {
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [self] in
                let n = self.lock.withLock { self.count += 1; return self.count }
                handler(n)
            }
            source.resume()
            self.sources.append(source)
        }
    }

    func cancel() {
        for source in self.sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Live progress on stderr, only when stderr is a terminal.
enum Progress {
    static func start(_ runner: ExperimentRunner) -> Task<Void, Never>? {
        guard isatty(2) == 1 else { return nil }
        return Task {
            while !Task.isCancelled {
                let line = await runner.progress().line
                FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
                try? await Task.sleep(for: .milliseconds(500))
            }
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
        }
    }
}
