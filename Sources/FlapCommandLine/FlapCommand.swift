import FlapCore
import FlapFakes
import FlapLab
import Foundation

/// Every command flap-cli understands, parsed from the arguments (a pure function, unit-testable).
enum FlapCommand {
    case help(String)
    /// `idlePriority`: the whole process under SCHED_IDLE (the engine benchmark's fake, which stands for a cluster elsewhere).
    case fakeTrino(FakeTrinoServer.Configuration, idlePriority: Bool)
    case fakeKube(FakeKubeAPIServer.Configuration, kubeconfig: String?)
    case demoTrino(queries: Int, spooling: Bool)
    case benchTrinoClient(rows: Int, python: Bool)
    case benchEngine(levels: [Int], hold: Duration, ramp: Duration, realTime: Bool)
    case lab(LabExperiment.Options, profiles: [LabProfile], output: String?)
    case labUp(Lab.Configuration)
    case labScale(routes: [Int], profiles: [LabProfile])
    case labIncidents(only: [String], profiles: [LabProfile], options: LabIncidents.Options, output: String?)
    case run(RunOptions)
    case doctor(RunOptions)
    case report(path: String, format: ReportFormat, output: String?, gates: [String])
    case compare(old: String, new: String, thresholds: ComparisonThresholds)
    case restore(journal: String?, force: Bool, kubeconfig: String?, context: String?)

    /// `--profiles a,b` or `all`; the factorial when absent.
    static func profiles(_ flags: ParsedFlags) throws -> [LabProfile] {
        guard let list = flags.string("profiles") else { return LabProfile.factorial }
        do { return try LabProfile.parse(list) } catch let error as LabError { throw UsageError(message: "--profiles: " + error.message) }
    }

    static let usage = """
    usage: flap-cli <command> [options]

    commands:
      lab                   the Ingress (nginx) vs Gateway (Envoy) comparison on this machine, no cluster needed
      lab up                start the lab and print its endpoints until Ctrl-C
      lab scale             per data plane: route write -> served, and an unrelated host's latency, as routes grow
      run                   flap routes on a cluster while Trino queries run through them; report survival and latency
      doctor                check access, objects and Trino through each route; print the minimal Role
      report                render a report.json (text, markdown, csv, junit, html, json), evaluate gates
      compare               regressions and improvements between two reports (exit 0 equal, 2 regressions, 4 improvements, 64 usage)
      restore               finish restoring routes from a run's journal (after a crash)
      demo trino            run the Trino client against an in-process FakeTrinoServer and print the trace
      fake trino            start a FakeTrinoServer and serve until Ctrl-C
      fake kube             start a FakeKubeAPIServer, write a kubeconfig for it, serve until Ctrl-C
      bench trino-client    measure the Trino client's fetch throughput (build with -c release)
      bench engine          how many polling queries the engine sustains at p99 lateness <= 2 ms (build with -c release)

    Run flap-cli <command> --help for the options of each.
    """

    static let fakeTrinoUsage = """
    usage: flap-cli fake trino [--port N] [--listeners N] [--shape q9|bench|realistic|types] [--rows N]
                               [--duration 2s] [--max-wait 1s] [--client-timeout 5m] [--spooling] [--idle-priority]

    Serves the Trino client protocol on 127.0.0.1 and prints the URL of each listener. Queries return
    TPC-H Q9's shape (175 rows) unless --shape or a session property (fake_shape, fake_rows,
    fake_duration_ms, fake_error) says otherwise. --idle-priority runs it under Linux's idle scheduling
    policy, so that on a shared machine it only uses CPU nothing else wants. Ctrl-C stops it.
    """

    static let fakeKubeUsage = """
    usage: flap-cli fake kube [--port N] [--kubeconfig PATH] [--token T]

    Serves a Kubernetes API (Ingress, HTTPRoute, Gateway, Namespace, Service, ConfigMap, Secret, Lease) on
    127.0.0.1, writes a kubeconfig for it (default: a temporary file) and prints the URL and the kubeconfig
    path. kubectl works against it with --validate=false (no OpenAPI is served). Ctrl-C stops it.
    """

    static let demoUsage = """
    usage: flap-cli demo trino [--queries N] [--spooling]

    A direct Trino-client demo (no proxy, no cluster): runs TPC-H Q9 against an in-process
    FakeTrinoServer and prints each query's hops, connections and rows.
    """

    static let benchUsage = """
    usage: flap-cli bench trino-client [--rows N] [--no-python]

    Fetches N rows like a real table's (long non-ASCII varchars with escapes, bigints past 2^53, 17-digit
    doubles, dates, timestamps with zones, decimals, nulls in every column; ~1 MB pages) from a
    FakeTrinoServer in a child process over loopback, with pages() and with execute(), and prints rows/s,
    this process's peak RSS and whether a checksum of the decoded values matches what the server sent;
    then the same with the official Trino Python client (DB-API) when it is installed. A mismatch exits 1.
    Use a release build.
    """

