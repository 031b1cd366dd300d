#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// HAProxy's runtime API (and its master CLI): one command line per connection over a Unix socket, the answer
/// read until HAProxy closes it, as `socat` would do it.
struct HAProxyRuntime: Sendable {
    let socketPath: String

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// Sends `commands` (joined with `;`, run in order by one CLI session) and returns HAProxy's answer.
    @discardableResult
    func send(_ commands: [String], timeout: TimeInterval = 5) throws -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let path = Array(self.socketPath.utf8)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { throw Failure(description: "socket path too long: \(self.socketPath)") }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: path)
            buffer[path.count] = 0
        }
        var wait = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else { throw Failure(description: "connect \(self.socketPath): \(String(cString: strerror(errno)))") }
        let line = Array((commands.joined(separator: "; ") + "\n").utf8)
        var sent = 0
        while sent < line.count {
            let count = line[sent...].withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { throw Failure(description: "write \(self.socketPath): \(String(cString: strerror(errno)))") }
            sent += count
        }
        var answer: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count > 0 { answer += buffer[..<count]; continue }
            if count < 0 && errno == EINTR { continue }
            guard count == 0 else { throw Failure(description: "read \(self.socketPath): \(String(cString: strerror(errno)))") }
            break
        }
        return String(decoding: answer, as: UTF8.self)
    }
}
