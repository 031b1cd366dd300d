import Foundation

/// A response whose body arrives piece by piece (Kubernetes watches, chunked streams).
public struct HTTPStreamingResponse: Sendable {
    public var status: Int
    public var headers: HTTPHeaders
    /// Pieces of the body as they arrive; ends when the body ends, throws if the connection breaks.
    public var body: AsyncThrowingStream<[UInt8], any Error>
}

extension SocketHTTPClient {
    /// Sends `request` on a connection of its own and streams the response body. The head must arrive before
    /// `headDeadline`; the body may take until `bodyDeadline`. Ending the stream's iteration closes the connection.
    public func stream(_ request: HTTPClientRequest, headDeadline: ContinuousClock.Instant,
                       bodyDeadline: ContinuousClock.Instant) async throws -> HTTPStreamingResponse {
        let target = try RequestTarget(request.url, connectTo: request.connectTo)
        let limits = self.limits
        let opened = try await BlockingExecutor.shared.run { () throws -> (TCPSocket, MessageReader, HTTPHeadParser.ResponseHead, BodyFraming) in
            do {
                let socket = try TCPSocket.connect(host: target.host, port: target.port, deadline: headDeadline)
                var headers = request.headers
                if !headers.contains("Host") { headers.set("Host", target.hostHeader) }
                if !request.body.isEmpty { headers.set("Content-Length", String(request.body.count)) }
                try socket.write(MessageWriter.requestHead(method: request.method, target: target.pathAndQuery, headers: headers) + request.body,
                                 deadline: headDeadline)
                var reader = MessageReader(socket: socket, limits: limits)
                guard let headBytes = try reader.readHead(deadline: headDeadline) else {
                    throw HTTPWireError.closedBeforeComplete(received: 0, reusedConnection: false)
                }
                let head = try HTTPHeadParser.parseResponseHead(headBytes)
                let framing = try BodyFraming.forResponse(head.headers, status: head.status, requestMethod: request.method)
                return (socket, reader, head, framing)
            } catch let error as HTTPWireError {
                throw HTTPRequestFailure(error: error)
            }
        }
        let (socket, initialReader, head, framing) = opened
        let (body, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let pump = StreamPump(reader: initialReader)
        continuation.onTermination = { @Sendable _ in socket.shutdown() }
        BlockingExecutor.shared.submit {
            var remaining = { if case .contentLength(let n) = framing { return n } else { return 0 } }()
            do {
                while let piece = try pump.next(framing, remaining: &remaining, deadline: bodyDeadline) {
                    if case .terminated = continuation.yield(piece) { break }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: HTTPRequestFailure(error: error as? HTTPWireError ?? .closedBeforeComplete(received: 0, reusedConnection: false)))
            }
            socket.close()
        }
        return HTTPStreamingResponse(status: head.status, headers: head.headers, body: body)
    }
}

/// Owns the reader on the pumping thread.
private final class StreamPump: @unchecked Sendable {
    var reader: MessageReader
    init(reader: MessageReader) { self.reader = reader }
    func next(_ framing: BodyFraming, remaining: inout Int, deadline: ContinuousClock.Instant) throws(HTTPWireError) -> [UInt8]? {
        try self.reader.readNextPiece(framing, remaining: &remaining, deadline: deadline)
    }
}
