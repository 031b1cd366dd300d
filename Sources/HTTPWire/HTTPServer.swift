import FlapSystem
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A small HTTP/1.1 server for fakes and tests: loopback, port 0 by default.
///
/// One thread accepts; each connection is a task that runs on the event loop watching its socket, so an idle
/// keep-alive connection holds no thread and a request wakes no other thread. A plain handler runs on a
/// blocking-work thread (it may wait, as a fake's long poll does); an async handler runs on the loop itself and
/// must not block: it suspends (`ChangeSignal`, `Task.sleep`, I/O) and holds no thread while it waits.
/// `stop()` closes the listener and every connection and waits until all of them have finished.
public final class HTTPServer: @unchecked Sendable {
    public typealias Handler = @Sendable (HTTPServerRequest) -> HTTPServerResponse
    public typealias AsyncHandler = @Sendable (HTTPServerRequest) async -> HTTPServerResponse

    public struct Configuration: Sendable {
        public var host = "127.0.0.1"
        public var port = 0
        public var limits = HTTPLimits(maxHeaderBytes: 64 * 1024, maxBodyBytes: 64 * 1024 * 1024)
        /// How long a connection may sit between requests (or take to send one) before it is closed.
        public var idleTimeout: Duration = .seconds(75)
        /// Request-body bytes all connections together may hold at once; a request that would pass it is answered
        /// 503 before its body is read (the per-request limit alone let six 60 MB uploads take 1.4 GB).
        public var maxInFlightBodyBytes = 256 * 1024 * 1024
        public init() {}
    }

    public let port: Int
    public let host: String
    private let configuration: Configuration
    private let handler: AsyncHandler
    private let lock = NSLock()
    private var listener: Int32
    private var connections: [Int: TCPSocket] = [:]
    private let threads = DispatchGroup()
    private let connectionIDs = Locked(1)
    private var bodyBytesInFlight = 0

    public convenience init(configuration: Configuration = Configuration(), handler: @escaping Handler) throws {
        try self.init(configuration: configuration, asyncHandler: { request in
            (try? await BlockingExecutor.shared.run { handler(request) }) ?? .text("handler failed\n", status: 500)
        })
    }

    public init(configuration: Configuration = Configuration(), asyncHandler handler: @escaping AsyncHandler) throws {
        self.configuration = configuration
        self.handler = handler
        (self.listener, self.port) = try Self.listen(host: configuration.host, port: configuration.port)
        self.host = configuration.host
        self.threads.enter()
        let acceptor = Thread { [self] in
            self.acceptLoop()
            self.threads.leave()
        }
        acceptor.name = "flap.http-server.accept"
        acceptor.start()
    }

    deinit { self.stop() }

    /// `http://host:port`
    public var baseURL: URL { URL(string: "http://\(self.host):\(self.port)")! }

    public var openConnectionCount: Int { self.lock.withLock { self.connections.count } }

    /// Stops accepting, closes every connection and waits for all server threads to end.
    public func stop() {
        let (fd, open) = self.lock.withLock { () -> (Int32, [TCPSocket]) in
            let fd = self.listener
            self.listener = -1
            return (fd, Array(self.connections.values))
        }
        if fd >= 0 {
            Glibc.shutdown(fd, Int32(SHUT_RDWR))
        }
        for socket in open { socket.shutdown() }
        self.threads.wait()
        if fd >= 0 { Glibc.close(fd) }
    }

    /// Closes every open client connection (as a proxy reload or restart would), keeping the listener.
    public func dropAllConnections() {
        let open = self.lock.withLock { Array(self.connections.values) }
        for socket in open { socket.shutdown() }
    }

