import FlapCore
import FlapJSON
import FlapSystem
import Foundation
import KubeClient
import TrinoClient

/// A run described as data (the JSON scenario file, or what `flap-cli run` flags build). The report embeds it.
public struct Scenario: Sendable, Codable, Equatable {
    public struct Cluster: Sendable, Codable, Equatable {
        public var kubeconfig: String?
        public var context: String?
        public var namespace: String?
        public var transport: String?
        public init() {}
    }

    public struct Target: Sendable, Codable, Equatable {
        /// Arm-name prefix, e.g. `ingress` or `gateway`.
        public var name: String
        public var kind: RouteTarget.Kind
        /// The Ingress or HTTPRoute object.
        public var route: String
        public var namespace: String?
        /// Trino's URL through this route.
        public var url: String
        public var connectTo: String?
        public init(name: String, kind: RouteTarget.Kind, route: String, url: String) {
            self.name = name
            self.kind = kind
            self.route = route
            self.url = url
        }
    }

    /// A mutation as the file or `--mutation` gives it; a ``MutatorRegistry`` decodes it.
    public typealias Mutation = MutationSpec

    public struct Workload: Sendable, Codable, Equatable {
        /// `trino` (default) or `http`.
        public var kind: String?
        public var user: String?
        public var catalog: String?
        public var schema: String?
        public var queries: [String]?
        public var queryFile: String?
        /// The measuring client's retry policy (`none` keeps raw failures visible; profiles are computed anyway).
        public var clientProfile: String?
        public var requestTimeout: String?
        public var path: String?
        public var requestsPerQuery: Int?
        public var interval: String?
        public init() {}
    }

    public struct Load: Sendable, Codable, Equatable {
        public var rate: Double?
        public var arrival: String?
        public var cohort: Int?
        public var maxInFlight: Int?
        public var queryTimeout: String?
        public init() {}
    }

    public struct Schedule: Sendable, Codable, Equatable {
        public var slot: String?
        public var rounds: Int?
        /// Instead of rounds: run for about this long (rounds = duration / (slot x arms), at least 1).
        public var duration: String?
        /// Flaps per slot (the mutation's steps repeated this many times within the window).
        public var burst: Int?
        public var jitter: String?
        public var warmupQueries: Int?
        public var whenInFlight: Int?
        public init() {}
    }

