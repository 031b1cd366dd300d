// The HTTP/1.1 request and response readers, fed through a socket pair as the server and client read them:
// head parsing, framing (Content-Length, chunked) and limits. The first byte picks request or response.
import Foundation
@testable import HTTPWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0, count <= 60_000 else { return 0 }
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { return 0 }
    let payload = UnsafeBufferPointer(start: data + 1, count: count - 1)
    if let base = payload.baseAddress, !payload.isEmpty { _ = write(fds[0], base, payload.count) }
    close(fds[0])
    // The socket owns fds[1] and closes it when released (closing it here too closed whatever descriptor had
    // reused the number by then, such as the event loop's).
    let socket = TCPSocket(fd: fds[1], host: "fuzz", port: 0)
    let isRequest = data[0] & 1 == 0
    // The reader is async (it waits on the event loop); the whole input is already in the socket, so it never has
    // to, and this thread (not one of the pool's) may block until it is done.
    let done = DispatchSemaphore(value: 0)
    Task {
        await read(socket, isRequest: isRequest)
        done.signal()
    }
    done.wait()
    return 0
}

private func read(_ socket: TCPSocket, isRequest: Bool) async {
    var limits = HTTPLimits()
    limits.maxBodyBytes = 1 << 20
    var reader = MessageReader(socket: socket, limits: limits)
    let deadline = ContinuousClock.now + .seconds(1)
    do {
        guard let head = try await reader.readHead(deadline: deadline) else { return }
        if isRequest {
            let request = try HTTPHeadParser.parseRequestHead(head)
            _ = try await reader.readBody(try BodyFraming.forRequest(request.headers), deadline: deadline)
        } else {
            let response = try HTTPHeadParser.parseResponseHead(head)
            _ = try await reader.readBody(try BodyFraming.forResponse(response.headers, status: response.status, requestMethod: "GET"), deadline: deadline)
        }
    } catch {}
}
