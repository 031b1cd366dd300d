import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

extension URLSessionTransport {
    /// Streams a response body through URLSession (Linux has no `bytes(for:)`; a data delegate delivers pieces).
    public func stream(_ request: HTTPClientRequest, idleTimeout: Duration) async throws -> HTTPStreamingResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        for field in request.headers { urlRequest.addValue(field.value, forHTTPHeaderField: field.name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        urlRequest.timeoutInterval = max(1, Double(idleTimeout.components.seconds))
        let (events, continuation) = AsyncThrowingStream<StreamEvent, any Error>.makeStream()
        let delegate = StreamingDelegate(continuation)
        let session = URLSession(configuration: .ephemeral, delegate: delegate, delegateQueue: nil)
        let task = session.dataTask(with: urlRequest)
        continuation.onTermination = { @Sendable _ in task.cancel() }
        task.resume()
        var iterator = events.makeAsyncIterator()
        guard case .response(let status, let headers)? = try await iterator.next() else {
            throw HTTPRequestFailure(error: .closedBeforeComplete(received: 0, reusedConnection: false))
        }
        let (body, bodyContinuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        let forward = Task {
            do {
                while let event = try await iterator.next() {
                    if case .data(let bytes) = event { bodyContinuation.yield(bytes) }
                }
                bodyContinuation.finish()
            } catch let error as URLError {
                bodyContinuation.finish(throwing: Self.map(error))
            } catch {
                bodyContinuation.finish(throwing: error)
            }
        }
        bodyContinuation.onTermination = { @Sendable _ in forward.cancel(); task.cancel() }
        return HTTPStreamingResponse(status: status, headers: headers, body: body)
    }
}

enum StreamEvent: Sendable {
    case response(Int, HTTPHeaders)
    case data([UInt8])
}

private final class StreamingDelegate: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    let continuation: AsyncThrowingStream<StreamEvent, any Error>.Continuation
    init(_ continuation: AsyncThrowingStream<StreamEvent, any Error>.Continuation) { self.continuation = continuation }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive response: URLResponse,
                    completionHandler: @escaping @Sendable (URLSession.ResponseDisposition) -> Void) {
        let http = response as? HTTPURLResponse
        var headers = HTTPHeaders()
        for (name, value) in http?.allHeaderFields ?? [:] { headers.add(String(describing: name), String(describing: value)) }
        self.continuation.yield(.response(http?.statusCode ?? 0, headers))
        completionHandler(.allow)
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        self.continuation.yield(.data([UInt8](data)))
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        if let error { self.continuation.finish(throwing: error) } else { self.continuation.finish() }
        session.finishTasksAndInvalidate()
    }
}