    static func parseCompare(_ rest: ArraySlice<String>) throws -> FlapCommand {
        let files = Array(rest.prefix { !$0.hasPrefix("--") })
        guard files.count == 2 else { throw UsageError(message: "compare needs two reports: OLD.json NEW.json") }
        let flags = try ParsedFlags(rest.dropFirst(2), valued: ["survival", "latency", "propagation"], boolean: [])
        var thresholds = ComparisonThresholds()
        for (name, keyPath) in [("survival", \ComparisonThresholds.survival), ("latency", \.latency), ("propagation", \.propagation)] {
            guard let text = flags.string(name) else { continue }
            guard let value = Double(text), value >= 0 else { throw UsageError(message: "--\(name) must be a non-negative number, not \"\(text)\"") }
            thresholds[keyPath: keyPath] = value
        }
        return .compare(old: files[0], new: files[1], thresholds: thresholds)
    }

    static func parse(_ arguments: [String], mutators: MutatorRegistry = .builtIn) throws -> FlapCommand {
        var words = arguments.prefix { !$0.hasPrefix("-") }
        // report and compare take files after the command word.
        if let first = words.first, first == "report" || first == "compare" { words = words.prefix(1) }
        let rest = arguments.dropFirst(words.count)
        let wantsHelp = rest.contains("--help") || rest.contains("-h")
        switch Array(words) {
        case [], ["help"]: return .help(self.usage)
        case ["fake", "trino"]:
            if wantsHelp { return .help(self.fakeTrinoUsage) }
            let flags = try ParsedFlags(rest, valued: ["port", "listeners", "shape", "rows", "duration", "max-wait", "client-timeout"],
                                        boolean: ["spooling", "idle-priority"])
            var configuration = FakeTrinoServer.Configuration()
            configuration.port = try flags.int("port", in: 0...65535) ?? 0
            configuration.listeners = try flags.int("listeners", in: 1...16) ?? 1
            if let shape = flags.string("shape") {
                guard let kind = FakeResultShape.Kind(rawValue: shape), kind != .none, kind != .constant else {
                    throw UsageError(message: "--shape must be q9, bench, realistic or types, not \"\(shape)\"")
                }
                configuration.shape = FakeResultShape(kind: kind, rowCount: try flags.int("rows", in: 0...100_000_000))
            } else if flags.string("rows") != nil {
                throw UsageError(message: "--rows needs --shape bench or realistic")
            }
            configuration.queryDuration = try flags.duration("duration") ?? configuration.queryDuration
            configuration.maxWait = try flags.duration("max-wait") ?? configuration.maxWait
            configuration.clientTimeout = try flags.duration("client-timeout") ?? configuration.clientTimeout
            configuration.spooling = flags.flag("spooling")
            return .fakeTrino(configuration, idlePriority: flags.flag("idle-priority"))
        case ["lab"]:
            if wantsHelp { return .help(LabCommands.labUsage) }
            let flags = try ParsedFlags(rest, valued: ["rounds", "slot", "rate", "output", "profiles"], boolean: [])
            var options = LabExperiment.Options()
            if let text = flags.string("rate") {
                guard let value = Double(text), value > 0, value <= 1000 else { throw UsageError(message: "--rate must be a number of queries per second, not \"\(text)\"") }
                options.rate = value
            }
            options.rounds = try flags.int("rounds", in: 1...100) ?? options.rounds
            options.slot = try flags.duration("slot") ?? options.slot
            return .lab(options, profiles: try Self.profiles(flags), output: flags.string("output"))
        case ["lab", "scale"]:
            if wantsHelp { return .help(LabCommands.labUsage) }
            let flags = try ParsedFlags(rest, valued: ["routes", "profiles"], boolean: [])
            let routes = try flags.string("routes").map { list in
                try list.split(separator: ",").map { text in
                    guard let n = Int(text), (1...20_000).contains(n) else { throw UsageError(message: "--routes must be counts like 10,100,1000,5000") }
                    return n
                }
            } ?? LabCommands.defaultRouteCounts
            return .labScale(routes: routes, profiles: try Self.profiles(flags))
        case ["lab", "incidents"]:
            if wantsHelp { return .help(LabCommands.labUsage) }
            let flags = try ParsedFlags(rest, valued: ["only", "profiles", "long-query", "slot", "output"], boolean: [])
            let known = LabIncidents.catalogue.map(\.id)
            let only = try (flags.string("only").map { $0.split(separator: ",").map(String.init) } ?? []).map { id in
                guard known.contains(id) else { throw UsageError(message: "--only: no incident \"\(id)\" (incidents: \(known.joined(separator: ", ")))") }
                return id
            }
            var options = LabIncidents.Options()
            options.longQuery = try flags.duration("long-query") ?? options.longQuery
            options.slot = try flags.duration("slot") ?? options.slot
            guard options.longQuery >= .seconds(5), options.longQuery <= .seconds(3600) else { throw UsageError(message: "--long-query must be between 5s and 1h") }
            guard options.slot >= .seconds(2), options.slot <= .seconds(600) else { throw UsageError(message: "--slot must be between 2s and 10m") }
            let profiles = flags.string("profiles") == nil ? LabProfile.allCases : try Self.profiles(flags)
            return .labIncidents(only: only, profiles: profiles, options: options, output: flags.string("output"))
        case ["lab", "up"]:
            if wantsHelp { return .help(LabCommands.labUsage) }
            let flags = try ParsedFlags(rest, valued: ["coordinators", "workers", "pod-namespace", "manifests", "query-duration", "profiles"], boolean: ["no-routes"])
            var configuration = Lab.Configuration()
            configuration.profiles = try Self.profiles(flags)
            configuration.queryDuration = try flags.duration("query-duration") ?? configuration.queryDuration
            configuration.coordinators = try flags.int("coordinators", in: 1...16) ?? configuration.coordinators
            configuration.workers = try flags.int("workers", in: 0...64) ?? configuration.workers
            configuration.podNamespaces = try flags.all("pod-namespace").map { name in
                guard name.count <= 63, name.range(of: #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"#, options: .regularExpression) != nil else { throw UsageError(message: "--pod-namespace \"\(name)\" is not a namespace name (lowercase letters, digits and '-', at most 63)") }
                return name
            }
            configuration.manifests = flags.string("manifests")
            configuration.seedRoutes = !flags.flag("no-routes")
            return .labUp(configuration)
        case ["run"]:
            if wantsHelp { return .help(RunOptions.usage(mutators: mutators)) }
            return .run(try RunOptions.parse(rest, mutators: mutators))
        case ["doctor"]:
            if wantsHelp { return .help(DoctorCommand.usage) }
            return .doctor(try RunOptions.parse(rest, requireMutation: false, mutators: mutators))
        case ["report"]:
            if wantsHelp || rest.isEmpty { return .help(ReportCommands.reportUsage) }
            guard let path = rest.first, !path.hasPrefix("--") else { throw UsageError(message: "report needs a report.json path first") }
            let flags = try ParsedFlags(rest.dropFirst(), valued: ["format", "output", "require"], boolean: [])
            let formatName = flags.string("format") ?? "text"
            guard let format = ReportFormat(rawValue: formatName) else {
                throw UsageError(message: "--format must be one of \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", ")), not \"\(formatName)\"")
            }
            for gate in flags.all("require") {
                do { _ = try Gate.parse(gate) } catch { throw UsageError(message: "\(error)") }
            }
            return .report(path: path, format: format, output: flags.string("output"), gates: flags.all("require"))
        case ["compare"]:
            if wantsHelp { return .help(ReportCommands.compareUsage) }
            do {
                return try self.parseCompare(rest)
            } catch var error as UsageError {
                error.exitCode = ReportCommands.compareUsageExit  // 2 is compare's "regressions"
                throw error
            }
        case ["restore"]:
            if wantsHelp { return .help(RestoreCommand.usage) }
            let flags = try ParsedFlags(rest, valued: ["journal", "kubeconfig", "context"], boolean: ["all", "force"])
            if flags.flag("force") && flags.string("journal") == nil { throw UsageError(message: "--force needs --journal FILE: name the one journal to force") }
            return .restore(journal: flags.string("journal"), force: flags.flag("force"), kubeconfig: flags.string("kubeconfig"), context: flags.string("context"))
        case ["fake", "kube"]:
            if wantsHelp { return .help(self.fakeKubeUsage) }
            let flags = try ParsedFlags(rest, valued: ["port", "kubeconfig", "token"], boolean: [])
            var configuration = FakeKubeAPIServer.Configuration()
            configuration.port = try flags.int("port", in: 0...65535) ?? 0
            configuration.bearerToken = flags.string("token")
            return .fakeKube(configuration, kubeconfig: flags.string("kubeconfig"))
        case ["demo", "trino"], ["demo"]:
            if wantsHelp { return .help(self.demoUsage) }
            let flags = try ParsedFlags(rest, valued: ["queries"], boolean: ["spooling"])
            return .demoTrino(queries: try flags.int("queries", in: 1...1000) ?? 3, spooling: flags.flag("spooling"))
        case ["bench", "engine"]:
            if wantsHelp { return .help(EngineBenchmark.usage) }
            let flags = try ParsedFlags(rest, valued: ["levels", "hold", "ramp"], boolean: ["realtime"])
            let levels = try flags.string("levels").map { list in
                try list.split(separator: ",").map { text in
                    guard let n = Int(text), n > 0 else { throw UsageError(message: "--levels must be positive whole numbers like 500,1000,2000") }
                    return n
                }
            } ?? EngineBenchmark.defaultLevels
            return .benchEngine(levels: levels, hold: try flags.duration("hold") ?? EngineBenchmark.defaultHold,
                                ramp: try flags.duration("ramp") ?? EngineBenchmark.defaultRamp, realTime: flags.flag("realtime"))
        case ["bench", "trino-client"]:
            if wantsHelp { return .help(self.benchUsage) }
            let flags = try ParsedFlags(rest, valued: ["rows"], boolean: ["no-python"])
            return .benchTrinoClient(rows: try flags.int("rows", in: 1...100_000_000) ?? 1_000_000, python: !flags.flag("no-python"))
        default:
            throw UsageError(message: "unknown command \"\(words.joined(separator: " "))\"\n\n\(self.usage)")
        }
    }
}
