import Foundation
import HTTPWire
import KubeClient

/// A misbehaviour of the fake API server for the next matching requests.
public struct FakeKubeFault: Sendable {
    public enum Verb: String, Sendable { case get, list, watch, create, update, patch, delete, any }

    public enum Action: Sendable, Equatable {
        /// Answer after this delay (then normally).
        case latency(Duration)
        /// 409 Conflict, as an optimistic-lock failure reports it.
        case conflict
        /// 429 with Retry-After.
        case tooManyRequests(retryAfterSeconds: Int)
        case internalError
        /// Any Status failure.
        case status(code: Int, reason: String)
        /// For watch: send this many events, then end the stream.
        case dropWatchAfter(events: Int)
    }

    public var verb: Verb
    public var resource: ResourceType?
    public var action: Action
    public var remaining: Int

    public init(_ action: Action, verb: Verb = .any, resource: ResourceType? = nil, count: Int = 1) {
        self.action = action
        self.verb = verb
        self.resource = resource
        self.remaining = count
    }
}

final class FakeKubeFaults: @unchecked Sendable {
    private let lock = NSLock()
    private var faults: [FakeKubeFault] = []

    func add(_ fault: FakeKubeFault) { self.lock.withLock { self.faults.append(fault) } }

    func take(verb: FakeKubeFault.Verb, resource: ResourceType?) -> FakeKubeFault.Action? {
        self.lock.withLock {
            guard let index = self.faults.firstIndex(where: { fault in
                fault.remaining > 0 && (fault.verb == .any || fault.verb == verb) && (fault.resource == nil || fault.resource == resource)
                    && (fault.verb == .watch || !Self.isWatchOnly(fault.action) || verb == .watch)
            }) else { return nil }
            self.faults[index].remaining -= 1
            let action = self.faults[index].action
            if self.faults[index].remaining == 0 { self.faults.remove(at: index) }
            return action
        }
    }

    private static func isWatchOnly(_ action: FakeKubeFault.Action) -> Bool {
        if case .dropWatchAfter = action { return true }
        return false
    }
}

/// Open watch streams, so tests can drop them all.
final class WatchRegistry: @unchecked Sendable {
    private let lock = NSLock()
    private var generation = 0
    private var open = 0

    var count: Int { self.lock.withLock { self.open } }
    var dropGeneration: Int { self.lock.withLock { self.generation } }
    func opened() { self.lock.withLock { self.open += 1 } }
    func closed() { self.lock.withLock { self.open -= 1 } }
    func dropAll() { self.lock.withLock { self.generation += 1 } }
}
