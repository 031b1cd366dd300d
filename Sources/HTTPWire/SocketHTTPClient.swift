import Foundation

/// A request failed on the wire. Carries what the connection did, so a trace can show it.
public struct HTTPRequestFailure: Error, Sendable, CustomStringConvertible {
    public var error: HTTPWireError
    public var connection: ConnectionUse?
    public var connectionEvents: [ConnectionEvent]

    public init(error: HTTPWireError, connection: ConnectionUse? = nil, connectionEvents: [ConnectionEvent] = []) {
        self.error = error
        self.connection = connection
        self.connectionEvents = connectionEvents
    }

    public var description: String { self.error.description }
}

/// HTTP/1.1 client over POSIX sockets with a keep-alive pool whose connection events are visible.
///
/// Requests run on the calling task; a socket that would block suspends it on the event loop (`EventLoopGroup`), so
/// in-flight requests hold no thread. Cancelling the calling task shuts the socket down.
public final class SocketHTTPClient: Sendable {
    public struct Configuration: Sendable {
        public var connectTimeout: Duration = .seconds(5)
        public var maxIdleConnectionsPerHost = 64
        /// Idle connections older than this are closed rather than reused.
        public var idleTimeout: Duration = .seconds(60)
        public var limits = HTTPLimits()
        public init() {}
    }

    private let configuration: Configuration
    private let pool: ConnectionPool
    var limits: HTTPLimits { self.configuration.limits }

    /// - Parameter observer: called on the I/O thread for every connection event (keep it cheap).
    public init(configuration: Configuration = Configuration(), observer: (@Sendable (ConnectionEvent) -> Void)? = nil) {
        self.configuration = configuration
        self.pool = ConnectionPool(maxIdlePerHost: configuration.maxIdleConnectionsPerHost,
                                   idleTimeout: configuration.idleTimeout, limits: configuration.limits, observer: observer)
    }

    deinit { self.pool.shutdown() }

    /// Closes every idle connection.
    public func shutdown() { self.pool.shutdown() }

    var idleConnectionCount: Int { self.pool.idleCount }

