import FlapCore
import FlapJSON
import Foundation
import KubeClient

/// The lab's default comparison, API × data plane: for each profile (each API through an nginx and an Envoy
/// data plane, each mirroring a named product), a control arm, the original experiment's two mutations (delete
/// and recreate the route; remove and re-add a backend — HTTPRoute only, the Ingress has one backend), a
/// config-change hammer (a harmless header toggled several times a second), and a change to a neighbour route.
/// Arms are named `<profile>-<mutation>`; `LabFactorial` reads the run.
public enum LabExperiment {
    /// The comparison's size; `flap-cli lab` flags override these, its help prints them.
    public struct Options: Sendable, Equatable {
        public var rounds = 1
        public var slot: Duration = .seconds(4)
        /// Queries started per second during each arm's slot.
        public var rate: Double = 8
        public init() {}
    }

    public static func configuration(lab: Lab, options: Options = Options(), journalDirectory: String? = nil) -> ExperimentConfiguration {
        let hammer = BurstMutator(base: HeaderFilterToggleMutator(), times: self.hammerBurst)
        var arms: [ExperimentConfiguration.Arm] = []
        for profile in lab.profiles {
            guard let target = lab.target(profile) else { continue }
            var mutators: [any RouteMutator] = [ControlMutator(), DeleteRecreateMutator()]
            if profile.api == .httpRoute { mutators.append(RemoveReaddBackendMutator(backend: "trino-b")) }
            mutators += [hammer, NeighbourChangeMutator(neighbour: "neighbour")]
            arms += mutators.map { .init(target: target, targetName: profile.rawValue, mutator: $0) }
        }
        var configuration = ExperimentConfiguration(arms: arms, workload: TrinoQueryWorkload(requestTimeout: .seconds(10)), kube: lab.kube)
        configuration.name = "lab: API × data plane (\(lab.profiles.map(\.rawValue).joined(separator: ", ")))"
        configuration.load.arrival = .fixed(perSecond: options.rate)
        configuration.load.queryTimeout = .seconds(30)
        configuration.schedule.slot = options.slot
        configuration.schedule.rounds = options.rounds
        // Arms share each route: queries arrive in the first half of a slot and end before the next arm's slot.
        configuration.schedule.arrivalWindow = 0.5
        configuration.schedule.flapAt = 0.3
        configuration.schedule.unflapAt = 0.6
        configuration.timeouts.accepted = .seconds(3)
        configuration.timeouts.propagation = .seconds(5)
        configuration.timeouts.drain = .seconds(30)
        configuration.journalDirectory = journalDirectory ?? lab.directory + "/journals"
        return configuration
    }

    /// The hammer arms toggle their header this many times per flap window.
    public static let hammerBurst = 6

    /// Runs the comparison.
    public static func run(lab: Lab, options: Options = Options(), eventLog: String? = nil) async throws -> ExperimentReport {
        try await self.run(lab: lab, runner: self.runner(lab: lab, options: options, eventLog: eventLog))
    }

    /// The comparison's runner (a caller that shows progress or names files by the run id makes it first).
    public static func runner(lab: Lab, options: Options = Options(), eventLog: String? = nil, runID: String = ExperimentRunner.makeRunID()) -> ExperimentRunner {
        var configuration = self.configuration(lab: lab, options: options)
        configuration.eventLogPath = eventLog
        return ExperimentRunner(configuration: configuration, runID: runID)
    }

    /// Runs `runner` and adds the lab's own readings to its report.
    public static func run(lab: Lab, runner: ExperimentRunner) async throws -> ExperimentReport {
        var report: ExperimentReport
        do {
            report = try await runner.run()
        } catch let error as ExperimentError where error.code == .notRestored && error.report != nil {
            report = error.report!  // marked at its top; the lab is torn down with the run anyway
        }
        var extensions = await self.delays(lab: lab, report: report, clock: runner.clock)
        extensions[member: "envoyLocalReplies"] = Self.envoyLocalRepliesJSON(await self.envoyLocalReplies(lab: lab, report: report))
        extensions[member: "profiles"] = .array(lab.profiles.map { profile in
            ["name": .string(profile.rawValue), "api": .string(profile.api.rawValue), "proxy": .string(profile.proxy.rawValue),
             "product": .string(profile.product), "mechanics": .string(profile.mechanics), "port": lab.port(profile).map { .int($0) } ?? .null]
        })
        extensions[member: "factorial"] = LabFactorial.reading(report, profiles: lab.profiles).json
        report.extensions = ["lab": extensions]
        return report
    }

    /// The answers Envoy gave itself (a response flag such as `NC` or `NR`), per arm, as `"<status> <flags>"`
    /// counts: how a report tells a 503 for a cluster Envoy did not have yet from an upstream's 503. Requests are
    /// matched to arms by the query ID in their path; a submit that failed has none and counts as `unattributed`.
    public static func envoyLocalReplies(lab: Lab, report: ExperimentReport) async -> [String: [String: Int]] {
        var armOfQuery: [String: ArmID] = [:]
        for query in report.queries { if let id = query.queryID { armOfQuery[id] = query.arm } }
        var out: [String: [String: Int]] = [:]
        for profile in lab.profiles where profile.proxy == .envoy {
            for response in await lab.envoyResponses(profile) where response.isLocalReply {
                let arm = response.queryID.flatMap { armOfQuery[$0]?.rawValue } ?? "\(profile.rawValue) (unattributed)"
                out[arm, default: [:]]["\(response.status) \(response.flags)", default: 0] += 1
            }
        }
        return out
    }

