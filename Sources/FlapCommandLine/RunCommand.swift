import FlapCore
import FlapSystem
import Foundation
import KubeClient

/// Exit codes of `run`, `report` and `compare`.
enum ExitCode {
    static let ok: Int32 = 0
    static let error: Int32 = 1
    static let usage: Int32 = 2
    static let gateFailed: Int32 = 3
    static let aborted: Int32 = 4
    /// An arm's mutation failed or was not undone: its figures do not measure it.
    static let invalid: Int32 = 5
    /// The run left its own schedule (late writes or arrivals, stalls): its timings are the machine's.
    static let unreliable: Int32 = 6

    /// A finished run's code: a failed restore, then a stop, then invalid, unreliable, a failed gate.
    static func of(_ report: ExperimentReport) -> Int32 {
        if report.notRestored != nil { return self.error }
        if report.partial { return self.aborted }
        switch report.judged {
        case .invalid: return self.invalid
        case .unreliable: return self.unreliable
        case .fail: return self.gateFailed
        case .pass: return self.ok
        }
    }
}

enum RunCommand {
    static func execute(_ options: RunOptions) async throws -> Int32 {
        let scenario = options.scenario
        if options.dryRun { print(try self.plan(scenario, mutators: options.mutators)) }
        let kube = try await KubeClient.connect(Kubeconfig.Options(kubeconfigPath: scenario.cluster.kubeconfig, context: scenario.cluster.context,
                                                                   namespace: scenario.cluster.namespace),
                                                transport: scenario.cluster.transport.flatMap(KubeTransportChoice.init(rawValue:)) ?? .auto)
        defer { kube.shutdown() }
        if options.dryRun {
            let checks = await MutationChecks.run(try scenario.configuration(kube: kube, mutators: options.mutators))
            print("checked against the live objects (nothing written):\n" + checks.lines.map { "  " + $0 }.joined(separator: "\n"))
            return checks.passed ? ExitCode.ok : ExitCode.error
        }
        let runID = ExperimentRunner.makeRunID()
        let directory = options.output ?? "flap-results/\(runID)"
        try OutputFiles.prepare(directory: directory)
        var configuration = try scenario.configuration(kube: kube, mutators: options.mutators)
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
        } catch let error as ExperimentError where error.code == .notRestored && error.report != nil {
            // The run's numbers stand; the report says, at its top, that routes may still be changed.
            report = error.report!
        }
        progress?.cancel()
        try ResultFiles.write(report, to: directory)
        print(TextRenderer.render(report))
        print(ResultFiles.line(directory, events: true))
        if let why = report.notRestored {
            Output.note("flap: the end-of-run restore failed: \(why); the journal is kept, run `flap-cli restore`")
        }
        return ExitCode.of(report)
    }

    /// What a run would do, without touching the cluster: the configuration the run would use, so the plan
    /// shows its real defaults.
    static func plan(_ scenario: Scenario, mutators: MutatorRegistry) throws -> String {
        var offline = KubeClient.Configuration(server: URL(string: "http://dry-run.invalid")!)
        offline.defaultNamespace = scenario.cluster.namespace ?? offline.defaultNamespace
        let configuration = try scenario.configuration(kube: KubeClient(configuration: offline), mutators: mutators)
        let schedule = configuration.schedule, load = configuration.load
        var out = "plan for \(configuration.name) (dry run: nothing is written)\n"
        out += "arms (interleaved in seeded order, \(schedule.rounds) rounds of one \(DurationText.format(schedule.slot)) slot per arm; seed \(configuration.seed)):\n"
        for arm in configuration.arms {
            out += "  \(arm.id): \(arm.target) via \(arm.target.url.absoluteString)\(arm.target.connectTo.map { " (connect to \($0))" } ?? "")\n"
            for step in 0..<arm.mutator.stepsPerFlap { out += "    step \(step): \(arm.mutator.plan(step: step, target: arm.target))\n" }
        }
        let arrival = if case .poisson = load.arrival { "poisson" } else { "fixed" }
        out += "load: \(arrival) \(load.arrival.rate)/s per slot, cohort \(load.cohort), max in flight \(load.maxInFlight)\n"
        out += "before the first write, the original objects are journalled in \(configuration.journalDirectory); every one is restored at the end\n"
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
/// The one updating line on stderr, only when stderr is a terminal (no colours, so NO_COLOR needs nothing).
enum Progress {
    static func show(_ line: String) {
        guard isatty(2) == 1 else { return }
        FileHandle.standardError.write(Data("\r\u{1B}[K\(line)".utf8))
    }

    static func clear() { self.show("") }

    static func start(_ runner: ExperimentRunner) -> Task<Void, Never>? {
        guard isatty(2) == 1 else { return nil }
        return Task {
            while !Task.isCancelled {
                self.show(await runner.progress().line)
                try? await Task.sleep(for: .milliseconds(500))
            }
            self.clear()
        }
    }
}
