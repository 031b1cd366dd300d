import Foundation
import HTTPWire

/// Proves which configuration a proxy serves: one request through the route, and what came back.
///
/// Implementation requirements: `observe` returns quickly (bounded by its own timeout) and never throws;
/// an error is an observation too.
public protocol DataPlaneProbe: Sendable {
    func observe(_ target: RouteTarget) async -> ProbeObservation
}

public struct ProbeObservation: Sendable, Equatable {
    public var status: Int?
    /// Response headers, names lower-cased.
    public var headers: [String: String]
    public var error: String?

    public init(status: Int?, headers: [String: String] = [:], error: String? = nil) {
        self.status = status
        self.headers = headers
        self.error = error
    }

    /// The backend identity the lab and the fakes send.
    public var backend: String? { self.headers["x-flap-backend"] }

    public func satisfies(_ expectation: ProbeExpectation) -> Bool {
        switch expectation {
        case .none: return true
        case .status(let code): return self.status == code
        case .header(let name, let value): return self.status.map { $0 < 500 } == true && self.headers[name.lowercased()] == value
        case .headerAbsent(let name): return self.status.map { $0 < 500 } == true && self.headers[name.lowercased()] == nil
        case .backend(let name): return self.backend == name
        }
    }
}

/// GETs a path through the route (Trino's `/v1/info` by default).
public struct HTTPDataPlaneProbe: DataPlaneProbe {
    public var path: String
    public var timeout: Duration
    private let client = SocketHTTPClient()

    public init(path: String = "/v1/info", timeout: Duration = .milliseconds(500)) {
        self.path = path
        self.timeout = timeout
    }

    public func observe(_ target: RouteTarget) async -> ProbeObservation {
        let base = target.url.absoluteString.hasSuffix("/") ? String(target.url.absoluteString.dropLast()) : target.url.absoluteString
        var request = HTTPClientRequest(url: URL(string: base + self.path)!)
        request.connectTo = target.connectTo
        do {
            let response = try await self.client.execute(request, deadline: .now + self.timeout)
            var headers: [String: String] = [:]
            for field in response.headers { headers[field.name.lowercased()] = field.value }
            return ProbeObservation(status: response.status, headers: headers)
        } catch {
            return ProbeObservation(status: nil, error: "\(error)")
        }
    }
}

extension DataPlaneProbe {
    /// Polls until `required` consecutive observations prove `expectation`; returns when the first of them was made.
    public func awaitProof(_ expectation: ProbeExpectation, target: RouteTarget, timeout: Duration, interval: Duration = .milliseconds(5),
                           required: Int = 3) async -> ContinuousClock.Instant? {
        let end = ContinuousClock.now + timeout
        var streakStart: ContinuousClock.Instant?
        var streak = 0
        while ContinuousClock.now < end, !Task.isCancelled {
            let sent = ContinuousClock.now
            if await self.observe(target).satisfies(expectation) {
                if streak == 0 { streakStart = sent }
                streak += 1
                if streak >= required { return streakStart }
            } else {
                streak = 0
            }
            try? await Task.sleep(for: interval)
        }
        return nil
    }
}
