import Foundation
import HTTPWire

/// Makes and runs the queries an arm sends through its route.
///
/// Implementation requirements: `run` never throws for a failed query (failures are outcomes, classified in the
/// returned record), honours cancellation, and records every HTTP hop on the continuous clock.
public protocol QueryWorkload: Sendable {
    var name: String { get }
    func run(_ index: Int, through target: RouteTarget, deadline: ContinuousClock.Instant) async -> QueryExecution
}

/// One query as it happened.
public struct QueryExecution: Sendable {
    public var label: String
    public var outcome: QueryOutcome
    public var trace: QueryTrace
    public var rows: Int

    public init(label: String, outcome: QueryOutcome, trace: QueryTrace, rows: Int) {
        self.label = label
        self.outcome = outcome
        self.trace = trace
        self.rows = rows
    }
}

/// Succeeded, or failed with a class and the hop that broke.
public struct QueryOutcome: Sendable, Codable, Equatable {
    public enum FailureClass: String, Sendable, Codable, CaseIterable {
        case httpStatus = "http-status"
        case connectionReset = "connection-reset"
        case connectionRefused = "connection-refused"
        case connectionClosed = "connection-closed"
        case timeout
        case trinoError = "trino-error"
        case protocolError = "protocol-error"
        case clientGaveUp = "client-gave-up"
        case other
    }

    public var succeeded: Bool
    public var failureClass: FailureClass?
    /// e.g. `HTTP 404 at hop 3`, `ABANDONED_QUERY`, `connection reset on a reused connection`.
    public var detail: String?
    /// Index of the hop that broke, when a hop broke.
    public var failedHop: Int?
    public var httpStatus: Int?
    public var trinoErrorName: String?

    public static let success = QueryOutcome(succeeded: true)

    public init(succeeded: Bool, failureClass: FailureClass? = nil, detail: String? = nil, failedHop: Int? = nil,
                httpStatus: Int? = nil, trinoErrorName: String? = nil) {
        self.succeeded = succeeded
        self.failureClass = failureClass
        self.detail = detail
        self.failedHop = failedHop
        self.httpStatus = httpStatus
        self.trinoErrorName = trinoErrorName
    }

    /// A short class label for tables: `http-404`, `trino:ABANDONED_QUERY`, `connection-reset`. It is also what
    /// report.json holds as `failureClass`, so every output speaks one vocabulary.
    public var label: String {
        guard !self.succeeded else { return "ok" }
        if let status = self.httpStatus { return "http-\(status)" }
        if let name = self.trinoErrorName { return "trino:\(name)" }
        return self.failureClass?.rawValue ?? "other"
    }

    /// Classifies what a workload's request threw (a wire failure, a cancellation, anything else), using the trace
    /// for the hop that broke. The Trino workload classifies its client's errors first.
    public static func classify(_ error: any Error, trace: QueryTrace) -> QueryOutcome {
        let failedHop = trace.hops.last { !$0.succeeded }?.index ?? trace.hops.last?.index
        switch error {
        case let e as HTTPRequestFailure:
            return QueryOutcome(succeeded: false, failureClass: self.wireClass(e.error), detail: e.description, failedHop: failedHop)
        case is CancellationError:
            return QueryOutcome(succeeded: false, failureClass: .clientGaveUp, detail: "cancelled", failedHop: failedHop)
        default:
            return QueryOutcome(succeeded: false, failureClass: .other, detail: "\(error)", failedHop: failedHop)
        }
    }

    public static func wireClass(_ error: HTTPWireError) -> FailureClass {
        switch error {
        case .connectionReset: .connectionReset
        case .connectionRefused: .connectionRefused
        case .closedBeforeComplete: .connectionClosed
        case .readTimedOut, .writeTimedOut, .connectTimedOut: .timeout
        default: .other
        }
    }

    // report.json: `failureClass` is the label, the vocabulary of every table, CSV and gate.
    enum CodingKeys: String, CodingKey { case succeeded, failureClass, detail, failedHop, httpStatus, trinoErrorName }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.succeeded = try c.decode(Bool.self, forKey: .succeeded)
        self.detail = try c.decodeIfPresent(String.self, forKey: .detail)
        self.failedHop = try c.decodeIfPresent(Int.self, forKey: .failedHop)
        self.httpStatus = try c.decodeIfPresent(Int.self, forKey: .httpStatus)
        self.trinoErrorName = try c.decodeIfPresent(String.self, forKey: .trinoErrorName)
        self.failureClass = try c.decodeIfPresent(String.self, forKey: .failureClass).map(Self.failureClass(label:))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(self.succeeded, forKey: .succeeded)
        try c.encodeIfPresent(self.failureClass.map { _ in self.label }, forKey: .failureClass)
        try c.encodeIfPresent(self.detail, forKey: .detail)
        try c.encodeIfPresent(self.failedHop, forKey: .failedHop)
        try c.encodeIfPresent(self.httpStatus, forKey: .httpStatus)
        try c.encodeIfPresent(self.trinoErrorName, forKey: .trinoErrorName)
    }

    /// The class a label names (schema 1 reports wrote the class itself, e.g. `http-status`).
    static func failureClass(label: String) -> FailureClass {
        if label.hasPrefix("http-"), Int(label.dropFirst(5)) != nil { return .httpStatus }
        if label.hasPrefix("trino:") { return .trinoError }
        return FailureClass(rawValue: label) ?? .other
    }
}
