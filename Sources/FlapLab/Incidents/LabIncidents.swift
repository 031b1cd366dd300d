import FlapCore
import FlapJSON
import Foundation
import KubeClient
import TrinoClient

/// What real Ingress and Gateway data planes did on route changes, from their issue trackers, each as a scenario
/// the lab runs through its profiles, with what the lab shows of it. docs/incidents.md is the same catalogue in
/// prose; `flap-cli lab incidents` runs it.
public struct LabIncident: Sendable, Identifiable {
    public enum Scenario: String, Sendable, CaseIterable {
        case routeDelete = "route-delete"
        case endpointsVanish = "endpoints-vanish"
        case backendRefChange = "eg-backendref-change"
        case ruleReorder = "eg-rule-reorder"
        case reloadClosesConnections = "reload-closes-connections"
        case longQuery = "long-query"
    }

    public let scenario: Scenario
    public var id: String { self.scenario.rawValue }
    public let title: String
    /// The upstream threads it comes from.
    public let upstream: [String]
    public let upstreamSays: String
    /// What the lab shows when it runs; when the lab cannot reproduce what upstream saw, ``why`` says why.
    public let labShows: String
    public let why: String?

    public var reproduces: Bool { self.why == nil }

    /// The profiles the scenario runs on, of those the lab has.
    public func profiles(of lab: [LabProfile]) -> [LabProfile] {
        switch self.scenario {
        case .backendRefChange, .ruleReorder: lab.filter { $0 == .envoyGateway }
        default: lab
        }
    }
}

/// The catalogue, and how each scenario runs and is judged.
public enum LabIncidents {
    public static let catalogue: [LabIncident] = [
        LabIncident(scenario: .routeDelete, title: "Deleting a route fails the queries in flight on every data plane",
                    upstream: ["https://github.com/envoyproxy/envoy/pull/1971", "https://github.com/projectcontour/contour/issues/4834"],
                    upstreamSays: "a request for a route that no longer exists gets the data plane's own not-found answer (Envoy 404 NR)",
                    labShows: "every profile answers the next poll of each query in flight with 404: Trino's polling makes a query depend on its route for its whole life",
                    why: nil),
        LabIncident(scenario: .endpointsVanish, title: "A Service losing its endpoints answers 503",
                    upstream: ["https://github.com/envoyproxy/gateway/issues/4685", "https://github.com/envoyproxy/gateway/pull/7938"],
                    upstreamSays: "a backend without ready endpoints answers 503 (Gateway API asks 503 for no endpoints, 500 for an invalid backendRef); Envoy Gateway once routed to endpoints that no longer existed",
                    labShows: "every profile fails the queries in flight with 503 while the Service has no endpoints (Envoy UH, nginx and NGF's 503, HAProxy's no server available)",
                    why: nil),
        LabIncident(scenario: .backendRefChange, title: "Envoy Gateway: changing a backendRef gave 500/503 NC",
                    upstream: ["https://github.com/envoyproxy/gateway/issues/6287"],
                    upstreamSays: "changing an HTTPRoute's backendRef to another Service gave 500/503 with response flag NC (cluster_not_found)",
                    labShows: "no NC and no query lost: the rule's cluster keeps its name, only its endpoints change",
                    why: "the lab's Envoy Gateway profile keeps the per-rule cluster name and inlines endpoints (no EDS), so no cluster is missing or warming; the thread does not establish which part of Envoy Gateway's push made the cluster missing. The lab's result is a lower bound."),
        LabIncident(scenario: .ruleReorder, title: "Envoy Gateway: reordering HTTPRoute rules gave a 503 window",
                    upstream: ["https://github.com/envoyproxy/gateway/issues/9029", "https://github.com/envoyproxy/envoy/issues/13910"],
                    upstreamSays: "reordering rules renames the per-rule clusters; at ~2,000 routes one user lost 4.68 s of traffic while the clusters warmed",
                    labShows: "no NC and no query lost: the reorder swaps the contents of clusters that keep their names, and inline endpoints need no warming",
                    why: "the window comes from EDS warming of renamed clusters under load; the lab inlines endpoints (file-based EDS needs an inotify instance per cluster) and runs one small route, so it has no warming window. The lab's result is a lower bound."),
        LabIncident(scenario: .reloadClosesConnections, title: "Reloads close keep-alive connections, an unrelated route's change included",
                    upstream: ["https://github.com/nginx/nginx-gateway-fabric/issues/5524", "https://github.com/kubernetes/ingress-nginx/issues/11515"],
                    upstreamSays: "NGINX Gateway Fabric reloads nginx on every change and long-lived connections drop when old workers stop; ingress-nginx cuts connections when worker-shutdown-timeout expires",
                    labShows: "a change to another route makes every client of the nginx and HAProxy profiles reconnect (old workers close their connections), and none of the Envoy profiles'",
                    why: nil),
        LabIncident(scenario: .longQuery, title: "A long query polls through many route changes",
                    upstream: ["https://github.com/kubernetes/ingress-nginx/issues/11515", "https://github.com/nginx/nginx-gateway-fabric/issues/5524"],
                    upstreamSays: "long-lived clients are the ones reloads hurt: old workers drain them, then cut them at their shutdown timeout",
                    labShows: "a query polling for its whole duration while a neighbour route changes again and again reconnects on every nginx and HAProxy reload and never on Envoy; its polls are short requests, so no old worker cuts one",
                    why: nil),
    ]

