import Foundation

/// Exit codes: 0 ok, 1 error, 2 usage.
let arguments = Array(CommandLine.arguments.dropFirst())
do {
    let command = try FlapCommand.parse(arguments)
    try await CommandRunner.run(command)
} catch let error as UsageError {
    FileHandle.standardError.write(Data("flap-cli: \(error.message)\n".utf8))
    exit(2)
} catch {
    FileHandle.standardError.write(Data("flap-cli: \(error)\n".utf8))
    exit(1)
}
