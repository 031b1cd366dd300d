import Foundation

/// What went wrong on the wire. Every case says enough to act on; none carries secrets.
public enum HTTPWireError: Error, Sendable, Hashable, CustomStringConvertible {
    case invalidURL(String)
    case unsupportedScheme(String)
    case hostNotFound(String)
    case connectionRefused(host: String, port: Int)
    case connectTimedOut(host: String, port: Int)
    /// The deadline passed while waiting for (more of) the response.
    case readTimedOut(received: Int)
    case writeTimedOut
    case connectionReset(reusedConnection: Bool)
    /// The peer closed before a complete message arrived.
    case closedBeforeComplete(received: Int, reusedConnection: Bool)
    case malformedMessage(String)
    case headerTooLarge(limit: Int)
    case bodyTooLarge(limit: Int)
    case socketError(operation: String, errno: Int32)
    case serverStopped

    public var description: String {
        switch self {
        case .invalidURL(let url): "invalid URL: \(url)"
        case .unsupportedScheme(let scheme): "the socket transport speaks plain http only, not \(scheme)"
        case .hostNotFound(let host): "cannot resolve host \(host)"
        case .connectionRefused(let host, let port): "connection refused by \(host):\(port)"
        case .connectTimedOut(let host, let port): "connecting to \(host):\(port) timed out"
        case .readTimedOut(let received): "timed out waiting for the response (\(received) bytes received)"
        case .writeTimedOut: "timed out sending the request"
        case .connectionReset(let reused): "connection reset by peer\(reused ? " (on a reused keep-alive connection)" : "")"
        case .closedBeforeComplete(let received, let reused):
            "connection closed by peer after \(received) bytes, before the response was complete\(reused ? " (on a reused keep-alive connection)" : "")"
        case .malformedMessage(let why): "malformed HTTP message: \(why)"
        case .headerTooLarge(let limit): "HTTP header section exceeds \(limit) bytes"
        case .bodyTooLarge(let limit): "HTTP body exceeds \(limit) bytes"
        case .socketError(let op, let code): "\(op) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .serverStopped: "server stopped"
        }
    }
}

/// Size limits applied when reading a message.
public struct HTTPLimits: Sendable, Equatable {
    public var maxHeaderBytes: Int
    public var maxBodyBytes: Int
    public init(maxHeaderBytes: Int = 64 * 1024, maxBodyBytes: Int = 256 * 1024 * 1024) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
    }
}
