import FlapJSON
import Foundation
import HTTPWire

/// List query options.
public struct ListOptions: Sendable, Equatable {
    public var labelSelector: String?
    public var fieldSelector: String?
    public var limit: Int?
    public var continueToken: String?
    public var resourceVersion: String?

    public init(labelSelector: String? = nil, fieldSelector: String? = nil, limit: Int? = nil, continueToken: String? = nil,
                resourceVersion: String? = nil) {
        self.labelSelector = labelSelector
        self.fieldSelector = fieldSelector
        self.limit = limit
        self.continueToken = continueToken
        self.resourceVersion = resourceVersion
    }

    var query: [(String, String)] {
        var q: [(String, String)] = []
        if let labelSelector { q.append(("labelSelector", labelSelector)) }
        if let fieldSelector { q.append(("fieldSelector", fieldSelector)) }
        if let limit { q.append(("limit", String(limit))) }
        if let continueToken { q.append(("continue", continueToken)) }
        if let resourceVersion { q.append(("resourceVersion", resourceVersion)) }
        return q
    }
}

/// A list response.
public struct KubeList: Sendable {
    public var items: [KubeObject]
    public var resourceVersion: String?
    public var continueToken: String?

    init(json: JSONValue) {
        self.items = (json["items"]?.arrayValue ?? []).map(KubeObject.init(json:))
        self.resourceVersion = json["metadata"]?["resourceVersion"]?.stringValue
        self.continueToken = json["metadata"]?["continue"]?.stringValue
    }

    public func typed<T: KubeResource>(_ type: T.Type) -> [T] { self.items.map { T(json: $0.json) } }
}

/// The four patch types, and server-side apply's options.
public enum KubePatch: Sendable, Equatable {
    /// RFC 6902 operations.
    case json([JSONValue])
    /// RFC 7386: objects merge, null deletes, lists are replaced.
    case merge(JSONValue)
    /// Built-in types only (custom resources answer 415).
    case strategicMerge(JSONValue)
    /// Server-side apply of a whole intended object.
    case apply(JSONValue, fieldManager: String, force: Bool = false)

    var contentType: String {
        switch self {
        case .json: "application/json-patch+json"
        case .merge: "application/merge-patch+json"
        case .strategicMerge: "application/strategic-merge-patch+json"
        case .apply: "application/apply-patch+yaml"
        }
    }

    var body: JSONValue {
        switch self {
        case .json(let operations): .array(operations)
        case .merge(let patch), .strategicMerge(let patch), .apply(let patch, _, _): patch
        }
    }

    var query: [(String, String)] {
        if case .apply(_, let manager, let force) = self { return [("fieldManager", manager), ("force", force ? "true" : "false")] }
        return []
    }
}

public struct DeleteOptions: Sendable, Equatable {
    public enum Propagation: String, Sendable { case orphan = "Orphan", background = "Background", foreground = "Foreground" }
    public var propagationPolicy: Propagation?
    public var gracePeriodSeconds: Int?
    public var preconditionUID: String?
    public var preconditionResourceVersion: String?

    public init(propagationPolicy: Propagation? = nil, gracePeriodSeconds: Int? = nil, preconditionUID: String? = nil,
                preconditionResourceVersion: String? = nil) {
        self.propagationPolicy = propagationPolicy
        self.gracePeriodSeconds = gracePeriodSeconds
        self.preconditionUID = preconditionUID
        self.preconditionResourceVersion = preconditionResourceVersion
    }

    var body: JSONValue {
        var fields: [String: JSONValue] = ["kind": "DeleteOptions", "apiVersion": "v1"]
        if let propagationPolicy { fields["propagationPolicy"] = .string(propagationPolicy.rawValue) }
        if let gracePeriodSeconds { fields["gracePeriodSeconds"] = .int(gracePeriodSeconds) }
        var preconditions: [String: JSONValue] = [:]
        if let preconditionUID { preconditions["uid"] = .string(preconditionUID) }
        if let preconditionResourceVersion { preconditions["resourceVersion"] = .string(preconditionResourceVersion) }
        if !preconditions.isEmpty { fields["preconditions"] = .object(preconditions) }
        return .object(fields)
    }
}

public enum DeleteResult: Sendable {
    case deleted(status: JSONValue)
    /// Finalizers or a grace period keep the object for now.
    case pending(KubeObject)
}

extension KubeClient {
    /// One request with credentials, a 401 refresh for exec credentials, and typed errors.
    func requestJSON(_ method: String, path: String, query: [(String, String)] = [], body: JSONValue? = nil,
                     contentType: String = "application/json", operation: String) async throws -> JSONValue {
        let response = try await self.send(method, path: path, query: query, body: body, contentType: contentType, operation: operation)
        guard (200..<300).contains(response.status) else {
            throw KubeStatusError(status: response.status, body: response.body, headers: response.headers, operation: operation)
        }
        do {
            return try JSONValue.parse(response.body)
        } catch {
            throw KubeDecodingError(operation: operation, message: "response is not JSON (\(error)): \(String(decoding: response.body.prefix(200), as: UTF8.self))")
        }
    }

    func send(_ method: String, path: String, query: [(String, String)], body: JSONValue?, contentType: String,
              operation: String, accept: String = "application/json") async throws -> HTTPClientResponse {
        let url = try self.url(path: path, query: query)
        var request = HTTPClientRequest(method: method, url: url)
        request.headers.set("Accept", accept)
        request.headers.set("User-Agent", self.configuration.userAgent)
        if let body {
            request.headers.set("Content-Type", contentType)
            request.body = body.serializedBytes
        }
        for attempt in 0..<2 {
            if let authorization = try await self.authorization(for: url) { request.headers.set("Authorization", authorization) }
            let response: HTTPClientResponse
            do {
                response = try await self.transport.send(request, deadline: .now + self.configuration.requestTimeout)
            } catch let failure as HTTPRequestFailure {
                throw KubeTransportError(operation: operation, underlying: failure.error)
            }
            if response.status == 401, attempt == 0, try await self.configuration.credentials.refreshAfterUnauthorized() { continue }
            return response
        }
        preconditionFailure("unreachable")
    }

    func authorization(for url: URL) async throws -> String? {
        guard url.scheme == "https" || self.configuration.sendCredentialsOverPlainHTTP else { return nil }
        return try await self.configuration.credentials.authorizationHeader()
    }

    func url(path: String, query: [(String, String)]) throws -> URL {
        var components = URLComponents(url: self.configuration.server, resolvingAgainstBaseURL: false)!
        let prefix = components.path.hasSuffix("/") ? String(components.path.dropLast()) : components.path
        components.path = prefix + path
        if !query.isEmpty {
            components.percentEncodedQuery = query.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        }
        guard let url = components.url else { throw KubeDecodingError(operation: path, message: "cannot build a URL for \(path)") }
        return url
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }
}
