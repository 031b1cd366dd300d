import Foundation

/// A request a client sends. Only the URL is required; the method defaults to GET.
public struct HTTPClientRequest: Sendable {
    public var method: String
    public var url: URL
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// `host:port` to connect to instead of the URL's (as curl's `--connect-to`): the Host header and the URL
    /// stay as they are, so a proxy routing by host, reached on a loopback port, sees what it would in production.
    public var connectTo: String?

    public init(method: String = "GET", url: URL, headers: HTTPHeaders = [:], body: [UInt8] = [], connectTo: String? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.connectTo = connectTo
    }
}

/// What the connection did for one request (only the socket transport can see this).
public struct ConnectionUse: Sendable, Equatable, Codable {
    /// Process-unique id of the TCP connection that carried the request.
    public var connectionID: Int
    /// True when the request went over a kept-alive connection opened earlier.
    public var reused: Bool
    public init(connectionID: Int, reused: Bool) {
        self.connectionID = connectionID
        self.reused = reused
    }
}

public struct HTTPClientResponse: Sendable {
    public var status: Int
    public var reason: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Nil when the transport cannot see connections (URLSession).
    public var connection: ConnectionUse?
    /// Connection events that happened while this request ran (opened, stale connections dropped, ...).
    public var connectionEvents: [ConnectionEvent]

    public init(status: Int, reason: String = "", headers: HTTPHeaders = [:], body: [UInt8] = [],
                connection: ConnectionUse? = nil, connectionEvents: [ConnectionEvent] = []) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
        self.connection = connection
        self.connectionEvents = connectionEvents
    }
}

/// A request as a server received it.
public struct HTTPServerRequest: Sendable {
    public var method: String
    /// The request target as sent: path and query.
    public var target: String
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Id of the server-side connection (counts from 1 per server), to tell keep-alive reuse apart.
    public var connectionID: Int

    public var path: String {
        guard let mark = self.target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return self.target }
        return String(self.target[..<mark])
    }

    /// The query's parameters, percent-decoded (a later repeat of a name wins).
    public var query: [String: String] {
        guard let mark = self.target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return [:] }
        var out: [String: String] = [:]
        for pair in self.target[self.target.index(after: mark)...].split(separator: "&") {
            let equals = pair.utf8.firstIndex(of: UInt8(ascii: "="))
            let key = equals.map { pair[..<$0] } ?? pair[...]
            let value = equals.map { pair[pair.index(after: $0)...] } ?? ""
            out[Self.percentDecoded(key)] = Self.percentDecoded(value)
        }
        return out
    }

    /// Foundation's decoding is costly on Linux and most parameters have nothing to decode (polls ask every second).
    private static func percentDecoded(_ text: Substring) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return String(text) }
        return text.removingPercentEncoding ?? String(text)
    }
}

/// What a server handler answers. `delivery` lets fakes misbehave on purpose.
public struct HTTPServerResponse: Sendable {
    public enum Delivery: Sendable {
        case normal
        /// Send the head and this many body bytes, then close the connection.
        case dropAfterBodyBytes(Int)
        /// Close the connection without answering.
        case closeWithoutResponse
        /// Send the body with chunked transfer encoding, in chunks of this size.
        case chunked(chunkSize: Int)
        /// Send the head, then whatever the producer writes as chunks until it returns (watch streams).
        case streamed(@Sendable (HTTPChunkWriter) -> Void)
    }

    public var status: Int
    public var headers: HTTPHeaders
    public var body: [UInt8]
    public var delivery: Delivery
    /// Close the connection after this response.
    public var closeConnection: Bool

    public init(status: Int = 200, headers: HTTPHeaders = [:], body: [UInt8] = [], delivery: Delivery = .normal, closeConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.delivery = delivery
        self.closeConnection = closeConnection
    }

    public static func json(_ body: [UInt8], status: Int = 200, headers: HTTPHeaders = [:]) -> HTTPServerResponse {
        var all = headers
        all.set("Content-Type", "application/json")
        return HTTPServerResponse(status: status, headers: all, body: body)
    }

    public static func text(_ text: String, status: Int, headers: HTTPHeaders = [:]) -> HTTPServerResponse {
        var all = headers
        all.set("Content-Type", "text/plain; charset=utf-8")
        return HTTPServerResponse(status: status, headers: all, body: Array(text.utf8))
    }
}

enum HTTPReason {
    static func phrase(_ status: Int) -> String {
        switch status {
        case 200: "OK"
        case 201: "Created"
        case 204: "No Content"
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 409: "Conflict"
        case 410: "Gone"
        case 413: "Content Too Large"
        case 415: "Unsupported Media Type"
        case 422: "Unprocessable Entity"
        case 429: "Too Many Requests"
        case 431: "Request Header Fields Too Large"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: "Status"
        }
    }
}

/// Writes chunks of a streamed response; `write` returns false once the client has gone.
public final class HTTPChunkWriter: @unchecked Sendable {
    private let socket: TCPSocket
    private let lock = NSLock()
    private var open = true

    init(socket: TCPSocket) { self.socket = socket }

    public var isOpen: Bool { self.lock.withLock { self.open } }

    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return self.isOpen }
        return self.lock.withLock {
            guard self.open else { return false }
            do {
                try self.socket.writeBlocking(MessageWriter.chunk(bytes[...]), deadline: .now + .seconds(30))
            } catch {
                self.open = false
            }
            return self.open
        }
    }

    /// True when the client closed its side (checked without blocking).
    public var clientHasGone: Bool {
        if !self.isOpen { return true }
        return self.socket.peerHasClosedOrSpoken()
    }
}
