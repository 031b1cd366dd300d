import FlapJSON
import Foundation

/// How a conflict-safe read-modify-write backs off between attempts.
public struct ConflictRetry: Sendable, Equatable {
    public var maxAttempts: Int
    public var initialDelay: Duration
    public var maxDelay: Duration

    public init(maxAttempts: Int = 8, initialDelay: Duration = .milliseconds(10), maxDelay: Duration = .milliseconds(500)) {
        self.maxAttempts = maxAttempts
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
    }

    /// Full jitter over an exponential ceiling.
    func delay(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(self.maxDelay, self.initialDelay * pow(2, Double(attempt - 1)))
        return ceiling * Double.random(in: 0.5...1)
    }
}

extension KubeClient {
    /// GET, change, PUT with the resourceVersion read; on 409 Conflict read again and retry, with bounded
    /// backoff (the original experiment's script slept 10 s per conflict). `change` may run several times.
    /// - Returns: the object as the server stored it.
    @discardableResult
    public func modify<T: KubeResource>(_ type: T.Type, name: String, namespace: String? = nil, retry: ConflictRetry = ConflictRetry(),
                                        _ change: (inout T) throws -> Void) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            var object = try await self.get(type, name: name, namespace: namespace)
            let before = object
            try change(&object)
            if object == before { return object }
            do {
                return try await self.replace(object)
            } catch let error as KubeStatusError where error.isConflict && attempt < retry.maxAttempts {
                try await Task.sleep(for: retry.delay(afterAttempt: attempt))
            }
        }
    }
}
