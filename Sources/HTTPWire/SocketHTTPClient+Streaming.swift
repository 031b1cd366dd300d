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
        let socket: TCPSocket
        var reader: MessageReader
        let head: HTTPHeadParser.ResponseHead
        let framing: BodyFraming
        do {
            socket = try await TCPSocket.connect(host: target.host, port: target.port, deadline: headDeadline)
            var headers = request.headers
            if !headers.contains("Host") { headers.set("Host", target.hostHeader) }
            if !request.body.isEmpty { headers.set("Content-Length", String(request.body.count)) }
            try await socket.write(MessageWriter.requestHead(method: request.method, target: target.pathAndQuery, headers: headers) + request.body,
                                   deadline: headDeadline)
            reader = MessageReader(socket: socket, limits: limits)
            guard let headBytes = try await reader.readHead(deadline: headDeadline) else {
                throw HTTPWireError.closedBeforeComplete(received: 0, reusedConnection: false)
            }
            head = try HTTPHeadParser.parseResponseHead(headBytes)
            framing = try BodyFraming.forResponse(head.headers, status: head.status, requestMethod: request.method)
        } catch let error as HTTPWireError {
            throw HTTPRequestFailure(error: error)
        }
        let (body, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.onTermination = { @Sendable _ in socket.shutdown() }
        // The pump is a task of its own: the caller iterates `body` at its pace, and ending the iteration shuts the
        // socket down, which wakes the pump's wait.
        Task { [reader] in
            var reader = reader
            var remaining = { if case .contentLength(let n) = framing { return n } else { return 0 } }()
            do throws(HTTPWireError) {
                while let piece = try await reader.readNextPiece(framing, remaining: &remaining, deadline: bodyDeadline) {
                    if case .terminated = continuation.yield(piece) { break }
                }
                continuation.finish()
            } catch {
                continuation.finish(throwing: HTTPRequestFailure(error: error))
            }
            socket.close()
        }
        return HTTPStreamingResponse(status: head.status, headers: head.headers, body: body)
    }
}
