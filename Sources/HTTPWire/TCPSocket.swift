import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected, non-blocking TCP socket whose every wait is bounded by a deadline. Waits suspend on the event loop
/// (`EventLoopGroup`); only `writeBlocking` holds its thread, for producers that run on a thread of their own.
final class TCPSocket: @unchecked Sendable {
    // fd is written once at init and read-only afterwards, except by close() under the lock.
    private let lock = NSLock()
    private var fd: Int32
    let host: String
    let port: Int

    init(fd: Int32, host: String, port: Int) {
        self.fd = fd
        self.host = host
        self.port = port
    }

    deinit { self.close() }

    var isOpen: Bool { self.lock.withLock { self.fd >= 0 } }
    private var descriptor: Int32 { self.lock.withLock { self.fd } }

    /// Resolves `host` and connects to the first address that answers, within `deadline`, waiting on the event loop.
    static func connect(host: String, port: Int, deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> TCPSocket {
        var lastError = HTTPWireError.connectionRefused(host: host, port: port)
        for address in try Self.resolve(host: host, port: port) {
            let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .socketError(operation: "socket", errno: errno); continue }
            setNonBlocking(fd)
            setNoDelay(fd)
            let started = address.bytes.withUnsafeBytes { raw in
                Glibc.connect(fd, raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), socklen_t(raw.count))
            }
            if started == 0 { return TCPSocket(fd: fd, host: host, port: port) }
            guard errno == EINPROGRESS else {
                lastError = errno == ECONNREFUSED ? .connectionRefused(host: host, port: port) : .socketError(operation: "connect", errno: errno)
                Glibc.close(fd)
                continue
            }
            switch await EventLoopGroup.shared.wait(for: fd, .writable, deadline: deadline) {
            case .ready:
                var soError: Int32 = 0
                var len = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(fd, SOL_SOCKET, SO_ERROR, &soError, &len)
                if soError == 0 { return TCPSocket(fd: fd, host: host, port: port) }
                lastError = soError == ECONNREFUSED ? .connectionRefused(host: host, port: port) : .socketError(operation: "connect", errno: soError)
                Glibc.close(fd)
            case .timedOut:
                Glibc.close(fd)
                throw .connectTimedOut(host: host, port: port)
            case .failed(let code):
                Glibc.close(fd)
                lastError = .socketError(operation: "poll", errno: code)
            }
        }
        throw lastError
    }

    /// The addresses `host` resolves to, in getaddrinfo's order (numeric and /etc/hosts names resolve without a lookup
    /// on the network).
    private static func resolve(host: String, port: Int) throws(HTTPWireError) -> [(family: Int32, bytes: [UInt8])] {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let list = result else { throw .hostNotFound(host) }
        defer { freeaddrinfo(list) }
        var addresses: [(Int32, [UInt8])] = []
        var node: UnsafeMutablePointer<addrinfo>? = list
        while let info = node {
            node = info.pointee.ai_next
            let raw = UnsafeRawBufferPointer(start: info.pointee.ai_addr, count: Int(info.pointee.ai_addrlen))
            addresses.append((info.pointee.ai_family, Array(raw)))
        }
        return addresses
    }

    /// Reads what is available (at most `capacity` bytes) and appends it to `buffer`; returns 0 at end of stream.
    /// Receives into uninitialised scratch memory, so nothing is zero-filled (that cost dominated debug builds).
    func read(into buffer: inout [UInt8], capacity: Int = 65536, deadline: ContinuousClock.Instant, received: Int) async throws(HTTPWireError) -> Int {
        let fd = self.descriptor
        guard fd >= 0 else { throw .closedBeforeComplete(received: received, reusedConnection: false) }
        while true {
            let (n, code) = withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 16) { scratch -> (Int, Int32) in
                let n = recv(fd, scratch.baseAddress, capacity, 0)
                if n > 0 { buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: scratch[0..<n])) }
                return (n, n < 0 ? errno : 0)
            }
            if n >= 0 { return n }
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                switch await EventLoopGroup.shared.wait(for: fd, .readable, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .readTimedOut(received: received)
                case .failed(let e): throw .socketError(operation: "poll", errno: e)
                }
            case ECONNRESET: throw .connectionReset(reusedConnection: false)
            default: throw .socketError(operation: "recv", errno: code)
            }
        }
    }

    /// Sends all of `bytes`, suspending on the event loop while the socket's buffer is full.
    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) async throws(HTTPWireError) {
        var offset = 0
        while offset < bytes.count {
            switch self.sendSome(bytes, from: offset) {
            case .sent(let n): offset += n
            case .failed(let error): throw error
            case .wouldBlock(let fd):
                switch await EventLoopGroup.shared.wait(for: fd, .writable, deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .writeTimedOut
                case .failed(let e): throw .socketError(operation: "poll", errno: e)
                }
            }
        }
    }

    /// Sends all of `bytes`, blocking this thread (for producers that stream from a thread of their own).
    func writeBlocking(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(HTTPWireError) {
        var offset = 0
        while offset < bytes.count {
            switch self.sendSome(bytes, from: offset) {
            case .sent(let n): offset += n
            case .failed(let error): throw error
            case .wouldBlock(let fd):
                switch waitFor(fd, events: Int16(POLLOUT), deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .writeTimedOut
                case .failed(let e): throw .socketError(operation: "poll", errno: e)
                }
            }
        }
    }

    private enum SendStep { case sent(Int), wouldBlock(Int32), failed(HTTPWireError) }

    private func sendSome(_ bytes: [UInt8], from offset: Int) -> SendStep {
        let fd = self.descriptor
        guard fd >= 0 else { return .failed(.closedBeforeComplete(received: 0, reusedConnection: false)) }
        while true {
            let n = bytes.withUnsafeBytes { send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 { return .sent(n) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return .wouldBlock(fd)
            case ECONNRESET, EPIPE: return .failed(.connectionReset(reusedConnection: false))
            case let code: return .failed(.socketError(operation: "send", errno: code))
            }
        }
    }

    /// True when an idle connection has been closed (or reset) by the peer, or has unexpected bytes waiting.
    func peerHasClosedOrSpoken() -> Bool {
        let fd = self.descriptor
        guard fd >= 0 else { return true }
        var pfd = pollfd(fd: fd, events: Int16(POLLIN) | Int16(0x2000) /* POLLRDHUP */, revents: 0)
        guard poll(&pfd, 1, 0) > 0 else { return false }
        return true
    }

    /// Wakes any thread blocked on this socket (used for cancellation) without releasing the descriptor.
    func shutdown() {
        self.lock.withLock {
            if self.fd >= 0 { _ = Glibc.shutdown(self.fd, Int32(SHUT_RDWR)) }
        }
    }

    func close() {
        self.lock.withLock {
            if self.fd >= 0 { Glibc.close(self.fd); self.fd = -1 }
        }
    }
}

enum PollOutcome { case ready, timedOut, failed(Int32) }

/// Waits for `events` on `fd` until `deadline` (sub-millisecond rounding goes up, so deadlines are never cut short).
func waitFor(_ fd: Int32, events: Int16, deadline: ContinuousClock.Instant) -> PollOutcome {
    while true {
        let remaining = deadline - ContinuousClock.now
        if remaining <= .zero { return .timedOut }
        let ms = remaining.components.seconds * 1000 + (remaining.components.attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let rc = poll(&pfd, 1, Int32(clamping: ms))
        if rc > 0 { return .ready }
        if rc == 0 { continue }
        if errno == EINTR { continue }
        return .failed(errno)
    }
}

func setNonBlocking(_ fd: Int32) {
    let flags = fcntl(fd, F_GETFL, 0)
    _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
}

func setNoDelay(_ fd: Int32) {
    var one: Int32 = 1
    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
}
