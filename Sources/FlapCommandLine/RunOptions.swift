import FlapSystem
import FlapCore
import Foundation
import KubeClient

/// `flap-cli run`: flags and/or a scenario file, merged into one Scenario (flags win).
struct RunOptions {
    var scenario: Scenario
    var dryRun: Bool
    var output: String?
    /// The mutation kinds `--mutation` and the scenario may name.
    var mutators: MutatorRegistry

    static func usage(mutators: MutatorRegistry) -> String {
        let kinds = mutators.usage.joined(separator: ", ")
        return """
    usage: flap-cli run [--scenario FILE] [--kubeconfig PATH] [--context NAME] [-n NAMESPACE] [--transport auto|direct|kubectl-proxy]
                        [--ingress NAME --ingress-url URL [--ingress-namespace NS] [--ingress-connect-to HOST:PORT]]
                        [--httproute NAME --httproute-url URL [--httproute-namespace NS] [--httproute-connect-to HOST:PORT]]
                        [--connect-to HOST:PORT] [--mutation [ingress:|httproute:]KIND[:ARGS]]... [--user U] [--catalog C] [--schema S] [--query SQL]... [--query-file FILE]
                        [--client-profile none|protocol|java|python|go] [--rate N] [--arrival fixed|poisson] [--concurrency N]
                        [--interval 6s] [--iterations N | --duration 5m] [--jitter 0s] [--burst N] [--failure-budget N] [--seed N]
                        [--require GATE]... [--output DIR] [--dry-run]

    Flaps the routes while Trino queries run through them, interleaving a control arm and one arm per
    mutation for each route; restores every object at the end (also on Ctrl-C and SIGTERM; after a crash run
    `flap-cli restore`). Writes report.json, report.html, queries.csv, mutations.csv and events.jsonl to
    --output (default flap-results/<run id>) and prints the summary.

    -n and --connect-to apply to both routes unless --ingress-namespace/--httproute-namespace or
    --ingress-connect-to/--httproute-connect-to say otherwise. A --mutation applies to every route unless it
    starts with the route it is for: --mutation ingress:delete-recreate:Foreground:5 (propagation policy and grace
    period) --mutation httproute:remove-readd-backend:trino-worker-service is the original experiment's pairing.

    mutations: \(Self.wrap(kinds, indent: 11, width: 110))
    gates:     'survival(ARM) >= 0.999'  'survival(ARM, python) >= 0.99'  'p99(ARM) < 2s'
               'reconnects(ARM) == 0'  'propagation.p99 < 500ms'
    exit codes: 0 pass, 1 error (also a mutation that cannot work on the live objects: refused before any write),
                2 usage, 3 a gate failed, 4 aborted (stopped or failure budget), 5 invalid (a mutation step failed),
                6 unreliable (the run left its own schedule)
    """
    }

    /// `text` broken at ", " so no line is longer than `width`, continuation lines indented.
    static func wrap(_ text: String, indent: Int, width: Int) -> String {
        var lines = [""]
        for item in text.components(separatedBy: ", ") {
            let candidate = lines[lines.count - 1].isEmpty ? item : lines[lines.count - 1] + ", " + item
            if candidate.count + indent > width, !lines[lines.count - 1].isEmpty {
                lines[lines.count - 1] += ","
                lines.append(item)
            } else {
                lines[lines.count - 1] = candidate
            }
        }
        return lines.joined(separator: "\n" + String(repeating: " ", count: indent))
    }

    /// `[TARGET:]KIND[:ARGS]`: a leading target name (`ingress`, `gateway`, or `httproute` for the HTTPRoute's
    /// target) that is not a mutation kind limits the mutation to that route.
    static func mutation(_ text: String, targets: [String], mutators: MutatorRegistry, absentRouteIsError: Bool = true) throws -> Scenario.Mutation? {
        var rest = text
        var on: [String]?
        if let colon = text.firstIndex(of: ":") {
            let head = String(text[..<colon])
            let name = head == "httproute" ? RouteTarget.Kind.httpRoute.armPrefix : head
            if !mutators.names.contains(head), targets.contains(name) || ["ingress", "httproute", "gateway"].contains(head) {
                guard targets.contains(name) else {
                    guard absentRouteIsError else { return nil }
                    throw UsageError(message: "--mutation \(text): there is no \(head) route (give --\(head == "gateway" ? "httproute" : head) NAME)")
                }
                on = [name]
                rest = String(text[text.index(after: colon)...])
            }
        }
        do {
            var spec = try mutators.spec(parsing: rest)
            spec.targets = on
            return spec
        } catch {
            throw UsageError(message: "\(error)")
        }
    }

