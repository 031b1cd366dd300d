import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `https://` (and anything the socket transport cannot do) through URLSession.
///
/// URLSession hides connections, so responses carry no `ConnectionUse`. On Linux its timeout has whole-second
/// granularity; sub-second deadlines are enforced here by racing the request against a timer.
public final class URLSessionTransport: HTTPTransport, @unchecked Sendable {
    // URLSession is thread-safe; the class is immutable after init.
    private let session: URLSession
    public var name: String { "urlsession" }

    public init(configuration: URLSessionConfiguration = .ephemeral) {
        configuration.httpShouldSetCookies = false
        configuration.urlCache = nil
        self.session = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)
    }

    deinit { self.session.finishTasksAndInvalidate() }

    public func send(_ request: HTTPClientRequest, deadline: ContinuousClock.Instant) async throws -> HTTPClientResponse {
        var urlRequest = URLRequest(url: request.url)
        urlRequest.httpMethod = request.method
        for field in request.headers { urlRequest.addValue(field.value, forHTTPHeaderField: field.name) }
        if !request.body.isEmpty { urlRequest.httpBody = Data(request.body) }
        let remaining = deadline - .now
        guard remaining > .zero else { throw HTTPRequestFailure(error: .readTimedOut(received: 0)) }
        urlRequest.timeoutInterval = max(1, (Double(remaining.components.seconds) + 1).rounded(.down))
        let session = self.session
        let prepared = urlRequest
        return try await withThrowingTaskGroup(of: HTTPClientResponse?.self) { group in
            // On the global executor, not the caller's: URLSession hands the request to libdispatch, which may start a
            // worker on the calling thread, and a worker started by a lowered query thread would stay lowered.
            group.addTask(executorPreference: globalConcurrentExecutor) {
                do {
                    let (data, response) = try await session.data(for: prepared)
                    guard let http = response as? HTTPURLResponse else {
                        throw HTTPRequestFailure(error: .malformedMessage("not an HTTP response"))
                    }
                    var headers = HTTPHeaders()
                    for (name, value) in http.allHeaderFields {
                        headers.add(String(describing: name), String(describing: value))
                    }
                    return HTTPClientResponse(status: http.statusCode, headers: headers, body: [UInt8](data))
                } catch let error as URLError {
                    throw Self.map(error)
                }
            }
            group.addTask {
                try await Task.sleep(until: deadline, clock: .continuous)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let response = first else {
                throw HTTPRequestFailure(error: .readTimedOut(received: 0))
            }
            return response
        }
    }

    static func map(_ error: URLError) -> any Error {
        switch error.code {
        case .cancelled: return CancellationError()
        case .timedOut: return HTTPRequestFailure(error: .readTimedOut(received: 0))
        case .cannotConnectToHost: return HTTPRequestFailure(error: .connectionRefused(host: error.failingURL?.host ?? "?", port: error.failingURL?.port ?? 0))
        case .cannotFindHost, .dnsLookupFailed: return HTTPRequestFailure(error: .hostNotFound(error.failingURL?.host ?? "?"))
        case .networkConnectionLost: return HTTPRequestFailure(error: .closedBeforeComplete(received: 0, reusedConnection: false))
        case .badServerResponse: return HTTPRequestFailure(error: .malformedMessage("bad server response"))
        default: return HTTPRequestFailure(error: .socketError(operation: "URLSession (\(error.code.rawValue))", errno: 0))
        }
    }
}

/// Protocol clients follow redirects themselves, if at all.
private final class NoRedirects: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
        completionHandler(nil)
    }
}
