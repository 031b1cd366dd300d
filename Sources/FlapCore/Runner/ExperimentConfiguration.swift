import FlapJSON
import Foundation
import KubeClient

/// Everything one run needs. Defaults suit a quick run; a scenario file or flags set the rest.
public struct ExperimentConfiguration: Sendable {
    /// One arm: a route and what is done to it. Its ``ID`` comes from one rule (``ArmID/derive(targetName:mutator:)``)
    /// wherever the arm is declared: in code, by the lab, by `flap-cli run` flags or by a scenario file.
    public struct Arm: Sendable {
        public typealias ID = ArmID
        public let id: ID
        public var target: RouteTarget
        public var mutator: any RouteMutator

        /// - Parameter targetName: the arm-name prefix for this route; by default its kind's (`ingress`, `gateway`).
        public init(target: RouteTarget, targetName: String? = nil, mutator: any RouteMutator) {
            self.id = ArmID.derive(targetName: targetName ?? target.kind.armPrefix, mutator: mutator)
            self.target = target
            self.mutator = mutator
        }

        public var isControl: Bool { self.mutator is ControlMutator }
    }

    public enum Arrival: Sendable, Equatable, Codable {
        case fixed(perSecond: Double)
        case poisson(perSecond: Double)
        public var rate: Double {
            switch self {
            case .fixed(let r), .poisson(let r): r
            }
        }
    }

    public struct Load: Sendable {
        /// Open-loop arrivals during each arm's slot.
        public var arrival: Arrival = .fixed(perSecond: 2)
        /// Long queries started together at the beginning of each slot, to span the mutation.
        public var cohort = 0
        /// Arrivals beyond this many queries in flight are dropped (and reported).
        public var maxInFlight = 2000
        public var queryTimeout: Duration = .seconds(120)
        /// Whether the arrival thread asks for real-time priority (granted to root or CAP_SYS_NICE only; the thread
        /// keeps it to itself). Off, the schedule runs at normal priority like everything else.
        public var realTimeArrivals = true
        public init() {}
    }

    /// Arms run in rounds; in each round every arm gets one slot, in a seeded random order. Within a slot the
    /// mutation's steps are spread between `flapAt` and `unflapAt` (fractions of the slot).
    public struct Schedule: Sendable {
        public var slot: Duration = .seconds(6)
        public var rounds = 3
        public var flapAt = 1.0 / 3
        public var unflapAt = 2.0 / 3
        public var jitter: Duration = .zero
        /// Flaps per slot: the mutation's steps repeated this many times between `flapAt` and `unflapAt`.
        public var burst = 1
        /// Arrivals happen in this leading fraction of the slot. When arms share a route, leave room for the
        /// slot's queries to end before the next arm's slot, or they are hit by the next arm's mutation.
        public var arrivalWindow = 1.0
        /// Queries through every arm before the first slot, not counted.
        public var warmupQueries = 0
        /// Instead of at `flapAt`, flap once this many queries are in flight (or at `unflapAt`, whichever first).
        public var whenInFlight: Int?
        public init() {}
    }

    public struct Timeouts: Sendable {
        public var propagation: Duration = .seconds(30)
        public var accepted: Duration = .seconds(10)
        public var restore: Duration = .seconds(30)
        /// How long queries still running after the last slot may take.
        public var drain: Duration = .seconds(120)
        public init() {}
    }

    public var arms: [Arm]
    public var workload: any QueryWorkload
    public var kube: KubeClient
    public var load = Load()
    public var schedule = Schedule()
    public var timeouts = Timeouts()
    public var seed: UInt64 = 1
    /// Stop (and restore) once this many queries have failed outside the control arm.
    public var failureBudget: Int?
    /// How late the run itself may be before its report is marked unreliable.
    public var scheduleBounds = ScheduleBounds()
    /// Pass/fail rules the report is judged by (its `gates`), evaluated when the report is built.
    public var gates: [Gate] = []
    public var probe: (any DataPlaneProbe)? = HTTPDataPlaneProbe()
    public var eventLogPath: String?
    public var journalDirectory = JournalStore.defaultDirectory
    /// The scenario as the user wrote it, embedded in the report.
    public var scenario: JSONValue?
    public var name = "flap"

    public init(arms: [Arm], workload: any QueryWorkload, kube: KubeClient) {
        self.arms = arms
        self.workload = workload
        self.kube = kube
    }
}