    public var name: String?
    public var cluster = Cluster()
    public var targets: [Target] = []
    public var mutations: [Mutation] = []
    public var workload = Workload()
    public var load = Load()
    public var schedule = Schedule()
    public var seed: UInt64?
    public var failureBudget: Int?
    public var gates: [String] = []
    public var output: String?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case name, cluster, targets, mutations, workload, load, schedule, seed, failureBudget, gates, output
    }

    /// Every section is optional in a file: what is missing takes its default.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.name = try c.decodeIfPresent(String.self, forKey: .name)
        self.cluster = try c.decodeIfPresent(Cluster.self, forKey: .cluster) ?? Cluster()
        self.targets = try c.decodeIfPresent([Target].self, forKey: .targets) ?? []
        self.mutations = try c.decodeIfPresent([Mutation].self, forKey: .mutations) ?? []
        self.workload = try c.decodeIfPresent(Workload.self, forKey: .workload) ?? Workload()
        self.load = try c.decodeIfPresent(Load.self, forKey: .load) ?? Load()
        self.schedule = try c.decodeIfPresent(Schedule.self, forKey: .schedule) ?? Schedule()
        self.seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        self.failureBudget = try c.decodeIfPresent(Int.self, forKey: .failureBudget)
        self.gates = try c.decodeIfPresent([String].self, forKey: .gates) ?? []
        self.output = try c.decodeIfPresent(String.self, forKey: .output)
    }

    public static func load(path: String) throws(ScenarioError) -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError.unreadable(path) }
        do {
            try ScenarioSchema.check(try JSONValue.parse([UInt8](data)))
        } catch let error as JSONError {
            throw ScenarioError.invalid("scenario \(path) is not JSON: \(error)")
        } catch let error as ScenarioError {
            throw ScenarioError.invalid("scenario \(path): \(error)")
        } catch {
            throw ScenarioError.invalid("scenario \(path): \(error)")
        }
        do {
            return try JSONDecoder().decode(Scenario.self, from: data)
        } catch let error as DecodingError {
            throw ScenarioError.invalid("scenario \(path): \(Self.describe(error))")
        } catch {
            throw ScenarioError.invalid("scenario \(path): \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined().trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .typeMismatch(let type, let context): return "\(path(context)) should be \(type): \(context.debugDescription)"
        case .valueNotFound(let type, let context): return "\(path(context)) needs a \(type) value"
        case .keyNotFound(let key, let context): return "\(path(context).isEmpty ? "" : path(context) + ".")\(key.stringValue) is required"
        case .dataCorrupted(let context): return "\(path(context).isEmpty ? "the file" : path(context)) is not valid: \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    public var json: JSONValue {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return (try? JSONValue.parse([UInt8](try encoder.encode(self)))) ?? .null
    }

    /// Checks everything that can be checked without a cluster; mutation kinds are those `mutators` knows.
    public func validate(mutators: MutatorRegistry = .builtIn) throws(ScenarioError) {
        _ = try self.checked(mutators: mutators)
    }

    /// What the checks built on the way: the arms and the gates, so ``configuration(kube:mutators:)`` builds them once.
    struct Checked {
        var arms: [PlannedArm]
        var gates: [Gate]
    }

    func checked(mutators: MutatorRegistry) throws(ScenarioError) -> Checked {
        guard !self.targets.isEmpty else { throw ScenarioError.invalid("no route target: give --ingress or --httproute with the Trino URL through it") }
        for target in self.targets {
            guard let url = URL(string: target.url), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ScenarioError.field("target \(target.name)", "url \"\(target.url)\" is not an http(s) URL")
            }
        }
        guard !self.mutations.isEmpty else { throw ScenarioError.invalid("no mutation: give at least one --mutation") }
        let arms = try self.arms(mutators: mutators)
        let gates = try self.gates.map { text throws(ScenarioError) in
            do { return try Gate.parse(text) } catch { throw ScenarioError.invalid("\(error)") }
        }
        if let rate = self.load.rate, !(rate > 0 && rate <= 10_000) { throw ScenarioError.field("load.rate", "must be between 0 and 10000 queries per second") }
        if let arrival = self.load.arrival, !["fixed", "poisson"].contains(arrival) { throw ScenarioError.field("load.arrival", "must be fixed or poisson") }
        for (field, value, range) in Self.countFields(self) {
            if let value, !range.contains(value) { throw ScenarioError.field(field, "must be from \(range.lowerBound) to \(range.upperBound), not \(value)") }
        }
        for (field, value) in [("schedule.slot", self.schedule.slot), ("schedule.jitter", self.schedule.jitter), ("schedule.duration", self.schedule.duration), ("load.queryTimeout", self.load.queryTimeout),
                               ("workload.requestTimeout", self.workload.requestTimeout), ("workload.interval", self.workload.interval)] {
            if let value, DurationText.parse(value) == nil { throw ScenarioError.field(field, DurationText.problem(value)) }
        }
        if let slot = self.schedule.slot.flatMap(DurationText.parse), slot <= .zero { throw ScenarioError.field("schedule.slot", "must be longer than 0s") }
        if let profile = self.workload.clientProfile, ClientProfile(rawValue: profile) == nil {
            throw ScenarioError.field("workload.clientProfile", "unknown profile \"\(profile)\" (\(ClientProfile.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if let kind = self.workload.kind, !["trino", "http"].contains(kind) { throw ScenarioError.field("workload.kind", "must be trino or http") }
        if self.schedule.rounds == nil, let total = self.schedule.duration.flatMap(DurationText.parse) {
            let rounds = total / (self.slot * max(1, arms.count))
            if rounds > Double(Self.maximumRounds) {
                throw ScenarioError.field("schedule.duration", "gives \(Int(rounds)) rounds, more than \(Self.maximumRounds); use a longer slot or a shorter duration")
            }
        }
        let ids = arms.map(\.id)
        if Set(ids).count != ids.count { throw ScenarioError.invalid("two arms have the same name: \(ids.map(\.rawValue))") }
        return Checked(arms: arms, gates: gates)
    }

    /// One arm of the scenario, before its route is resolved against a cluster.
    public struct PlannedArm: Sendable {
        public var id: ArmID
        public var target: Target
        public var mutator: any RouteMutator
    }

    /// Arms: every target with every mutation, plus one control arm per target when no mutation is a control
    /// (interleaved at run time). IDs follow ``ArmID/derive(targetName:mutator:)``, as the lab's and code's do.
    public func arms(mutators: MutatorRegistry = .builtIn) throws(ScenarioError) -> [PlannedArm] {
        var mutations = self.mutations
        if !mutations.contains(where: { $0.kind == "control" }) { mutations.insert(Mutation(kind: "control"), at: 0) }
        let names = self.targets.map(\.name)
        for (index, mutation) in self.mutations.enumerated() {
            for name in mutation.targets ?? [] where !names.contains(name) {
                throw ScenarioError.invalid("mutations[\(index)]: no target named \(name) (targets: \(names.joined(separator: ", ")))")
            }
        }
        var built: [(spec: Mutation, mutator: any RouteMutator)] = []
        for mutation in mutations {
            do {
                built.append((mutation, try mutators.mutator(for: mutation)))
            } catch {
                let position = self.mutations.firstIndex(of: mutation).map { "mutations[\($0)]: " } ?? ""
                throw ScenarioError.invalid(position + error.description)
            }
        }
        return self.targets.flatMap { target in
            built.filter { $0.spec.targets?.contains(target.name) ?? true }
                .map { PlannedArm(id: ArmID.derive(targetName: target.name, mutator: $0.mutator), target: target, mutator: $0.mutator) }
        }
    }

    /// The slot length this scenario asks for, or the configuration's default.
    var slot: Duration { self.schedule.slot.flatMap(DurationText.parse) ?? ExperimentConfiguration.Schedule().slot }

    static let maximumRounds = 100_000

    /// Every whole-number setting and the range it must be in.
    static func countFields(_ s: Scenario) -> [(String, Int?, ClosedRange<Int>)] {
        [("schedule.rounds", s.schedule.rounds, 1...maximumRounds), ("schedule.burst", s.schedule.burst, 1...1000),
         ("schedule.warmupQueries", s.schedule.warmupQueries, 0...1_000_000), ("schedule.whenInFlight", s.schedule.whenInFlight, 0...1_000_000),
         ("load.cohort", s.load.cohort, 0...100_000), ("load.maxInFlight", s.load.maxInFlight, 1...1_000_000),
         ("workload.requestsPerQuery", s.workload.requestsPerQuery, 1...1_000_000), ("failureBudget", s.failureBudget, 0...Int.max)]
    }

    /// The experiment this scenario describes, against `kube`. What the scenario leaves out keeps
    /// ``ExperimentConfiguration``'s default (and the workloads' own): no default is repeated here.
    public func configuration(kube: KubeClient, mutators: MutatorRegistry = .builtIn) throws(ScenarioError) -> ExperimentConfiguration {
        let checked = try self.checked(mutators: mutators)
        let arms = checked.arms.map { arm -> ExperimentConfiguration.Arm in
            var target = RouteTarget(kind: arm.target.kind, name: arm.target.route, namespace: arm.target.namespace ?? kube.defaultNamespace,
                                     url: URL(string: arm.target.url)!)
            target.connectTo = arm.target.connectTo
            return ExperimentConfiguration.Arm(target: target, targetName: arm.target.name, mutator: arm.mutator)
        }
        var configuration = ExperimentConfiguration(arms: arms, workload: try self.makeWorkload(), kube: kube)
        self.load.apply(to: &configuration.load)
        self.schedule.apply(to: &configuration.schedule, arms: arms.count)
        if let seed = self.seed { configuration.seed = seed }
        configuration.failureBudget = self.failureBudget
        configuration.gates = checked.gates
        configuration.scenario = self.json
        if let name = self.name { configuration.name = name }
        return configuration
    }

    func makeWorkload() throws(ScenarioError) -> any QueryWorkload {
        let w = self.workload
        let duration = { (text: String?) in text.flatMap(DurationText.parse) }
        if w.kind == "http" {
            let defaults = HTTPWorkload()
            return HTTPWorkload(path: w.path ?? defaults.path, requestsPerQuery: w.requestsPerQuery ?? defaults.requestsPerQuery,
                                interval: duration(w.interval) ?? defaults.interval)
        }
        let defaults = TrinoQueryWorkload()
        var queries = (w.queries ?? []).map { TrinoQueryWorkload.Query(sql: $0) }
        if let file = w.queryFile {
            do { queries += try TrinoQueryWorkload.queries(fromFile: file) } catch { throw ScenarioError.field("workload.queryFile", "\(error)") }
        }
        var session = defaults.session
        if let user = w.user { session.user = user }
        if let catalog = w.catalog { session.catalog = catalog }
        if let schema = w.schema { session.schema = schema }
        return TrinoQueryWorkload(queries: queries.isEmpty ? defaults.queries : queries, session: session,
                                  retryPolicy: w.clientProfile.flatMap(ClientProfile.init(rawValue:))?.policy ?? defaults.retryPolicy,
                                  requestTimeout: duration(w.requestTimeout) ?? defaults.requestTimeout, seed: self.seed ?? 1)
    }
}

extension Scenario.Load {
    func apply(to load: inout ExperimentConfiguration.Load) {
        if self.rate != nil || self.arrival != nil {
            let rate = self.rate ?? load.arrival.rate
            load.arrival = self.arrival == "poisson" ? .poisson(perSecond: rate) : .fixed(perSecond: rate)
        }
        if let cohort = self.cohort { load.cohort = cohort }
        if let maxInFlight = self.maxInFlight { load.maxInFlight = maxInFlight }
        if let timeout = self.queryTimeout.flatMap(DurationText.parse) { load.queryTimeout = timeout }
    }
}

extension Scenario.Schedule {
    func apply(to schedule: inout ExperimentConfiguration.Schedule, arms: Int) {
        if let slot = self.slot.flatMap(DurationText.parse) { schedule.slot = slot }
        if let rounds = self.rounds {
            schedule.rounds = rounds
        } else if let total = self.duration.flatMap(DurationText.parse) {
            schedule.rounds = max(1, Int((total / (schedule.slot * arms)).rounded(.down)))
        }
        if let burst = self.burst { schedule.burst = burst }
        if let jitter = self.jitter.flatMap(DurationText.parse) { schedule.jitter = jitter }
        if let warmup = self.warmupQueries { schedule.warmupQueries = warmup }
        if let whenInFlight = self.whenInFlight { schedule.whenInFlight = whenInFlight }
    }
}