    public struct Options: Sendable {
        /// Each arm's slot for the short scenarios.
        public var slot: Duration = .seconds(4)
        /// How long the long query runs.
        public var longQuery: Duration = .seconds(30)
        public init() {}
    }

    /// One incident's run: its verdict per profile and whether the lab showed what the catalogue says it shows.
    public struct Outcome: Sendable, Codable {
        public var id: String
        public var reproduces: Bool
        public var holds: Bool
        /// Per profile, what the run measured (failure classes, reconnects, Envoy's own answers).
        public var observed: [String: String]
        /// What did not hold, if anything.
        public var problems: [String]
        /// The run left its own schedule (a slow machine): its counts stand, its timings are the machine's.
        public var unreliable: [String] = []
    }

    public static func run(_ incident: LabIncident, lab: Lab, options: Options = Options()) async throws -> Outcome {
        let profiles = incident.profiles(of: lab.profiles)
        guard !profiles.isEmpty else {
            return Outcome(id: incident.id, reproduces: incident.reproduces, holds: false, observed: [:], problems: ["none of its profiles runs in this lab"])
        }
        let restore = try await self.prepare(incident.scenario, lab: lab)
        var configuration = self.configuration(incident.scenario, lab: lab, profiles: profiles, options: options)
        configuration.journalDirectory = lab.directory + "/journals"
        let runner = ExperimentRunner(configuration: configuration)
        let report: ExperimentReport
        do { report = try await runner.run() } catch {
            try? await restore()
            throw error
        }
        try await restore()
        let replies = await LabExperiment.envoyLocalReplies(lab: lab, report: report)
        var observed: [String: String] = [:]
        var problems: [String] = []
        for profile in profiles {
            guard let arm = report.arms.first(where: { LabProfile.owner(ofArm: $0.name.rawValue)?.profile == profile }) else {
                problems.append("\(profile.rawValue): no arm measured")
                continue
            }
            let envoy = replies[arm.name.rawValue] ?? [:]
            observed[profile.rawValue] = self.describe(arm, envoy: envoy)
            if let problem = self.judge(incident.scenario, profile: profile, arm: arm, envoy: envoy) { problems.append("\(profile.rawValue): \(problem)") }
        }
        if let invalid = report.arms.compactMap(\.invalid).first { problems.append("the run was invalid: \(invalid.joined(separator: "; "))") }
        return Outcome(id: incident.id, reproduces: incident.reproduces, holds: problems.isEmpty, observed: observed, problems: problems,
                       unreliable: report.judged == .unreliable ? report.integrityLines : [])
    }

