import Foundation

/// Exit codes: 0 ok, 1 error, 2 usage, 3 a gate failed, 4 aborted (compare: 0 equal, 2 regressions, 4 improvements).
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let command = try FlapCommand.parse(arguments)
    let code = try await CommandRunner.run(command)
    fflush(nil)
    exit(code)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("flap-cli: \(error.message)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("flap-cli: \(error)\n".utf8))
    exit(1)
}
