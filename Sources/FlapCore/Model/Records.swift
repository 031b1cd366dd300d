import Foundation
import HTTPWire
import TrinoClient

/// A query as the runner saw it end: what the event log holds. What needs the whole run (its phase, its distance
/// to the nearest mutation) is added once, by the report builder, making a ``QueryRecord``.
public struct QueryObservation: Sendable, Codable, Equatable {
    public var id: Int
    public var arm: ArmID
    public var round: Int
    public var label: String
    public var intendedStart: Double
    public var actualStart: Double
    public var end: Double
    public var queryID: String?
    public var outcome: QueryOutcome
    public var rows: Int
    public var hops: [HopRecord]
    public var connectionsOpened: Int
    public var reconnects: Int
    public var transport: String
}

/// One query as the report keeps it: times in seconds since the run started.
public struct QueryRecord: Sendable, Codable, Equatable {
    public var id: Int
    public var arm: ArmID
    public var round: Int
    public var label: String
    public var intendedStart: Double
    /// When the generator issued the query (its lateness is the schedule's, reported apart from latency).
    public var actualStart: Double
    public var end: Double
    public var queryID: String?
    public var outcome: QueryOutcome
    public var rows: Int
    public var hops: [HopRecord]
    public var connectionsOpened: Int
    /// Connections opened because the peer had closed one (HTTPWire's `Reconnects` rule), not a shared pool growing.
    public var reconnects: Int
    /// Seconds from the last write of this arm before the failure (or the query's end); negative only when the
    /// failure came before the arm's first write.
    public var sinceMutation: Double?
    public var phase: Phase
    /// Transport that carried the hops.
    public var transport: String

    public enum Phase: String, Sendable, Codable, CaseIterable { case before, during, after, control }

    init(_ observation: QueryObservation, sinceMutation: Double?, phase: Phase) {
        self.id = observation.id
        self.arm = observation.arm
        self.round = observation.round
        self.label = observation.label
        self.intendedStart = observation.intendedStart
        self.actualStart = observation.actualStart
        self.end = observation.end
        self.queryID = observation.queryID
        self.outcome = observation.outcome
        self.rows = observation.rows
        self.hops = observation.hops
        self.connectionsOpened = observation.connectionsOpened
        self.reconnects = observation.reconnects
        self.sinceMutation = sinceMutation
        self.phase = phase
        self.transport = observation.transport
    }

    /// Latency measured from when the query should have started (no coordinated omission).
    public var latency: Double { self.end - self.intendedStart }
    public var lateness: Double { self.actualStart - self.intendedStart }
}

public struct HopRecord: Sendable, Codable, Equatable {
    public var index: Int
    public var purpose: String
    public var method: String
    public var start: Double
    public var end: Double
    public var status: Int?
    public var attempts: Int
    public var connectionID: Int?
    public var reused: Bool?
    public var bytes: Int
    /// Why the last attempt failed, when it did.
    public var failure: String?
    /// Failures of every attempt, for client-profile counterfactuals.
    public var attemptFailures: [FailureCode]
    public var connectionEvents: [String]
}

/// One mutation step: API write, acknowledgement, Accepted, and the first proof the data plane serves it.
public struct MutationRecord: Sendable, Codable, Equatable {
    public var arm: ArmID
    public var mutator: String
    public var round: Int
    public var step: Int
    public var description: String
    public var writeStart: Double
    public var writeEnd: Double
    public var resourceVersion: String?
    public var generation: Int64?
    /// When the route reported Accepted for this generation (HTTPRoute status).
    public var acceptedAt: Double?
    /// When the probe first proved the new configuration (the first of the required consecutive proofs).
    public var propagatedAt: Double?
    public var expectation: ProbeExpectation
    public var error: String?
    /// When the schedule meant the write to start, and when its slot ended (seconds since the run started).
    public var intendedAt: Double? = nil
    public var slotEnd: Double? = nil
    /// The written object's uid (with `resourceVersion`, the exact version a data plane must apply).
    public var uid: String? = nil

    public var propagation: Double? { self.propagatedAt.map { $0 - self.writeStart } }
}

extension HopRecord {
    package init(_ hop: QueryTrace.Hop, clock: RunClock) {
        let last = hop.attempts.last
        self.index = hop.index
        self.purpose = hop.purpose.rawValue
        self.method = hop.method
        self.start = clock.seconds(hop.start)
        self.end = clock.seconds(hop.end)
        self.status = last?.status
        self.attempts = hop.attempts.count
        self.connectionID = last?.connection?.connectionID
        self.reused = last?.connection?.reused
        self.bytes = last?.bytesReceived ?? 0
        self.failure = last?.failure.map { "\($0)" }
        self.attemptFailures = hop.attempts.compactMap { $0.failure?.code }
        self.connectionEvents = hop.attempts.flatMap(\.connectionEvents).map(\.kind.rawValue)
    }
}
