import FlapCore
import FlapSystem
import FlapFakes
import Foundation
import KubeClient
import TrinoClient

/// `flap-cli bench engine`: how many long, polling queries the engine sustains with p99 scheduling lateness
/// under 2 ms, the polls/s that makes, and peak RSS; wrk's requests/s on the same endpoint as the ceiling.
enum EngineBenchmark {
    /// What `bench engine` measures when no flag says otherwise; the help prints these.
    // 11,000: 10,000 queries that each long-poll 1 s make a little under 10,000 polls/s; the target needs both.
    static let defaultLevels = [2000, 5000, 10000, 11000, 12500, 15000]
    static let defaultHold = Duration.seconds(8)
    static let defaultRamp = Duration.seconds(2)

    static let usage = """
    usage: flap-cli bench engine [--levels \(defaultLevels.map(String.init).joined(separator: ","))] [--hold \(DurationText.format(defaultHold))] \
    [--ramp \(DurationText.format(defaultRamp))] [--realtime]

    Runs the experiment engine (a control arm, open-loop arrivals) against a FakeTrinoServer in a child process
    whose queries never finish and whose GETs long-poll 1 s, so each query polls about once a second. Each
    level starts that many queries over --ramp and holds them for --hold; the ramp stops at the first level
    whose p99 scheduling lateness exceeds 2 ms or whose polls/s fall below 90% of its queries (the engine no
    longer keeps up). Build with -c release. The arrival thread runs at normal priority, the queries and the
    fake below it (SCHED_IDLE); --realtime lets the arrival thread ask for real-time priority, which only root
    (or CAP_SYS_NICE) gets and no other thread inherits. Peak RSS is the engine's peak during each level (on
    Linux: freed memory returned and the peak reset before it).
    """

    /// One level's run: `level` queries started evenly over `ramp`, then held. Fixed-rate arrivals come one interval
    /// after each other from the slot's start, so the slot reaches half an interval past the ramp to start the
    /// last one (it was one query short).
    static func configuration(level: Int, target: RouteTarget, ramp: Duration, hold: Duration, kube: KubeClient,
                              realTime: Bool = false) -> ExperimentConfiguration {
        var configuration = ExperimentConfiguration(arms: [.init(target: target, targetName: "bench", mutator: ControlMutator())],
                                                    workload: TrinoQueryWorkload(retryPolicy: .none, requestTimeout: .seconds(10)), kube: kube)
        let rate = Double(level) / DurationText.seconds(ramp)
        configuration.load.arrival = .fixed(perSecond: rate)
        configuration.load.maxInFlight = level + 1
        configuration.load.queryTimeout = ramp + hold
        configuration.load.realTimeArrivals = realTime
        configuration.schedule.slot = ramp + .seconds(0.5 / rate)
        configuration.schedule.rounds = 1
        configuration.timeouts.drain = hold + ramp + .seconds(30)
        configuration.probe = nil
        return configuration
    }

