import Foundation

/// Starting child processes safely on Linux: Foundation does no PATH lookup, children inherit the calling
/// thread's blocked signals, and undrained pipes deadlock.
package enum ProcessLauncher {
    /// Starts `process` with an empty signal mask, so it can be stopped with SIGTERM.
    package static func start(_ process: Process) throws {
        var empty = sigset_t()
        var old = sigset_t()
        sigemptyset(&empty)
        pthread_sigmask(SIG_SETMASK, &empty, &old)
        defer { pthread_sigmask(SIG_SETMASK, &old, nil) }
        try process.run()
    }

    /// The absolute path of `name` on PATH.
    package static func which(_ name: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    package struct Output: Sendable {
        package var status: Int32
        package var stdout: String
        package var stderr: String
    }

    /// Runs to completion (blocking), draining stdout and stderr concurrently; `terminateAfter` sends SIGTERM
    /// after that long (for commands that stream until stopped, such as `kubectl get -w`).
    package static func run(_ executable: String, _ arguments: [String], environment: [String: String]? = nil,
                            terminateAfter: Duration? = nil) throws -> Output {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try self.start(process)
        if let terminateAfter {
            let seconds = Double(terminateAfter.components.seconds) + Double(terminateAfter.components.attoseconds) / 1e18
            DispatchQueue.global().asyncAfter(deadline: .now() + seconds) { if process.isRunning { process.terminate() } }
        }
        let drained = Drained()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async { drained.stdout = out.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.enter()
        DispatchQueue.global().async { drained.stderr = err.fileHandleForReading.readDataToEndOfFile(); group.leave() }
        group.wait()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: String(decoding: drained.stdout, as: UTF8.self),
                      stderr: String(decoding: drained.stderr, as: UTF8.self))
    }

    /// Reads one line from a pipe (blocking).
    package static func readLine(_ handle: FileHandle) -> String? {
        var bytes: [UInt8] = []
        while true {
            let chunk = handle.readData(ofLength: 1)
            guard let byte = chunk.first else { return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self) }
            if byte == 10 { return String(decoding: bytes, as: UTF8.self) }
            bytes.append(byte)
        }
    }
}

private final class Drained: @unchecked Sendable {
    var stdout = Data()
    var stderr = Data()
}

/// Runs blocking work (process launches, pipe reads, waits) on a thread of its own, never on the cooperative
/// pool (two threads on a two-core machine).
package enum Blocking {
    package static func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let thread = Thread { continuation.resume(with: Result { try work() }) }
            thread.name = "flap.blocking"
            thread.start()
        }
    }

    package static func run<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            let thread = Thread { continuation.resume(returning: work()) }
            thread.name = "flap.blocking"
            thread.start()
        }
    }
}
