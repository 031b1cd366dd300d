import CustomMutatorExample
import FlapCommandLine
import FlapCore

// A team's own flap executable: flap's commands and mutation kinds, plus the team's `read-timeout`, usable from
// `--mutation read-timeout:5` and from a scenario file's `{"kind": "read-timeout", "seconds": 5}`.
var mutators = MutatorRegistry.builtIn
try mutators.register(MutatorKind(name: "read-timeout", parameters: ["seconds"], usage: "read-timeout[:SECONDS]") { spec in
    ReadTimeoutMutator(seconds: try spec.int("seconds", in: 1...3600) ?? 5)
})
await FlapCommandLine.main(mutators: mutators)
