import FlapCore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTPWire

/// A non-Trino workload for a small key-value service behind the route: each "query" writes a value with PUT,
/// then reads it back `reads` times with GET, spaced like a polling client. A read that answers but returns a
/// different value fails the query too: a route change that sends reads to a backend without the data is a
/// failure a 200-counter would miss.
///
/// It uses URLSession (any client works) and records every request with a `QueryTraceRecorder`, so reports show
/// its latency, failing hop and failure class like a Trino query's.
public struct KeyValueWorkload: QueryWorkload {
    public var reads: Int
    public var interval: Duration
    private let session: URLSession

    public init(reads: Int = 5, interval: Duration = .milliseconds(100)) {
        self.reads = reads
        self.interval = interval
        self.session = URLSession(configuration: .ephemeral)
    }

    public var name: String { "key-value" }

    public func run(_ index: Int, through target: RouteTarget, deadline: ContinuousClock.Instant) async -> QueryExecution {
        let trace = QueryTraceRecorder(transport: "urlsession")
        let key = "flap-\(index)-\(UUID().uuidString.prefix(8))"
        let value = "value-\(index)"
        let url = target.url.appendingPathComponent("kv").appendingPathComponent(key)
        for hop in 0...self.reads {
            if hop > 0 { try? await Task.sleep(for: self.interval) }
            guard !Task.isCancelled else { return self.failed(trace, .clientGaveUp, "cancelled before hop \(hop)", hop: hop) }
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return self.failed(trace, .timeout, "deadline passed before hop \(hop)", hop: hop) }
            // URLSession times out in whole seconds on Linux: round the remaining time up.
            var request = URLRequest(url: url, timeoutInterval: TimeInterval(remaining.components.seconds + 1))
            request.httpMethod = hop == 0 ? "PUT" : "GET"
            if hop == 0 { request.httpBody = Data(value.utf8) }
            let start = ContinuousClock.now
            do {
                let (body, response) = try await self.session.data(for: request)
                let status = (response as? HTTPURLResponse)?.statusCode ?? 0
                let ok = status == 200 || (hop == 0 && status == 201)
                trace.record(method: request.httpMethod ?? "GET", uri: url.absoluteString, start: start, status: status, bytesReceived: body.count,
                             failure: ok ? nil : .status(status, retryAfter: nil))
                guard ok else {
                    let outcome = QueryOutcome(succeeded: false, failureClass: .httpStatus, detail: "HTTP \(status) at hop \(hop)", failedHop: hop, httpStatus: status)
                    return QueryExecution(label: self.name, outcome: outcome, trace: trace.snapshot, rows: hop)
                }
                if hop > 0, String(decoding: body, as: UTF8.self) != value {
                    return self.failed(trace, .protocolError, "hop \(hop) read back \"\(String(decoding: body.prefix(40), as: UTF8.self))\", wrote \"\(value)\"", hop: hop)
                }
            } catch {
                trace.record(method: request.httpMethod ?? "GET", uri: url.absoluteString, start: start, status: nil, failure: nil)
                return self.failed(trace, Self.classify(error), "\(error.localizedDescription) at hop \(hop)", hop: hop)
            }
        }
        return QueryExecution(label: self.name, outcome: .success, trace: trace.snapshot, rows: self.reads)
    }

    private func failed(_ trace: QueryTraceRecorder, _ failure: QueryOutcome.FailureClass, _ detail: String, hop: Int) -> QueryExecution {
        QueryExecution(label: self.name, outcome: QueryOutcome(succeeded: false, failureClass: failure, detail: detail, failedHop: hop),
                       trace: trace.snapshot, rows: max(0, hop - 1))
    }

    /// URLSession's errors mapped onto flap's failure classes.
    static func classify(_ error: any Error) -> QueryOutcome.FailureClass {
        guard let error = error as? URLError else { return .other }
        switch error.code {
        case .timedOut: return .timeout
        case .cannotConnectToHost: return .connectionRefused
        case .networkConnectionLost: return .connectionClosed
        case .cancelled: return .clientGaveUp
        default: return .other
        }
    }
}