    private static func listen(host: String, port: Int) throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw HTTPWireError.socketError(operation: "socket", errno: errno) }
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else {
            Glibc.close(fd)
            throw HTTPWireError.invalidURL("listen address \(host) is not an IPv4 address")
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 1024) == 0 else {
            let code = errno
            Glibc.close(fd)
            throw HTTPWireError.socketError(operation: "bind \(host):\(port)", errno: code)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    private func acceptLoop() {
        while true {
            let fd = self.lock.withLock { self.listener }
            guard fd >= 0 else { return }
            let client = accept(fd, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                if errno == EMFILE || errno == ENFILE { usleep(10_000); continue }
                return
            }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            setNonBlocking(client)
            setNoDelay(client)
            let socket = TCPSocket(fd: client, host: self.host, port: self.port)
            let id = self.connectionIDs.next()
            let accepted = self.lock.withLock { () -> Bool in
                guard self.listener >= 0 else { return false }
                self.connections[id] = socket
                return true
            }
            guard accepted else { socket.close(); return }
            self.threads.enter()
            // The connection runs on the loop that watches its socket: no pool thread is woken per request.
            Task(executorPreference: EventLoopGroup.shared.loop(for: client)) { [self] in
                await self.serve(socket, id: id)
                self.lock.withLock { _ = self.connections.removeValue(forKey: id) }
                socket.close()
                self.threads.leave()
            }
        }
    }

    private func serve(_ socket: TCPSocket, id: Int) async {
        var reader = MessageReader(socket: socket, limits: self.configuration.limits)
        while true {
            let deadline = ContinuousClock.now + self.configuration.idleTimeout
            var reserved = 0
            let request: HTTPServerRequest
            let close: Bool
            do {
                guard let headBytes = try await reader.readHead(deadline: deadline) else { return }
                let head = try HTTPHeadParser.parseRequestHead(headBytes)
                let framing = try BodyFraming.forRequest(head.headers)
                reserved = self.bodyReservation(for: framing)
                guard self.reserve(reserved) else {
                    _ = await self.write(.text("server busy: too many request bytes in flight\n", status: 503, headers: ["Retry-After": "1"]),
                                   to: socket, method: head.method, close: true)
                    return
                }
                let body = try await reader.readBody(framing, deadline: deadline)
                request = HTTPServerRequest(method: head.method, target: head.target, headers: head.headers, body: body, connectionID: id)
                close = head.headers.connectionOption("close") || (head.version == "HTTP/1.0" && !head.headers.connectionOption("keep-alive"))
            } catch {
                self.release(reserved)
                await self.reject(error, on: socket)
                return
            }
            let response = await self.handler(request)
            self.release(reserved)
            guard await self.write(response, to: socket, method: request.method, close: close) else { return }
            if close || response.closeConnection { return }
        }
    }

    /// Bytes a body may take: its length, or the per-request limit when chunked.
    private func bodyReservation(for framing: BodyFraming) -> Int {
        switch framing {
        case .contentLength(let length): min(length, self.configuration.limits.maxBodyBytes)
        case .chunked, .untilClose: self.configuration.limits.maxBodyBytes
        case .none: 0
        }
    }

    private func reserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        return self.lock.withLock {
            guard self.bodyBytesInFlight + bytes <= self.configuration.maxInFlightBodyBytes else { return false }
            self.bodyBytesInFlight += bytes
            return true
        }
    }

    private func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        self.lock.withLock { self.bodyBytesInFlight -= bytes }
    }

    private func reject(_ error: HTTPWireError, on socket: TCPSocket) async {
        let response: HTTPServerResponse
        switch error {
        case .headerTooLarge: response = .text("request header too large\n", status: 431)
        case .bodyTooLarge: response = .text("request body too large\n", status: 413)
        case .malformedMessage(let why): response = .text("bad request: \(why)\n", status: 400)
        default: return
        }
        _ = await self.write(response, to: socket, method: "GET", close: true)
    }

    /// Returns false when the connection must end.
    private func write(_ response: HTTPServerResponse, to socket: TCPSocket, method: String, close: Bool) async -> Bool {
        if case .closeWithoutResponse = response.delivery { return false }
        var headers = response.headers
        let deadline = ContinuousClock.now + .seconds(30)
        switch response.delivery {
        case .chunked, .streamed:
            headers.set("Transfer-Encoding", "chunked")
        default:
            if response.status != 204 && response.status != 304 { headers.set("Content-Length", String(response.body.count)) }
        }
        if close || response.closeConnection { headers.set("Connection", "close") }
        let head = MessageWriter.responseHead(status: response.status, reason: HTTPReason.phrase(response.status), headers: headers)
        let sendBody = method != "HEAD"
        do {
            switch response.delivery {
            case .normal, .closeWithoutResponse:
                try await socket.write(sendBody ? head + response.body : head, deadline: deadline)
            case .dropAfterBodyBytes(let count):
                try await socket.write(head + response.body.prefix(count), deadline: deadline)
                return false
            case .chunked(let size):
                try await socket.write(head, deadline: deadline)
                guard sendBody else { return true }
                var offset = 0
                while offset < response.body.count {
                    let end = min(offset + max(1, size), response.body.count)
                    try await socket.write(MessageWriter.chunk(response.body[offset..<end]), deadline: deadline)
                    offset = end
                }
                try await socket.write(Array("0\r\n\r\n".utf8), deadline: deadline)
            case .streamed(let producer):
                try await socket.write(head, deadline: deadline)
                let writer = HTTPChunkWriter(socket: socket)
                // The producer writes as it goes and may wait between chunks: it gets a thread of its own.
                _ = try? await BlockingExecutor.shared.run { producer(writer) }
                guard writer.isOpen else { return false }
                try await socket.write(Array("0\r\n\r\n".utf8), deadline: .now + .seconds(30))
            }
            return true
        } catch {
            return false
        }
    }
}
