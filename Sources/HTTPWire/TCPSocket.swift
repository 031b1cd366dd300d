import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A connected, non-blocking TCP socket whose every wait is bounded by a deadline (poll(2)).
///
/// Blocking calls: use it only on dedicated threads, never on the cooperative pool.
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

    /// Resolves `host` and connects to the first address that answers, within `deadline`.
    static func connect(host: String, port: Int, deadline: ContinuousClock.Instant) throws(HTTPWireError) -> TCPSocket {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &result)
        guard rc == 0, let list = result else { throw .hostNotFound(host) }
        defer { freeaddrinfo(list) }
        var lastError = HTTPWireError.connectionRefused(host: host, port: port)
        var node: UnsafeMutablePointer<addrinfo>? = list
        while let info = node {
            node = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { lastError = .socketError(operation: "socket", errno: errno); continue }
            setNonBlocking(fd)
            setNoDelay(fd)
            if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                return TCPSocket(fd: fd, host: host, port: port)
            }
            guard errno == EINPROGRESS else {
                lastError = errno == ECONNREFUSED ? .connectionRefused(host: host, port: port) : .socketError(operation: "connect", errno: errno)
                Glibc.close(fd)
                continue
            }
            switch waitFor(fd, events: Int16(POLLOUT), deadline: deadline) {
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

    /// Reads what is available (at most `capacity` bytes) and appends it to `buffer`; returns 0 at end of stream.
    /// Receives into uninitialised scratch memory, so nothing is zero-filled (that cost dominated debug builds).
    func read(into buffer: inout [UInt8], capacity: Int = 65536, deadline: ContinuousClock.Instant, received: Int) throws(HTTPWireError) -> Int {
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
                switch waitFor(fd, events: Int16(POLLIN), deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .readTimedOut(received: received)
                case .failed(let e): throw .socketError(operation: "poll", errno: e)
                }
            case ECONNRESET: throw .connectionReset(reusedConnection: false)
            default: throw .socketError(operation: "recv", errno: code)
            }
        }
    }

    func write(_ bytes: [UInt8], deadline: ContinuousClock.Instant) throws(HTTPWireError) {
        var failure: HTTPWireError?
        bytes.withUnsafeBytes { raw in
            do throws(HTTPWireError) { try self.write(raw, deadline: deadline) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    func write(_ raw: UnsafeRawBufferPointer, deadline: ContinuousClock.Instant) throws(HTTPWireError) {
        let fd = self.descriptor
        guard fd >= 0 else { throw .closedBeforeComplete(received: 0, reusedConnection: false) }
        var offset = 0
        while offset < raw.count {
            let n = send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 { offset += n; continue }
            let code = errno
            switch code {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK:
                switch waitFor(fd, events: Int16(POLLOUT), deadline: deadline) {
                case .ready: continue
                case .timedOut: throw .writeTimedOut
                case .failed(let e): throw .socketError(operation: "poll", errno: e)
                }
            case ECONNRESET, EPIPE: throw .connectionReset(reusedConnection: false)
            default: throw .socketError(operation: "send", errno: code)
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