    static func describe(_ arm: ArmReport, envoy: [String: Int]) -> String {
        let failures = arm.failures.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ")
        var text = "\(arm.survival.successes)/\(arm.survival.trials) survived, \(arm.connections.reconnects) reconnects"
        if !failures.isEmpty { text += ", failures \(failures)" }
        if !envoy.isEmpty { text += ", Envoy's own answers " + envoy.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: ", ") }
        return text
    }

    /// The keep-alive race's classes: a request sent as a reloading proxy closed the idle connection.
    static let raceClasses: Set<String> = ["connection-reset", "connection-closed"]

    /// Nil when the arm shows what the catalogue says; otherwise what differed.
    static func judge(_ scenario: LabIncident.Scenario, profile: LabProfile, arm: ArmReport, envoy: [String: Int]) -> String? {
        let reloads = profile.proxy != .envoy
        switch scenario {
        case .routeDelete:
            return (arm.failures["http-404"] ?? 0) > 0 ? nil : "no query failed with 404: \(arm.failures)"
        case .endpointsVanish:
            return (arm.failures["http-503"] ?? 0) > 0 ? nil : "no query failed with 503: \(arm.failures)"
        case .backendRefChange, .ruleReorder:
            let notFound = envoy.filter { $0.key.hasSuffix(" NC") }.values.reduce(0, +)
            if notFound > 0 { return "Envoy answered NC \(notFound) times: the lab reproduced the window; update the catalogue" }
            return arm.failures.isEmpty ? nil : "queries failed: \(arm.failures)"
        case .reloadClosesConnections, .longQuery:
            if reloads {
                if arm.connections.reconnects == 0 { return "no client reconnected, though every change reloads" }
                if !Set(arm.failures.keys).isSubset(of: self.raceClasses) { return "failures beyond the keep-alive race: \(arm.failures)" }
                return nil
            }
            if arm.connections.reconnects > 0 { return "\(arm.connections.reconnects) reconnects, though Envoy closes no connection on a route update" }
            return arm.failures.isEmpty ? nil : "queries failed: \(arm.failures)"
        }
    }

    /// The lab's objects as a scenario needs them; returns how to put them back.
    static func prepare(_ scenario: LabIncident.Scenario, lab: Lab) async throws -> @Sendable () async throws -> Void {
        let kube = lab.kube, namespace = lab.configuration.namespace
        let rules: [HTTPRoute.Rule]
        switch scenario {
        case .backendRefChange:
            // One backendRef, to change to another Service of the same pod (the query survives a correct change).
            rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080)])]
        case .ruleReorder:
            // Two rules whose order does not change routing (the longer prefix wins), to two Services of one pod.
            var statement = HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080)])
            statement.json[member: "matches"] = [["path": ["type": "PathPrefix", "value": "/v1/statement"]]]
            var rest = HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino-b", port: 8080)])
            rest.json[member: "matches"] = [["path": ["type": "PathPrefix", "value": "/"]]]
            rules = [statement, rest]
        default:
            return {}
        }
        let original = try await kube.get(HTTPRoute.self, name: "trino", namespace: namespace).spec.rules
        _ = try await kube.modify(HTTPRoute.self, name: "trino", namespace: namespace) { route in route.spec.rules = rules }
        return {
            _ = try await kube.modify(HTTPRoute.self, name: "trino", namespace: namespace) { route in route.spec.rules = original }
        }
    }

    static func configuration(_ scenario: LabIncident.Scenario, lab: Lab, profiles: [LabProfile], options: Options) -> ExperimentConfiguration {
        let mutator: any RouteMutator
        var slot = options.slot
        var session = TrinoSession(user: "flap", catalog: "tpch", schema: "sf1")
        switch scenario {
        case .routeDelete: mutator = DeleteRecreateMutator()
        case .endpointsVanish: mutator = EndpointsVanishMutator(services: ["trino", "trino-b"])
        case .backendRefChange: mutator = SwapBackendMutator(from: "trino", to: "trino-b")
        case .ruleReorder: mutator = RuleReorderMutator()
        case .reloadClosesConnections: mutator = NeighbourChangeMutator(neighbour: "neighbour")
        case .longQuery:
            // A change every ~1.5 s for the query's middle third.
            let seconds = Double(options.longQuery.components.seconds)
            mutator = BurstMutator(base: NeighbourChangeMutator(neighbour: "neighbour"), times: max(2, Int(seconds / 1.5 / 3)))
            session.properties["fake_duration_ms"] = String(Int64(seconds * 1000))
            slot = options.longQuery + .seconds(8)
        }
        let arms = profiles.compactMap { profile in
            lab.target(profile).map { ExperimentConfiguration.Arm(target: $0, targetName: profile.rawValue, mutator: mutator) }
        }
        var configuration = ExperimentConfiguration(arms: arms, workload: TrinoQueryWorkload(session: session, requestTimeout: .seconds(10)), kube: lab.kube)
        configuration.name = "lab incident \(scenario.rawValue)"
        configuration.schedule.slot = slot
        configuration.schedule.rounds = 1
        configuration.timeouts.accepted = .seconds(3)
        configuration.timeouts.propagation = .seconds(5)
        configuration.timeouts.drain = .seconds(30)
        if scenario == .longQuery {
            // Two queries that start with the slot and poll through every change.
            configuration.load.cohort = 2
            configuration.load.arrival = .fixed(perSecond: 0.01)
            configuration.schedule.arrivalWindow = 0.01
            configuration.schedule.flapAt = 0.2
            configuration.schedule.unflapAt = 0.7
            configuration.load.queryTimeout = options.longQuery + .seconds(30)
        } else {
            configuration.load.arrival = .fixed(perSecond: 8)
            configuration.load.queryTimeout = .seconds(30)
            configuration.schedule.arrivalWindow = 0.5
            configuration.schedule.flapAt = 0.3
            configuration.schedule.unflapAt = 0.6
        }
        return configuration
    }

    /// The outcomes as a table (one line per incident and profile).
    public static func table(_ outcomes: [Outcome]) -> String {
        var out = ""
        for outcome in outcomes {
            let incident = self.catalogue.first { $0.id == outcome.id }
            let verdict = outcome.holds ? (outcome.reproduces ? "reproduced" : "not reproduced, as documented") : "DID NOT HOLD"
            out += "\(outcome.id): \(verdict) — \(incident?.title ?? "")\n"
            for (profile, text) in outcome.observed.sorted(by: { $0.key < $1.key }) { out += "  \(profile): \(text)\n" }
            for problem in outcome.problems { out += "  problem: \(problem)\n" }
            for line in outcome.unreliable { out += "  unreliable (the machine, not the proxies): \(line)\n" }
        }
        return out
    }
}
