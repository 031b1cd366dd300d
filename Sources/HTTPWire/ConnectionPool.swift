import FlapSystem
import Foundation

/// A TCP connection the pool hands out; used by one request at a time.
final class PooledConnection: @unchecked Sendable {
    let id: Int
    let socket: TCPSocket
    var reader: MessageReader
    var idleSince: ContinuousClock.Instant = .now
    var requestsServed = 0

    init(id: Int, socket: TCPSocket, limits: HTTPLimits) {
        self.id = id
        self.socket = socket
        self.reader = MessageReader(socket: socket, limits: limits)
    }
}

/// Keep-alive connections per host and port, reporting every connection event.
final class ConnectionPool: @unchecked Sendable {
    struct Key: Hashable { let host: String; let port: Int }

    private let lock = NSLock()
    private var idle: [Key: [PooledConnection]] = [:]
    private var isShutDown = false
    private let maxIdlePerHost: Int
    private let idleTimeout: Duration
    private let limits: HTTPLimits
    private let observer: (@Sendable (ConnectionEvent) -> Void)?

    private static let ids = Locked(1)

    init(maxIdlePerHost: Int, idleTimeout: Duration, limits: HTTPLimits, observer: (@Sendable (ConnectionEvent) -> Void)?) {
        self.maxIdlePerHost = maxIdlePerHost
        self.idleTimeout = idleTimeout
        self.limits = limits
        self.observer = observer
    }

    /// An idle connection that is still good, or a new one.
    func checkout(_ key: Key, deadline: ContinuousClock.Instant, connectDeadline: ContinuousClock.Instant,
                  events: inout [ConnectionEvent]) async throws(HTTPWireError) -> (PooledConnection, reused: Bool) {
        while let candidate = self.popIdle(key) {
            let tooOld = ContinuousClock.now - candidate.idleSince > self.idleTimeout
            if tooOld || candidate.socket.peerHasClosedOrSpoken() {
                self.emit(tooOld ? .closed : .closedByPeerWhileIdle, candidate, into: &events)
                candidate.socket.close()
                continue
            }
            self.emit(.reused, candidate, into: &events)
            return (candidate, true)
        }
        do {
            let socket = try await TCPSocket.connect(host: key.host, port: key.port, deadline: min(deadline, connectDeadline))
            let connection = PooledConnection(id: Self.ids.next(), socket: socket, limits: self.limits)
            self.emit(.opened, connection, into: &events)
            return (connection, false)
        } catch {
            let kind: ConnectionEvent.Kind
            switch error {
            case .connectionRefused: kind = .refused
            case .connectTimedOut: kind = .timedOut
            default: kind = .closed
            }
            self.record(ConnectionEvent(kind: kind, connectionID: 0, host: key.host, port: key.port), into: &events)
            throw error
        }
    }

    func checkin(_ connection: PooledConnection, key: Key) {
        connection.idleSince = .now
        connection.requestsServed += 1
        self.lock.lock()
        var list = self.idle[key, default: []]
        if self.isShutDown || list.count >= self.maxIdlePerHost {
            self.lock.unlock()
            var ignored: [ConnectionEvent] = []
            self.discard(connection, as: .closed, events: &ignored)
            return
        }
        list.append(connection)
        self.idle[key] = list
        self.lock.unlock()
    }

    func discard(_ connection: PooledConnection, as kind: ConnectionEvent.Kind, events: inout [ConnectionEvent]) {
        connection.socket.close()
        self.emit(kind, connection, into: &events)
    }

    func shutdown() {
        self.lock.lock()
        self.isShutDown = true
        let all = self.idle.values.flatMap { $0 }
        self.idle = [:]
        self.lock.unlock()
        var ignored: [ConnectionEvent] = []
        for connection in all { self.discard(connection, as: .closed, events: &ignored) }
    }

    var idleCount: Int { self.lock.withLock { self.idle.values.reduce(0) { $0 + $1.count } } }

    private func popIdle(_ key: Key) -> PooledConnection? {
        self.lock.withLock { self.idle[key]?.popLast() }
    }

    private func emit(_ kind: ConnectionEvent.Kind, _ connection: PooledConnection, into events: inout [ConnectionEvent]) {
        self.record(ConnectionEvent(kind: kind, connectionID: connection.id, host: connection.socket.host, port: connection.socket.port), into: &events)
    }

    private func record(_ event: ConnectionEvent, into events: inout [ConnectionEvent]) {
        events.append(event)
        self.observer?(event)
    }
}