    static func parse(_ arguments: ArraySlice<String>, requireMutation: Bool = true, mutators: MutatorRegistry = .builtIn) throws -> RunOptions {
        let valued: Set<String> = ["scenario", "kubeconfig", "context", "namespace", "transport", "ingress", "ingress-url", "httproute", "httproute-url",
                                   "connect-to", "ingress-namespace", "httproute-namespace", "ingress-connect-to", "httproute-connect-to", "mutation", "user", "catalog", "schema", "query", "query-file", "client-profile", "rate", "arrival",
                                   "concurrency", "interval", "iterations", "jitter", "burst", "failure-budget", "seed", "require", "output", "duration"]
        let flags = try ParsedFlags(Array(arguments).map { $0 == "-n" ? "--namespace" : $0 }[...], valued: valued, boolean: ["dry-run"])
        var scenario: Scenario
        do {
            scenario = try flags.string("scenario").map(Scenario.load(path:)) ?? Scenario()
        } catch {
            throw UsageError(message: "\(error)")
        }
        if let v = flags.string("kubeconfig") { scenario.cluster.kubeconfig = v }
        if let v = flags.string("context") { scenario.cluster.context = v }
        if let v = flags.string("namespace") { scenario.cluster.namespace = v }
        if let v = flags.string("transport") {
            guard KubeTransportChoice(rawValue: v) != nil else { throw UsageError(message: "--transport must be auto, direct or kubectl-proxy, not \"\(v)\"") }
            scenario.cluster.transport = v
        }
        for (kind, flag) in [(RouteTarget.Kind.ingress, "ingress"), (.httpRoute, "httproute")] {
            guard let name = flags.string(flag) else {
                if flags.string("\(flag)-url") != nil { throw UsageError(message: "--\(flag)-url needs --\(flag) NAME") }
                continue
            }
            guard let url = flags.string("\(flag)-url") else { throw UsageError(message: "--\(flag) \(name) needs --\(flag)-url: the Trino URL through that route") }
            var target = Scenario.Target(name: kind.armPrefix, kind: kind, route: name, url: url)
            target.namespace = flags.string("\(flag)-namespace") ?? scenario.cluster.namespace
            target.connectTo = flags.string("\(flag)-connect-to") ?? flags.string("connect-to")
            scenario.targets.removeAll { $0.name == kind.armPrefix }
            scenario.targets.append(target)
        }
        // doctor checks the routes it is given: a mutation for a route it was not given is not its business.
        let mutations = try flags.all("mutation").compactMap { text in
            try Self.mutation(text, targets: scenario.targets.map(\.name), mutators: mutators, absentRouteIsError: requireMutation)
        }
        if !mutations.isEmpty { scenario.mutations = mutations }
        if let v = flags.string("user") { scenario.workload.user = v }
        if let v = flags.string("catalog") { scenario.workload.catalog = v }
        if let v = flags.string("schema") { scenario.workload.schema = v }
        if !flags.all("query").isEmpty { scenario.workload.queries = flags.all("query") }
        if let v = flags.string("query-file") { scenario.workload.queryFile = v }
        if let v = flags.string("client-profile") { scenario.workload.clientProfile = v }
        if let v = flags.string("rate") {
            guard let rate = Double(v) else { throw UsageError(message: "--rate must be a number of queries per second, not \"\(v)\"") }
            scenario.load.rate = rate
        }
        if let v = flags.string("arrival") { scenario.load.arrival = v }
        if let v = flags.string("concurrency") {
            guard let n = Int(v), n >= 0 else { throw UsageError(message: "--concurrency must be a whole number, not \"\(v)\"") }
            scenario.load.cohort = n
        }
        if let v = flags.string("interval") { scenario.schedule.slot = v }
        if let v = flags.string("iterations") {
            guard let n = Int(v), n >= 1 else { throw UsageError(message: "--iterations must be a whole number of at least 1, not \"\(v)\"") }
            scenario.schedule.rounds = n
        }
        if let v = flags.string("jitter") { scenario.schedule.jitter = v }
        if let v = flags.string("burst") {
            guard let n = Int(v), n >= 1 else { throw UsageError(message: "--burst must be a whole number of at least 1, not \"\(v)\"") }
            scenario.schedule.burst = n
        }
        if let v = flags.string("duration") {
            guard let total = DurationText.parse(v), total > .zero else { throw UsageError(message: "--duration must be a positive duration: \(DurationText.problem(v))") }
            scenario.schedule.duration = v
            _ = total
        }
        if let v = flags.string("failure-budget") {
            guard let n = Int(v), n >= 0 else { throw UsageError(message: "--failure-budget must be a whole number, not \"\(v)\"") }
            scenario.failureBudget = n
        }
        if let v = flags.string("seed") {
            guard let n = UInt64(v) else { throw UsageError(message: "--seed must be a whole number, not \"\(v)\"") }
            scenario.seed = n
        }
        scenario.gates += flags.all("require")
        if let v = flags.string("output") { scenario.output = v }
        if !requireMutation && scenario.mutations.isEmpty { scenario.mutations = [Scenario.Mutation(kind: "control")] }
        do {
            try scenario.validate(mutators: mutators)
        } catch {
            throw UsageError(message: error.description)
        }
        return RunOptions(scenario: scenario, dryRun: flags.flag("dry-run"), output: scenario.output, mutators: mutators)
    }
}

