/// Something that happened to a client TCP connection, stamped on the continuous clock.
public struct ConnectionEvent: Sendable, Equatable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        case opened
        case reused
        /// The peer closed (or reset) a kept-alive connection while it sat idle in the pool.
        case closedByPeerWhileIdle
        case reset
        case refused
        case timedOut
        /// The peer closed the connection while a request was on it, or said in its response that it would
        /// (`Connection: close`, as a shutting-down nginx worker answers).
        case closedByPeer
        /// We closed it (Connection: close, an error, or the pool shut down).
        case closed
    }

    public var kind: Kind
    public var connectionID: Int
    public var host: String
    public var port: Int
    public var at: ContinuousClock.Instant

    public init(kind: Kind, connectionID: Int, host: String, port: Int, at: ContinuousClock.Instant = .now) {
        self.kind = kind
        self.connectionID = connectionID
        self.host = host
        self.port = port
        self.at = at
    }
}