    /// Sends `request` and reads the whole response before `deadline`.
    /// - Throws: `HTTPRequestFailure` for wire errors, `CancellationError` when the task is cancelled.
    public func execute(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> HTTPClientResponse {
        let target = try RequestTarget(request.url, connectTo: request.connectTo)
        let cancellation = CancellationSwitch()
        return try await withTaskCancellationHandler {
            try await self.perform(request, target: target, deadline: deadline, cancellation: cancellation)
        } onCancel: {
            cancellation.cancel()
        }
    }

    private func perform(_ request: HTTPClientRequest, target: RequestTarget, deadline: ContinuousClock.Instant,
                         cancellation: CancellationSwitch) async throws -> HTTPClientResponse {
        var events: [ConnectionEvent] = []
        let key = ConnectionPool.Key(host: target.host, port: target.port)
        let connection: PooledConnection
        let reused: Bool
        do {
            try cancellation.check()
            (connection, reused) = try await self.pool.checkout(key, deadline: deadline,
                                                          connectDeadline: .now + self.configuration.connectTimeout, events: &events)
        } catch let error as HTTPWireError {
            throw HTTPRequestFailure(error: error, connectionEvents: events)
        }
        let use = ConnectionUse(connectionID: connection.id, reused: reused)
        guard cancellation.attach(connection.socket) else {
            self.pool.discard(connection, as: .closed, events: &events)
            throw CancellationError()
        }
        defer { cancellation.detach() }
        do {
            var response = try await self.exchange(request, target: target, on: connection, deadline: deadline)
            let keepAlive = response.keepAlive
            response.value.connection = use
            if keepAlive {
                self.pool.checkin(connection, key: key)
            } else {
                self.pool.discard(connection, as: .closedByPeer, events: &events)
            }
            response.value.connectionEvents = events
            return response.value
        } catch {
            if cancellation.isCancelled {
                self.pool.discard(connection, as: .closed, events: &events)
                throw CancellationError()
            }
            let marked = error.markingReuse(reused)
            self.pool.discard(connection, as: marked.connectionEventKind, events: &events)
            throw HTTPRequestFailure(error: marked, connection: use, connectionEvents: events)
        }
    }

    private func exchange(_ request: HTTPClientRequest, target: RequestTarget, on connection: PooledConnection,
                          deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> (value: HTTPClientResponse, keepAlive: Bool) {
        var headers = request.headers
        if !headers.contains("Host") { headers.set("Host", target.hostHeader) }
        if !request.body.isEmpty || ["POST", "PUT", "PATCH"].contains(request.method) {
            headers.set("Content-Length", String(request.body.count))
        }
        let head = MessageWriter.requestHead(method: request.method, target: target.pathAndQuery, headers: headers)
        try await connection.socket.write(head + request.body, deadline: deadline)
        while true {
            guard let headBytes = try await connection.reader.readHead(deadline: deadline) else {
                throw .closedBeforeComplete(received: 0, reusedConnection: false)
            }
            let parsed = try HTTPHeadParser.parseResponseHead(headBytes)
            if parsed.status == 100 { continue }
            let framing = try BodyFraming.forResponse(parsed.headers, status: parsed.status, requestMethod: request.method)
            let body = try await connection.reader.readBody(framing, deadline: deadline)
            let keepAlive = framing != .untilClose && !parsed.headers.connectionOption("close")
                && !(parsed.version == "HTTP/1.0" && !parsed.headers.connectionOption("keep-alive"))
            let response = HTTPClientResponse(status: parsed.status, reason: parsed.reason, headers: parsed.headers, body: body)
            return (response, keepAlive)
        }
    }
}

/// Host, port and target of a plain-http URL.
struct RequestTarget: Equatable {
    let host: String
    let port: Int
    let pathAndQuery: String
    let hostHeader: String

    init(_ url: URL, connectTo: String? = nil) throws(HTTPRequestFailure) {
        if connectTo == nil, let plain = Self.plain(url.absoluteString) {
            self.init(host: plain.host, port: plain.port, pathAndQuery: plain.pathAndQuery, hostHeader: plain.hostHeader)
        } else {
            try self.init(parsingWithFoundation: url, connectTo: connectTo)
        }
    }

    private init(host: String, port: Int, pathAndQuery: String, hostHeader: String) {
        (self.host, self.port, self.pathAndQuery, self.hostHeader) = (host, port, pathAndQuery, hostHeader)
    }

    init(parsingWithFoundation url: URL, connectTo: String?) throws(HTTPRequestFailure) {
        guard let scheme = url.scheme?.lowercased() else { throw HTTPRequestFailure(error: .invalidURL(url.absoluteString)) }
        guard scheme == "http" else { throw HTTPRequestFailure(error: .unsupportedScheme(scheme)) }
        guard let host = url.host, !host.isEmpty else { throw HTTPRequestFailure(error: .invalidURL(url.absoluteString)) }
        if let connectTo {
            guard let colon = connectTo.lastIndex(of: ":"), let port = Int(connectTo[connectTo.index(after: colon)...]) else {
                throw HTTPRequestFailure(error: .invalidURL("connect-to \(connectTo) is not host:port"))
            }
            self.host = String(connectTo[..<colon]).trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            self.port = port
        } else {
            self.host = host
            self.port = url.port ?? 80
        }
        let path = url.path(percentEncoded: true)
        let query = url.query(percentEncoded: true).map { "?\($0)" } ?? ""
        self.pathAndQuery = (path.isEmpty ? "/" : path) + query
        let bracketed = host.contains(":") ? "[\(host)]" : host
        self.hostHeader = url.port.map { "\(bracketed):\($0)" } ?? bracketed
    }

    /// `http://host[:port]/path?query` read from the URL's text: Foundation's accessors cost a polling engine a
    /// twentieth of its CPU. Anything less plain (user info, IPv6 literals, escapes in the host, fragments, another
    /// scheme) is left to Foundation.
    private static func plain(_ text: String) -> (host: String, port: Int, pathAndQuery: String, hostHeader: String)? {
        let utf8 = text.utf8
        guard utf8.starts(with: "http://".utf8), !utf8.contains(UInt8(ascii: "#")) else { return nil }
        let authorityStart = utf8.index(utf8.startIndex, offsetBy: 7)
        let authorityEnd = utf8[authorityStart...].firstIndex { $0 == UInt8(ascii: "/") || $0 == UInt8(ascii: "?") } ?? utf8.endIndex
        let authority = text[authorityStart..<authorityEnd]
        guard !authority.isEmpty, !authority.utf8.contains(where: { $0 == UInt8(ascii: "@") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "%") || $0 >= 0x80 }) else {
            return nil
        }
        let host: Substring
        var port: Int?
        if let colon = authority.utf8.firstIndex(of: UInt8(ascii: ":")) {
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.utf8.count <= 5, digits.utf8.allSatisfy({ (48...57).contains($0) }), let number = Int(digits),
                  number <= 65535 else { return nil }
            host = authority[..<colon]
            port = number
        } else {
            host = authority
        }
        guard !host.isEmpty else { return nil }
        let rest = text[authorityEnd...]
        let pathAndQuery = rest.isEmpty || rest.utf8.first == UInt8(ascii: "?") ? "/" + rest : String(rest)
        return (String(host), port ?? 80, pathAndQuery, port.map { "\(host):\($0)" } ?? String(host))
    }
}

/// Lets a cancelled task wake its own request, suspended on the socket (shutting it down makes it readable).
final class CancellationSwitch: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var socket: TCPSocket?

    var isCancelled: Bool { self.lock.withLock { self.cancelled } }

    func cancel() {
        let socket = self.lock.withLock { self.cancelled = true; return self.socket }
        socket?.shutdown()
    }

    func check() throws(CancellationError) {
        if self.isCancelled { throw CancellationError() }
    }

    /// Returns false if already cancelled.
    func attach(_ socket: TCPSocket) -> Bool {
        self.lock.withLock {
            self.socket = socket
            return !self.cancelled
        }
    }

    func detach() { self.lock.withLock { self.socket = nil } }
}

extension HTTPWireError {
    func markingReuse(_ reused: Bool) -> HTTPWireError {
        switch self {
        case .connectionReset: .connectionReset(reusedConnection: reused)
        case .closedBeforeComplete(let received, _): .closedBeforeComplete(received: received, reusedConnection: reused)
        default: self
        }
    }

    var connectionEventKind: ConnectionEvent.Kind {
        switch self {
        case .connectionReset: .reset
        case .closedBeforeComplete: .closedByPeer
        case .readTimedOut, .writeTimedOut, .connectTimedOut: .timedOut
        default: .closed
        }
    }
}
