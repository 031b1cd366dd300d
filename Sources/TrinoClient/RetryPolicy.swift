import Foundation
import HTTPWire

/// When and how a request is retried. A value, so a run can record it and replay it over recorded traces.
///
/// Presets follow what each official client does (see the protocol reference); every preset is bounded.
public struct RetryPolicy: Sendable, Equatable, Hashable, CustomStringConvertible {
    public enum Backoff: Sendable, Equatable, Hashable {
        /// A uniformly random delay in the range (the protocol's "50-100 ms").
        case uniform(min: Duration, max: Duration)
        /// `attempt * step` (Java).
        case linear(step: Duration)
        /// `base * 2^attempt * random()` capped (Python's full jitter).
        case exponentialJitter(base: Duration, cap: Duration)
        /// `initial * factor^(attempt-1)` capped (Go's golden-ratio backoff).
        case geometric(initial: Duration, factor: Double, cap: Duration)
    }

    /// Which wire failures are retried.
    public enum TransportRetry: String, Sendable, Equatable, Hashable {
        case never
        /// Only failures to connect (nothing reached the server).
        case connectFailures
        /// Timeouts and failures to connect.
        case timeouts
        /// Any wire failure, resets and mid-body closes included.
        case any
    }

    public var name: String
    public var retryStatuses: Set<Int>
    /// Retry 429, waiting as `Retry-After` says.
    public var honoursTooManyRequests: Bool
    /// Retry a 200 whose body is empty (Python).
    public var retriesEmptyBody: Bool
    public var transportRetryForGET: TransportRetry
    public var transportRetryForPOST: TransportRetry
    public var backoff: Backoff
    /// Attempts per request, the first included.
    public var maxAttempts: Int?
    /// No retry starts later than this after the request's first attempt.
    public var maxRetryDuration: Duration?

    public var description: String { self.name }

    public static let none = RetryPolicy(
        name: "none", retryStatuses: [], honoursTooManyRequests: false, retriesEmptyBody: false,
        transportRetryForGET: .never, transportRetryForPOST: .never, backoff: .linear(step: .zero), maxAttempts: 1, maxRetryDuration: .zero)

    /// The protocol document's rule: 502/503/504 again after 50-100 ms; 429 after `Retry-After`.
    public static let `protocol` = RetryPolicy(
        name: "protocol", retryStatuses: [502, 503, 504], honoursTooManyRequests: true, retriesEmptyBody: false,
        transportRetryForGET: .never, transportRetryForPOST: .never,
        backoff: .uniform(min: .milliseconds(50), max: .milliseconds(100)), maxAttempts: nil, maxRetryDuration: .seconds(120))

    /// `StatementClientV1`: 502/503/504 (no 429); any failure of GET nextUri, only timeouts of the POST;
    /// `attempts * 100 ms`; gives up after `clientRequestTimeout` (2 min).
    public static let javaClient = RetryPolicy(
        name: "java", retryStatuses: [502, 503, 504], honoursTooManyRequests: false, retriesEmptyBody: false,
        transportRetryForGET: .any, transportRetryForPOST: .timeouts,
        backoff: .linear(step: .milliseconds(100)), maxAttempts: nil, maxRetryDuration: .seconds(120))

    /// trino-python-client: 429 (Retry-After), 502/503/504 and empty 200s; connection errors and timeouts on
    /// every method; `0.1 s * 2^attempt * random()`; at most 3 attempts.
    public static let pythonClient = RetryPolicy(
        name: "python", retryStatuses: [502, 503, 504], honoursTooManyRequests: true, retriesEmptyBody: true,
        transportRetryForGET: .any, transportRetryForPOST: .any,
        backoff: .exponentialJitter(base: .milliseconds(100), cap: .seconds(1800)), maxAttempts: 3, maxRetryDuration: nil)

    /// trino-go-client: 502/503/504 only, no retry of wire failures; golden-ratio backoff from 100 ms capped at
    /// 15 s; bounded only by the query context (10 h by default).
    public static let goClient = RetryPolicy(
        name: "go", retryStatuses: [502, 503, 504], honoursTooManyRequests: false, retriesEmptyBody: false,
        transportRetryForGET: .never, transportRetryForPOST: .never,
        backoff: .geometric(initial: .milliseconds(100), factor: 1.618, cap: .seconds(15)), maxAttempts: nil, maxRetryDuration: .seconds(36_000))

    public static let presets: [RetryPolicy] = [.none, .protocol, .javaClient, .pythonClient, .goClient]

    public static func preset(named name: String) -> RetryPolicy? {
        self.presets.first { $0.name == name.lowercased() }
    }

    /// Would this policy retry `failure` after `attemptsMade` attempts, `elapsed` after the first one started?
    public func shouldRetry(_ failure: HopFailure, method: String, attemptsMade: Int, elapsed: Duration) -> Bool {
        self.shouldRetry(failure.code, method: method, attemptsMade: attemptsMade, elapsed: elapsed)
    }

    /// The same judgement from a recorded failure code (what reports keep), for client-profile counterfactuals.
    public func shouldRetry(_ failure: FailureCode, method: String, attemptsMade: Int, elapsed: Duration) -> Bool {
        if let maxAttempts, attemptsMade >= maxAttempts { return false }
        if let maxRetryDuration, elapsed > maxRetryDuration { return false }
        switch failure {
        case .status(let status):
            if status == 429 { return self.honoursTooManyRequests }
            return self.retryStatuses.contains(status)
        case .emptyBody:
            return self.retriesEmptyBody
        case .wire(let kind):
            let rule = method == "POST" ? self.transportRetryForPOST : self.transportRetryForGET
            return Self.covers(rule, kind)
        }
    }

    /// The pause before attempt `attemptsMade + 1`. A `Retry-After` on a 429 wins when the policy honours it.
    public func delay(afterAttempt attemptsMade: Int, failure: HopFailure, using random: inout some RandomNumberGenerator) -> Duration {
        if case .status(429, let retryAfter?) = failure, self.honoursTooManyRequests { return retryAfter }
        switch self.backoff {
        case .uniform(let low, let high):
            let span = (high - low) / 1_000_000
            return low + span * Double.random(in: 0...1_000_000, using: &random)
        case .linear(let step):
            return step * attemptsMade
        case .exponentialJitter(let base, let cap):
            return min(cap, base * (pow(2, Double(attemptsMade)) * Double.random(in: 0..<1, using: &random)))
        case .geometric(let initial, let factor, let cap):
            return min(cap, initial * pow(factor, Double(attemptsMade - 1)))
        }
    }

    static func covers(_ rule: TransportRetry, _ kind: WireFailure) -> Bool {
        switch rule {
        case .never: false
        case .any: true
        case .connectFailures: [.connectionRefused, .connectTimedOut, .hostNotFound].contains(kind)
        case .timeouts: [.connectionRefused, .connectTimedOut, .hostNotFound, .readTimedOut, .writeTimedOut].contains(kind)
        }
    }
}
