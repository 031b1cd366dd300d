import FlapSystem
import FlapCore
import Foundation

/// A data-plane child that dies with the lab: it runs under a small watchdog shell that ends it (and removes the
/// lab's directory) when the flap process goes away, even after `kill -9`, and on `stop()`.
final class SupervisedProcess: @unchecked Sendable {
    private let process: Process
    private let lock = NSLock()
    private var stopped = false
    let name: String
    let log: String

    /// - Parameters:
    ///   - cleanup: a directory the watchdog removes if flap dies without stopping the lab.
    init(name: String, executable: String, arguments: [String], log: String, cleanup: String?) throws {
        self.name = name
        self.log = log
        // The child gets a session (and process group) of its own, so the watchdog ends the whole group: nginx's
        // workers outlive a master killed with -9 and would keep serving the port otherwise.
        let watchdog = """
        setsid "$@" >>"$FLAP_CHILD_LOG" 2>&1 &
        child=$!
        echo $child > "$FLAP_CHILD_PID"
        stop_group() { kill -TERM -- -$child 2>/dev/null || kill -TERM $child 2>/dev/null; }
        trap 'stop_group; sleep 0.5; kill -KILL -- -$child 2>/dev/null; exit 0' TERM INT
        while kill -0 "$FLAP_PARENT" 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.2; done
        stop_group
        sleep 0.5
        kill -KILL -- -$child 2>/dev/null || kill -KILL $child 2>/dev/null
        if ! kill -0 "$FLAP_PARENT" 2>/dev/null && [ -n "$FLAP_CLEANUP" ]; then rm -rf "$FLAP_CLEANUP"; fi
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", watchdog, "flap-\(name)", executable] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["FLAP_PARENT"] = String(getpid())
        environment["FLAP_CHILD_LOG"] = log
        environment["FLAP_CLEANUP"] = cleanup ?? ""
        environment["FLAP_CHILD_PID"] = log + ".pid"
        process.environment = environment
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try ProcessLauncher.start(process)
        self.process = process
    }

    var isRunning: Bool { self.process.isRunning }

    /// The data plane's own pid (its process group), as the watchdog recorded it.
    var childPID: Int32? {
        (try? String(contentsOfFile: self.log + ".pid", encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// The child or its watchdog ended without `stop()` (killed, or crashed). Read from /proc, not from
    /// `Process.isRunning`: Foundation learns of an exit only when every holder of its monitoring socket has
    /// closed it, and orphaned grandchildren (nginx workers) hold it on.
    var exitedUnexpectedly: Bool {
        guard !self.lock.withLock({ self.stopped }) else { return false }
        guard let child = self.childPID else { return false }
        return !Self.isAlive(self.process.processIdentifier) || !Self.isAlive(child)
    }

    /// Running and not a zombie.
    static func isAlive(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
        return stat[stat.index(after: close)...].split(separator: " ").first != "Z"
    }

    /// The last lines the child wrote, for error messages.
    var logTail: String {
        let text = (try? String(contentsOfFile: self.log, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").suffix(8).joined(separator: "\n")
    }

    func stop() {
        let first = self.lock.withLock { () -> Bool in defer { self.stopped = true }; return !self.stopped }
        guard first else { return }
        // The data plane's whole group goes, even if its watchdog is already gone.
        if let child = self.childPID {
            kill(-child, SIGTERM)
            let gone = Date().addingTimeInterval(3)
            while kill(-child, 0) == 0, Date() < gone { usleep(20_000) }
            kill(-child, SIGKILL)
        }
        guard Self.isAlive(self.process.processIdentifier) else { return }
        self.process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while Self.isAlive(self.process.processIdentifier), Date() < deadline { usleep(20_000) }
        if Self.isAlive(self.process.processIdentifier) { kill(self.process.processIdentifier, SIGKILL) }
        // Bounded: Process.waitUntilExit can block indefinitely when the child's exit was already reaped elsewhere.
        let reaped = Date().addingTimeInterval(2)
        while Self.isAlive(self.process.processIdentifier), Date() < reaped { usleep(20_000) }
    }

    deinit { self.stop() }
}

enum FreePort {
    /// A loopback port nobody listens on right now.
    static func pick() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer -> Int32 in
                guard bind(fd, pointer, length) == 0 else { return -1 }
                return getsockname(fd, pointer, &length)
            }
        }
        guard bound == 0 else { throw LabError.setup("cannot find a free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Waits until something accepts connections on the port.
    static func waitUntilListening(_ port: Int, timeout: TimeInterval = 10) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            let rc = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            close(fd)
            if rc == 0 { return true }
            usleep(20_000)
        }
        return false
    }
}

/// The lab cannot start or keep a data plane. Match on `code`.
public struct LabError: CodedError, Equatable {
    public typealias Code = ErrorCode<LabError>
    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    static func missing(_ what: [String]) -> LabError { LabError(.missing, "the lab needs: " + what.joined(separator: "; ")) }
    static func setup(_ why: String) -> LabError { LabError(.setup, "lab setup failed: \(why)") }
    static func dataPlane(_ name: String, _ why: String) -> LabError { LabError(.dataPlane, "\(name): \(why)") }
}

extension ErrorCode where Owner == LabError {
    /// Programs the lab needs are not installed (`scripts/lab-deps`).
    public static let missing = Self("missing")
    public static let setup = Self("setup")
    /// A file given to `lab up --manifests` cannot be read, parsed or applied.
    public static let badManifest = Self("badManifest")
    /// A data plane did not start, refused its configuration or did not load it.
    public static let dataPlane = Self("dataPlane")
}
