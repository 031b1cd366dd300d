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
        guard T.self != KubeObject.self else {
            throw KubeDecodingError(operation: "modify \(name)", message: "untyped objects need modify(_ resource:name:...), which names their resource type")
        }
        return try await self.modify(T.resourceType, name: name, namespace: namespace, retry: retry) { (object: inout T) in try change(&object) }
    }

    /// The same read-modify-write for an object of any resource type.
    @discardableResult
    public func modify<T: KubeResource>(_ resource: ResourceType, name: String, namespace: String? = nil, retry: ConflictRetry = ConflictRetry(),
                                        _ change: (inout T) throws -> Void) async throws -> T {
        var attempt = 0
        while true {
            attempt += 1
            var object = T(json: try await self.get(resource, name: name, namespace: namespace).json)
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
