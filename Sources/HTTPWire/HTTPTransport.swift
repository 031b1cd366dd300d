import Foundation

/// Sends one HTTP request and returns the whole response. The seam between protocol clients and the network.
///
/// Implementation requirements:
/// - Honour `deadline` for the whole exchange (connect, send, receive) and throw when it passes.
/// - Throw `CancellationError` when the calling task is cancelled, and abort the request on the wire.
/// - Throw `HTTPRequestFailure` for wire failures, so callers can classify them.
/// - Never follow redirects on behalf of the caller unless `followsRedirects` says so.
public protocol HTTPTransport: Sendable {
    /// Recorded in every trace: which transport carried the request.
    var name: String { get }
    func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> HTTPClientResponse
}

extension HTTPTransport {
    public func send(_ request: HTTPClientRequest, timeout: Duration) async throws -> HTTPClientResponse {
        try await self.send(request, deadline: .now + timeout)
    }
}

/// Plain `http://` over our own sockets: the transport that can see connections open, get reused and break.
public struct SocketTransport: HTTPTransport {
    public let client: SocketHTTPClient
    public var name: String { "socket" }

    public init(client: SocketHTTPClient = SocketHTTPClient()) {
        self.client = client
    }

    public func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> HTTPClientResponse {
        try await self.client.execute(request, deadline: deadline)
    }
}

/// Chooses the socket transport for `http://` and URLSession for everything else.
public struct AutomaticTransport: HTTPTransport {
    public let socket: SocketTransport
    public let urlSession: URLSessionTransport
    public var name: String { "auto" }

    public init(socket: SocketTransport = SocketTransport(), urlSession: URLSessionTransport = URLSessionTransport()) {
        self.socket = socket
        self.urlSession = urlSession
    }

    public func transport(for url: URL) -> any HTTPTransport {
        url.scheme?.lowercased() == "http" ? self.socket : self.urlSession
    }

    public func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> HTTPClientResponse {
        try await self.transport(for: request.url).send(request, deadline: deadline)
    }
}