    static func run(levels: [Int], hold: Duration, ramp: Duration, realTime: Bool) async throws {
        #if DEBUG
        Output.note("warning: this is a debug build; run `swift build -c release && .build/release/flap-cli bench engine` for real figures")
        #endif
        // The fake stands for a Trino cluster on other machines: here it shares the engine's cores, so it runs under the
        // idle policy, as the engine's own query work does, and neither decides when the arrival clock wakes.
        let server = try FakeTrinoChild(arguments: ["--duration", "3600s", "--max-wait", "1s", "--client-timeout", "600s", "--idle-priority"])
        defer { server.stop() }
        print("engine benchmark: long queries polling ~1/s against FakeTrinoServer (child process) at \(server.url)")
        if let wrk = ProcessLauncher.which("wrk") {
            let output = try ProcessLauncher.run(wrk, ["-t2", "-c64", "-d5s", "\(server.url.absoluteString)/v1/info"]).stdout
            let line = output.split(separator: "\n").first { $0.contains("Requests/sec") }.map { $0.trimmingCharacters(in: .whitespaces) } ?? "no figure"
            print("ceiling: wrk -t2 -c64 -d5s on /v1/info of the same server: \(line)")
        } else {
            print("ceiling: wrk is not installed (apt-get install wrk); skipped")
        }
        let api = try FakeKubeAPIServer()
        defer { api.stop() }
        let kube = KubeClient(configuration: KubeClient.Configuration(server: api.url))
        let state = NSTemporaryDirectory() + "flap-bench-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: state) }
        var best: (level: Int, polls: Double, rss: Double)?
        print("level  started  p99-lateness  max-lateness  polls/s  peak-RSS   engine-CPU/request  server-CPU/request")
        for level in levels {
            let target = RouteTarget(kind: .httpRoute, name: "bench", url: server.url)
            var configuration = Self.configuration(level: level, target: target, ramp: ramp, hold: hold, kube: kube, realTime: realTime)
            configuration.journalDirectory = state
            let rampSeconds = DurationText.seconds(ramp)
            ProcessMemory.startNewPeak()
            let cpuBefore = (engine: ProcessCPU.seconds(), server: ProcessCPU.seconds(pid: server.process.processIdentifier))
            let report = try await ExperimentRunner(configuration: configuration).run()
            let requests = Double(max(1, report.queries.reduce(0) { $0 + $1.hops.count }))
            let engineCPU = (ProcessCPU.seconds() - cpuBefore.engine) / requests
            let serverCPU = (ProcessCPU.seconds(pid: server.process.processIdentifier) - cpuBefore.server) / requests
            let window = (report.queries.map(\.end).max() ?? 1) - rampSeconds
            let polls = report.queries.flatMap(\.hops).filter { $0.start >= rampSeconds && $0.end <= rampSeconds + window }.count
            let pollsPerSecond = Double(polls) / max(window, 0.001)
            let lateness = report.lateness
            print(String(format: "%5d  %7d  %10.2fms  %10.2fms  %7.0f  %6.1f MB  %15.0f µs  %15.0f µs", level, report.queries.count,
                         (lateness?.p99 ?? 0) * 1000, (lateness?.max ?? 0) * 1000, pollsPerSecond, ProcessMemory.peakMegabytes(),
                         engineCPU * 1e6, serverCPU * 1e6))
            // Sustained: the schedule keeps its time and the engine keeps up with ~1 poll/s per query.
            guard let p99 = lateness?.p99, p99 <= 0.002, pollsPerSecond >= 0.9 * Double(level) else { break }
            best = (level, pollsPerSecond, ProcessMemory.peakMegabytes())
        }
        if let best {
            print(String(format: "sustained: %d queries in flight, %.0f polls/s with p99 scheduling lateness <= 2 ms; peak RSS %.1f MB at that level",
                         best.level, best.polls, best.rss))
        } else {
            print("no level kept p99 scheduling lateness under 2 ms")
        }
        print(ProcessMemory.peakCanRestart ? "peak RSS is the engine's peak during the level (freed memory returned and the peak reset before it)"
                                     : "peak RSS is the engine process's peak so far (this system has no per-level peak)")
        print("CPU per request counts every core-second each process used over the level (ramp, hold, drain), over every request")
        print("it made: the engine and its fake server share this machine's \(ProcessInfo.processInfo.activeProcessorCount) cores.")
    }
}

/// CPU seconds (user + system) a process has used so far, from /proc; 0 where /proc is missing.
enum ProcessCPU {
    static func seconds(pid: Int32? = nil) -> Double {
        let path = pid.map { "/proc/\($0)/stat" } ?? "/proc/self/stat"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8), let close = text.lastIndex(of: ")") else { return 0 }
        // Fields after the command name (which may hold spaces): state is field 3, utime 14 and stime 15.
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return 0 }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
