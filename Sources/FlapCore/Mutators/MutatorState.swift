import FlapSystem

/// Names one value a mutator keeps between its steps, with its type.
public struct MutatorStateKey<Value: Sendable>: Sendable {
    public let name: String
    public init(_ name: String) { self.name = name }
}

/// What a mutator remembers between the steps of one arm (the object it deleted, the spec it pruned). The runner
/// gives every arm its own, in ``MutationContext/state``, so a mutator stays a value: two arms built from copies
/// of one mutator share nothing.
public final class MutatorState: Sendable {
    private let values = Locked<[String: any Sendable]>([:])

    public init() {}

    public subscript<Value>(key: MutatorStateKey<Value>) -> Value? {
        get { self.values.withLock { $0[key.name] as? Value } }
        set { self.values.withLock { $0[key.name] = newValue } }
    }
}
