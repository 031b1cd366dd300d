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

    public struct Mutation: Sendable, Codable, Equatable {
        public var kind: String
        public var backend: String?
        public var from: String?
        public var to: String?
        public var steps: [[Int]]?
        public var header: String?
        public var neighbour: String?
        public var count: Int?
        public var propagationPolicy: String?
        public var gracePeriodSeconds: Int?
        public init(kind: String) { self.kind = kind }

        public static let kinds = ["control", "delete-recreate", "remove-readd-backend", "shift-weights", "swap-backend", "toggle-header",
                                   "neighbour-change", "filler-routes", "touch"]

        /// The arm-name suffix.
        public var label: String {
            switch self.kind {
            case "remove-readd-backend": "remove-readd-\(self.backend ?? "")"
            case "neighbour-change": "neighbour-\(self.neighbour ?? "")"
            default: self.kind
            }
        }

        public func makeMutator() throws -> any RouteMutator {
            func need<T>(_ value: T?, _ field: String) throws -> T {
                guard let value else { throw ScenarioError.field("mutation \(self.kind)", "needs \(field)") }
                return value
            }
            switch self.kind {
            case "control": return ControlMutator()
            case "delete-recreate":
                let policy = try self.propagationPolicy.map { text -> DeleteOptions.Propagation in
                    guard let p = DeleteOptions.Propagation(rawValue: text) else {
                        throw ScenarioError.field("mutation delete-recreate", "propagationPolicy must be Orphan, Background or Foreground, not \"\(text)\"")
                    }
                    return p
                }
                return DeleteRecreateMutator(propagationPolicy: policy, gracePeriodSeconds: self.gracePeriodSeconds)
            case "remove-readd-backend": return RemoveReaddBackendMutator(backend: try need(self.backend, "backend"))
            case "shift-weights":
                let steps = try need(self.steps, "steps (a list of weight lists)")
                guard !steps.isEmpty, steps.allSatisfy({ !$0.isEmpty && $0.allSatisfy { (0...1_000_000).contains($0) } }) else {
                    throw ScenarioError.field("mutation shift-weights", "steps must be non-empty lists of weights from 0 to 1000000")
                }
                return ShiftWeightsMutator(steps: steps)
            case "swap-backend": return SwapBackendMutator(from: try need(self.from, "from"), to: try need(self.to, "to"))
            case "toggle-header": return HeaderFilterToggleMutator(header: self.header ?? "X-Flap-Marker")
            case "neighbour-change": return NeighbourChangeMutator(neighbour: try need(self.neighbour, "neighbour"))
            case "filler-routes":
                let count = try need(self.count, "count")
                guard (1...5000).contains(count) else { throw ScenarioError.field("mutation filler-routes", "count must be 1...5000") }
                return FillerRoutesMutator(count: count)
            case "touch": return TouchMutator()
            default:
                throw ScenarioError.field("mutation", "unknown kind \"\(self.kind)\" (one of \(Self.kinds.joined(separator: ", ")))")
            }
        }

        /// `delete-recreate`, `remove-readd-backend:trino-b`, `swap-backend:a:b`, `toggle-header[:X-Name]`,
        /// `neighbour-change:other`, `filler-routes:100`, `shift-weights:90/10,50/50,10/90`, `touch`, `control`.
        public static func parse(_ text: String) throws -> Mutation {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            var mutation = Mutation(kind: parts[0])
            switch (parts[0], parts.count) {
            case ("remove-readd-backend", 2): mutation.backend = parts[1]
            case ("swap-backend", 3): mutation.from = parts[1]; mutation.to = parts[2]
            case ("toggle-header", 2): mutation.header = parts[1]
            case ("neighbour-change", 2): mutation.neighbour = parts[1]
            case ("filler-routes", 2):
                guard let n = Int(parts[1]) else { throw ScenarioError.field("--mutation \(text)", "the count must be a number") }
                mutation.count = n
            case ("shift-weights", 2):
                mutation.steps = try parts[1].split(separator: ",").map { step in
                    try step.split(separator: "/").map { w in
                        guard let n = Int(w) else { throw ScenarioError.field("--mutation \(text)", "weights are numbers like 90/10,50/50") }
                        return n
                    }
                }
            case (_, 1): break
            default: throw ScenarioError.field("--mutation \(text)", "unexpected arguments for \(parts[0])")
            }
            _ = try mutation.makeMutator()
            return mutation
        }
    }

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

    public static func load(path: String) throws -> Scenario {
        guard let data = FileManager.default.contents(atPath: path) else { throw ScenarioError.unreadable(path) }
        do {
            try ScenarioSchema.check(try JSONValue.parse([UInt8](data)))
        } catch let error as JSONError {
            throw ScenarioError.invalid("scenario \(path) is not JSON: \(error)")
        } catch let error as ScenarioError {
            throw ScenarioError.invalid("scenario \(path): \(error)")
        }
        do {
            return try JSONDecoder().decode(Scenario.self, from: data)
        } catch let error as DecodingError {
            throw ScenarioError.invalid("scenario \(path): \(Self.describe(error))")
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

    /// Checks everything that can be checked without a cluster.
    public func validate() throws {
        guard !self.targets.isEmpty else { throw ScenarioError.invalid("no route target: give --ingress or --httproute with the Trino URL through it") }
        for target in self.targets {
            guard let url = URL(string: target.url), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw ScenarioError.field("target \(target.name)", "url \"\(target.url)\" is not an http(s) URL")
            }
        }
        guard !self.mutations.isEmpty else { throw ScenarioError.invalid("no mutation: give at least one --mutation") }
        for mutation in self.mutations { _ = try mutation.makeMutator() }
        for gate in self.gates { _ = try Gate.parse(gate) }
        if let rate = self.load.rate, !(rate > 0 && rate <= 10_000) { throw ScenarioError.field("load.rate", "must be between 0 and 10000 queries per second") }
        if let arrival = self.load.arrival, !["fixed", "poisson"].contains(arrival) { throw ScenarioError.field("load.arrival", "must be fixed or poisson") }
        for (field, value, range) in Self.countFields(self) {
            if let value, !range.contains(value) { throw ScenarioError.field(field, "must be from \(range.lowerBound) to \(range.upperBound), not \(value)") }
        }
        if let slot = self.schedule.slot.flatMap(Self.duration), slot <= .zero { throw ScenarioError.field("schedule.slot", "must be longer than 0s") }
        for (field, value) in [("schedule.slot", self.schedule.slot), ("schedule.jitter", self.schedule.jitter), ("schedule.duration", self.schedule.duration), ("load.queryTimeout", self.load.queryTimeout),
                               ("workload.requestTimeout", self.workload.requestTimeout), ("workload.interval", self.workload.interval)] {
            if let value, Self.duration(value) == nil { throw ScenarioError.field(field, DurationText.problem(value)) }
        }
        if let profile = self.workload.clientProfile, RetryPolicy.preset(named: profile) == nil {
            throw ScenarioError.field("workload.clientProfile", "unknown profile \"\(profile)\" (none, protocol, java, python, go)")
        }
        if let kind = self.workload.kind, !["trino", "http"].contains(kind) { throw ScenarioError.field("workload.kind", "must be trino or http") }
        if self.schedule.rounds == nil, let total = self.schedule.duration.flatMap(Self.duration) {
            let rounds = total / ((self.schedule.slot.flatMap(Self.duration) ?? .seconds(6)) * max(1, self.arms.count))
            if rounds > Double(Self.maximumRounds) {
                throw ScenarioError.field("schedule.duration", "gives \(Int(rounds)) rounds, more than \(Self.maximumRounds); use a longer slot or a shorter duration")
            }
        }
        let names = self.arms.map(\.name)
        if Set(names).count != names.count { throw ScenarioError.invalid("two arms have the same name: \(names)") }
    }

    /// Arms: every target with every mutation, plus one control arm per target (interleaved at run time).
    public var arms: [(name: String, target: Target, mutation: Mutation)] {
        var arms: [(String, Target, Mutation)] = []
        for target in self.targets {
            if !self.mutations.contains(where: { $0.kind == "control" }) { arms.append(("\(target.name)-control", target, Mutation(kind: "control"))) }
            for mutation in self.mutations { arms.append(("\(target.name)-\(mutation.label)", target, mutation)) }
        }
        return arms
    }

    public static func duration(_ text: String) -> Duration? { DurationText.parse(text) }

    static let maximumRounds = 100_000

    /// Every whole-number setting and the range it must be in.
    static func countFields(_ s: Scenario) -> [(String, Int?, ClosedRange<Int>)] {
        [("schedule.rounds", s.schedule.rounds, 1...maximumRounds), ("schedule.burst", s.schedule.burst, 1...1000),
         ("schedule.warmupQueries", s.schedule.warmupQueries, 0...1_000_000), ("schedule.whenInFlight", s.schedule.whenInFlight, 0...1_000_000),
         ("load.cohort", s.load.cohort, 0...100_000), ("load.maxInFlight", s.load.maxInFlight, 1...1_000_000),
         ("workload.requestsPerQuery", s.workload.requestsPerQuery, 1...1_000_000), ("failureBudget", s.failureBudget, 0...Int.max)]
            + s.mutations.map { ("mutation \($0.kind) gracePeriodSeconds", $0.gracePeriodSeconds, 0...86400) }
    }

    /// The experiment this scenario describes, against `kube`.
    public func configuration(kube: KubeClient) throws -> ExperimentConfiguration {
        try self.validate()
        let arms = try self.arms.map { arm -> ExperimentConfiguration.Arm in
            var target = RouteTarget(kind: arm.target.kind, name: arm.target.route, namespace: arm.target.namespace ?? kube.defaultNamespace,
                                     url: URL(string: arm.target.url)!)
            target.connectTo = arm.target.connectTo
            return ExperimentConfiguration.Arm(name: arm.name, target: target, mutator: try arm.mutation.makeMutator())
        }
        let workload: any QueryWorkload
        if self.workload.kind == "http" {
            workload = HTTPWorkload(path: self.workload.path ?? "/", requestsPerQuery: self.workload.requestsPerQuery ?? 10,
                                    interval: self.workload.interval.flatMap(Self.duration) ?? .milliseconds(100))
        } else {
            var queries = (self.workload.queries ?? []).map { TrinoQueryWorkload.Query(sql: $0) }
            if let file = self.workload.queryFile { queries += try TrinoQueryWorkload.queries(fromFile: file) }
            if queries.isEmpty { queries = [TrinoQueryWorkload.Query(sql: TrinoQueryWorkload.tpchQ9, label: "tpch-q9")] }
            let session = TrinoSession(user: self.workload.user ?? "flap", catalog: self.workload.catalog ?? "tpch", schema: self.workload.schema ?? "sf1")
            workload = TrinoQueryWorkload(queries: queries, session: session,
                                          retryPolicy: self.workload.clientProfile.flatMap(RetryPolicy.preset(named:)) ?? .none,
                                          requestTimeout: self.workload.requestTimeout.flatMap(Self.duration) ?? .seconds(30), seed: self.seed ?? 1)
        }
        var configuration = ExperimentConfiguration(arms: arms, workload: workload, kube: kube)
        let rate = self.load.rate ?? 2
        configuration.load.arrival = self.load.arrival == "poisson" ? .poisson(perSecond: rate) : .fixed(perSecond: rate)
        configuration.load.cohort = self.load.cohort ?? 0
        configuration.load.maxInFlight = self.load.maxInFlight ?? 2000
        configuration.load.queryTimeout = self.load.queryTimeout.flatMap(Self.duration) ?? .seconds(120)
        configuration.schedule.slot = self.schedule.slot.flatMap(Self.duration) ?? .seconds(6)
        configuration.schedule.rounds = self.schedule.rounds ?? 3
        if self.schedule.rounds == nil, let total = self.schedule.duration.flatMap(Self.duration) {
            let perRound = configuration.schedule.slot * arms.count
            configuration.schedule.rounds = max(1, Int((total / perRound).rounded(.down)))
        }
        configuration.schedule.burst = self.schedule.burst ?? 1
        configuration.schedule.jitter = self.schedule.jitter.flatMap(Self.duration) ?? .zero
        configuration.schedule.warmupQueries = self.schedule.warmupQueries ?? 0
        configuration.schedule.whenInFlight = self.schedule.whenInFlight
        configuration.seed = self.seed ?? 1
        configuration.failureBudget = self.failureBudget
        configuration.scenario = self.json
        configuration.name = self.name ?? "flap"
        return configuration
    }
}