    static func envoyLocalRepliesJSON(_ replies: [String: [String: Int]]) -> JSONValue {
        .object(replies.mapValues { counts in .object(counts.mapValues { .int($0) }) })
    }

    /// For each mutation step that wrote an object: write -> its data plane served that version (control plane:
    /// nginx's from the reloaded workers answering, Envoy's from the xDS file renamed into place), and served ->
    /// first proof through the route.
    static func delays(lab: Lab, report: ExperimentReport, clock: RunClock) async -> JSONValue {
        var out: [String: JSONValue] = [:]
        for profile in lab.profiles {
            let records = await lab.appliedGenerations(profile)
            let plane = profile.rawValue
            var control: [Double] = []
            var data: [Double] = []
            for mutation in report.mutations where LabProfile.owner(ofArm: mutation.arm.rawValue)?.profile == profile {
                guard let record = self.application(of: mutation, in: records) else { continue }
                let at = clock.seconds(record.appliedAt)
                control.append(max(0, at - mutation.writeEnd))
                if let proof = mutation.propagatedAt { data.append(max(0, proof - at)) }
            }
            func summary(_ values: [Double]) -> JSONValue {
                guard let s = LatencySummary(seconds: values) else { return .null }
                return ["count": .int(s.count), "p50": .number(String(s.p50)), "p99": .number(String(s.p99)), "max": .number(String(s.max))]
            }
            out[plane] = ["writeToControllerApplied": summary(control), "controllerAppliedToServed": summary(data)]
        }
        return .object(out)
    }

    /// The first time the data plane served the version `mutation` wrote: matched by uid and resourceVersion, so
    /// neither a recreated route (generation 1 again) nor an annotation change (same generation) matches another
    /// version's application. Steps that wrote no object (a delete) have none.
    static func application(of mutation: MutationRecord, in records: [AppliedGeneration]) -> AppliedGeneration? {
        guard let uid = mutation.uid, let version = mutation.resourceVersion else { return nil }
        return records.filter { $0.covers(uid: uid, resourceVersion: version) }.min { $0.appliedAt < $1.appliedAt }
    }

    /// The run's API × data-plane reading and the profiles it ran, from the report's lab extension.
    public static func factorial(_ report: ExperimentReport) -> (reading: LabFactorial, profiles: [LabProfile])? {
        guard let lab = report.extensions?["lab"], let factorial = lab["factorial"],
              let reading = try? JSONDecoder().decode(LabFactorial.self, from: Data(factorial.serializedBytes)) else { return nil }
        let profiles = (lab["profiles"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }.compactMap(LabProfile.init(rawValue:))
        return (reading, profiles)
    }

    /// The delays as text for the summary.
    public static func delaysText(_ report: ExperimentReport) -> String {
        guard let lab = report.extensions?["lab"] else { return "" }
        var out = "control plane vs data plane (per mutation with a generation):\n"
        for plane in LabProfile.allCases.map(\.rawValue) {
            guard let entry = lab[plane] else { continue }
            func text(_ key: String) -> String {
                guard let s = entry[key], s != .null, let p50 = s["p50"]?.doubleValue, let p99 = s["p99"]?.doubleValue else { return "-" }
                return String(format: "p50 %.0fms p99 %.0fms", p50 * 1000, p99 * 1000)
            }
            out += "  \(plane): write -> controller applied \(text("writeToControllerApplied")); applied -> first proof \(text("controllerAppliedToServed"))\n"
        }
        if let replies = lab["envoyLocalReplies"]?.objectValue, !replies.isEmpty {
            out += "Envoy's own answers (status and response flags: NC = route names a cluster Envoy lacks, NR = no route):\n"
            for (arm, counts) in replies.sorted(by: { $0.key < $1.key }) {
                let text = (counts.objectValue ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value.int64Value ?? 0)" }.joined(separator: ", ")
                out += "  \(arm): \(text)\n"
            }
        }
        return out
    }
}

/// Repeats a mutator's flap `times` times within one window (a reload hammer).
public struct BurstMutator: RouteMutator {
    public let base: any RouteMutator
    public let times: Int
    public init(base: any RouteMutator, times: Int) {
        self.base = base
        self.times = times
    }
    public var name: String { "\(self.base.name)×\(self.times)" }
    public var armLabel: String { "\(self.base.armLabel)-x\(self.times)" }
    public var stepsPerFlap: Int { self.base.stepsPerFlap * self.times }
    public func touchedObjects(in context: MutationContext) async throws -> [ObjectReference] { try await self.base.touchedObjects(in: context) }
    public func apply(step: Int, in context: MutationContext) async throws -> MutationOutcome {
        try await self.base.apply(step: step % self.base.stepsPerFlap, in: context)
    }
    public func plan(step: Int, target: RouteTarget) -> String { self.base.plan(step: step % self.base.stepsPerFlap, target: target) }
    public func check(in context: MutationContext) async throws { try await self.base.check(in: context) }
    public var verbs: [String] { self.base.verbs }
}
