import FlapCore
import Foundation

/// flap-cli as a library: a team ships its own `flap` executable with its mutation kinds registered.
///
/// ```swift
/// import FlapCommandLine
/// import FlapCore
///
/// var mutators = MutatorRegistry.builtIn
/// try mutators.register(MutatorKind(name: "read-timeout", parameters: ["seconds"]) { spec in
///     ReadTimeoutMutator(seconds: try spec.int("seconds", in: 1...3600) ?? 5)
/// })
/// await FlapCommandLine.main(mutators: mutators)
/// ```
public enum FlapCommandLine {
    /// Runs one command and exits the process with its code: 0 ok, 1 error, 2 usage, 3 a gate failed,
    /// 4 aborted (compare: 0 equal, 1 error, 2 regressions or an arm in only one report, 4 improvements, 64 usage).
    public static func main(arguments: [String] = Array(CommandLine.arguments.dropFirst()), mutators: MutatorRegistry = .builtIn) async -> Never {
        let code = await self.run(arguments: arguments, mutators: mutators)
        fflush(nil)
        exit(code)
    }

    /// Runs one command and returns its exit code, printing errors to standard error.
    public static func run(arguments: [String], mutators: MutatorRegistry = .builtIn) async -> Int32 {
        do {
            let command = try FlapCommand.parse(arguments, mutators: mutators)
            return try await CommandRunner.run(command)
        } catch let error as UsageError {
            FileHandle.standardError.write(Data("flap-cli: \(error.message)\n".utf8))
            return error.exitCode
        } catch {
            FileHandle.standardError.write(Data("flap-cli: \(error)\n".utf8))
            return 1
        }
    }
}
