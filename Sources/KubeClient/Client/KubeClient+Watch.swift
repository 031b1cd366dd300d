import FlapJSON
import Foundation
import HTTPWire

/// One watch event.
public struct WatchEvent: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case added = "ADDED", modified = "MODIFIED", deleted = "DELETED", bookmark = "BOOKMARK", error = "ERROR"
    }
    public var kind: Kind
    public var object: KubeObject

    public init(kind: Kind, object: KubeObject) {
        self.kind = kind
        self.object = object
    }
}

public struct WatchOptions: Sendable, Equatable {
    public var resourceVersion: String?
    public var labelSelector: String?
    public var fieldSelector: String?
    public var timeoutSeconds: Int?
    public var allowBookmarks = true

    public init(resourceVersion: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil, timeoutSeconds: Int? = nil) {
        self.resourceVersion = resourceVersion
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.timeoutSeconds = timeoutSeconds
    }

    var query: [(String, String)] {
        var q: [(String, String)] = [("watch", "true")]
        if self.allowBookmarks { q.append(("allowWatchBookmarks", "true")) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        if let labelSelector { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector { q.append(("fieldSelector", fieldSelector)) }
        if let timeoutSeconds { q.append(("timeoutSeconds", String(timeoutSeconds))) }
        return q
    }
}

extension KubeClient {
    /// One watch request: the events of one stream, as the server sends them (ERROR events included).
    public func watch(_ resource: ResourceType, namespace: String? = nil, options: WatchOptions = WatchOptions()) async throws -> AsyncThrowingStream<WatchEvent, any Error> {
        let path = resource.collectionPath(namespace: resource.namespaced ? namespace ?? self.defaultNamespace : nil)
        let url = try self.url(path: path, query: options.query)
        var request = HTTPClientRequest(url: url)
        request.headers.set("Accept", "application/json")
        request.headers.set("User-Agent", self.configuration.userAgent)
        if let authorization = try await self.authorization(for: url) { request.headers.set("Authorization", authorization) }
        let operation = "WATCH \(resource)"
        let idle = Duration.seconds((options.timeoutSeconds ?? 3600) + 60)
        let response: HTTPStreamingResponse
        do {
            if url.scheme == "https" {
                response = try await URLSessionTransport().stream(request, idleTimeout: idle)
            } else {
                response = try await self.streamer.stream(request, headDeadline: .now + self.configuration.requestTimeout, bodyDeadline: .now + idle)
            }
        } catch let failure as HTTPRequestFailure {
            throw KubeTransportError(operation: operation, underlying: failure.error)
        }
        guard response.status == 200 else {
            var body: [UInt8] = []
            for try await piece in response.body { body += piece; if body.count > 65536 { break } }
            throw KubeStatusError(status: response.status, body: body, headers: response.headers, operation: operation)
        }
        return WatchDecoder.events(from: response.body, operation: operation)
    }

    /// List, then watch from the list's resourceVersion, forever: resumes after a dropped stream from the last
    /// version seen, and re-lists after 410 Expired (emitting what changed meanwhile). Starts with ADDED for
    /// every existing object. Bookmarks only advance the version and are not emitted.
    public func watchChanges(_ resource: ResourceType, namespace: String? = nil, labelSelector: String? = nil, fieldSelector: String? = nil,
                             retryDelay: Duration = .milliseconds(200)) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let task = Task {
            var known: [String: KubeObject] = [:]
            var resourceVersion: String?
            var needsList = true
            while !Task.isCancelled {
                do {
                    if needsList {
                        let list = try await self.listAll(resource, namespace: namespace,
                                                          options: ListOptions(labelSelector: labelSelector, fieldSelector: fieldSelector))
                        var fresh: [String: KubeObject] = [:]
                        for item in list.items { fresh[Self.key(item)] = item }
                        for (key, item) in fresh where known[key]?.metadata.resourceVersion != item.metadata.resourceVersion {
                            continuation.yield(WatchEvent(kind: known[key] == nil ? .added : .modified, object: item))
                        }
                        for (key, item) in known where fresh[key] == nil { continuation.yield(WatchEvent(kind: .deleted, object: item)) }
                        known = fresh
                        resourceVersion = list.resourceVersion
                        needsList = false
                    }
                    var options = WatchOptions(resourceVersion: resourceVersion, labelSelector: labelSelector, fieldSelector: fieldSelector)
                    options.timeoutSeconds = 300
                    for try await event in try await self.watch(resource, namespace: namespace, options: options) {
                        if event.kind == .error {
                            let code = event.object.json["code"]?.int64Value
                            if code == 410 { needsList = true; break }
                            throw KubeStatusError(status: Int(code ?? 500), body: event.object.json.serializedBytes, headers: [:], operation: "WATCH \(resource)")
                        }
                        resourceVersion = event.object.metadata.resourceVersion ?? resourceVersion
                        switch event.kind {
                        case .bookmark: continue
                        case .deleted: known[Self.key(event.object)] = nil
                        default: known[Self.key(event.object)] = event.object
                        }
                        continuation.yield(event)
                    }
                } catch let error as KubeStatusError where error.isExpired {
                    needsList = true
                } catch is CancellationError {
                    break
                } catch let error as KubeStatusError where [401, 403, 404].contains(error.code) {
                    continuation.finish(throwing: error)
                    return
                } catch {
                    // A dropped stream or a transport error: resume from the last version seen.
                }
                if Task.isCancelled { break }
                try? await Task.sleep(for: retryDelay)
            }
            continuation.finish()
        }
        continuation.onTermination = { @Sendable _ in task.cancel() }
        return stream
    }

    static func key(_ object: KubeObject) -> String { "\(object.namespace ?? "")/\(object.name)" }
}

/// Splits a watch body into events: newline-separated JSON objects, tolerant of pieces that end mid-object.
enum WatchDecoder {
    static func events(from body: AsyncThrowingStream<[UInt8], any Error>, operation: String) -> AsyncThrowingStream<WatchEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<WatchEvent, any Error>.makeStream()
        let task = Task {
            var pending: [UInt8] = []
            do {
                for try await piece in body {
                    pending += piece
                    while let newline = pending.firstIndex(of: 10) {
                        let line = Array(pending[..<newline])
                        pending.removeSubrange(...newline)
                        if let event = try self.decode(line, operation: operation) { continuation.yield(event) }
                    }
                }
                if let event = try self.decode(pending, operation: operation) { continuation.yield(event) }
                continuation.finish()
            } catch let failure as HTTPRequestFailure {
                continuation.finish(throwing: KubeTransportError(operation: operation, underlying: failure.error))
            } catch {
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { @Sendable _ in task.cancel() }
        return stream
    }

    static func decode(_ line: [UInt8], operation: String) throws -> WatchEvent? {
        guard line.contains(where: { $0 != 32 && $0 != 13 && $0 != 9 }) else { return nil }
        guard let json = try? JSONValue.parse(line), let type = json["type"]?.stringValue, let object = json["object"] else {
            throw KubeDecodingError(operation: operation, message: "watch event is not {type, object}: \(String(decoding: line.prefix(200), as: UTF8.self))")
        }
        guard let kind = WatchEvent.Kind(rawValue: type) else {
            throw KubeDecodingError(operation: operation, message: "unknown watch event type \(type)")
        }
        return WatchEvent(kind: kind, object: KubeObject(json: object))
    }
}
