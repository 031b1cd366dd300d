import FlapJSON
import HTTPWire

/// A `metav1.Status` failure from the API server, typed by its reason.
public struct KubeStatusError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: String, Sendable {
        case unauthorized = "Unauthorized", forbidden = "Forbidden", notFound = "NotFound", alreadyExists = "AlreadyExists"
        case conflict = "Conflict", gone = "Gone", expired = "Expired", invalid = "Invalid", tooManyRequests = "TooManyRequests"
        case badRequest = "BadRequest", methodNotAllowed = "MethodNotAllowed", notAcceptable = "NotAcceptable"
        case unsupportedMediaType = "UnsupportedMediaType", requestEntityTooLarge = "RequestEntityTooLarge"
        case internalError = "InternalError", serverTimeout = "ServerTimeout", serviceUnavailable = "ServiceUnavailable", timeout = "Timeout"
        case unknown = ""
    }

    public struct Cause: Sendable, Equatable {
        public var reason: String
        public var message: String
        public var field: String
    }

    public var code: Int
    public var reason: Reason
    public var rawReason: String
    public var message: String
    /// The object the error is about: `kind` here is the resource (as the server reports it), e.g. `ingresses`.
    public var name: String?
    public var group: String?
    public var kind: String?
    public var causes: [Cause]
    public var retryAfterSeconds: Int?
    /// What the client was doing: `PATCH httproutes.gateway.networking.k8s.io default/web`.
    public var operation: String

    public var description: String {
        var text = "\(self.operation): \(self.message.isEmpty ? "HTTP \(self.code)" : self.message) (\(self.rawReason.isEmpty ? "HTTP \(self.code)" : self.rawReason))"
        if !self.causes.isEmpty {
            text += "; " + self.causes.map { "\($0.field.isEmpty ? "" : "\($0.field): ")\($0.message)" }.joined(separator: "; ")
        }
        if let retryAfterSeconds { text += "; retry after \(retryAfterSeconds)s" }
        return text
    }

    public var isNotFound: Bool { self.reason == .notFound }
    public var isConflict: Bool { self.reason == .conflict }
    public var isAlreadyExists: Bool { self.reason == .alreadyExists }
    public var isExpired: Bool { self.reason == .expired || self.reason == .gone || self.code == 410 }
    public var isFieldManagerConflict: Bool { self.isConflict && self.causes.contains { $0.reason == "FieldManagerConflict" } }

    /// Builds the error from a response; a body that is not a Status still gives a typed error by HTTP code.
    init(status: Int, body: [UInt8], headers: HTTPHeaders, operation: String) {
        let json = try? JSONValue.parse(body)
        let isStatus = json?["kind"]?.stringValue == "Status"
        self.code = isStatus ? Int(json?["code"]?.int64Value ?? Int64(status)) : status
        self.rawReason = isStatus ? (json?["reason"]?.stringValue ?? "") : ""
        self.reason = Reason(rawValue: self.rawReason) ?? Self.reason(forCode: self.code)
        if self.rawReason.isEmpty { self.reason = Self.reason(forCode: self.code) }
        self.message = isStatus ? (json?["message"]?.stringValue ?? "") : String(decoding: body.prefix(300), as: UTF8.self)
        let details = json?["details"]
        self.name = details?["name"]?.stringValue
        self.group = details?["group"]?.stringValue
        self.kind = details?["kind"]?.stringValue
        self.causes = (details?["causes"]?.arrayValue ?? []).map {
            Cause(reason: $0["reason"]?.stringValue ?? "", message: $0["message"]?.stringValue ?? "", field: $0["field"]?.stringValue ?? "")
        }
        self.retryAfterSeconds = details?["retryAfterSeconds"]?.int64Value.map { Int($0) } ?? headers["Retry-After"].flatMap { Int($0) }
        self.operation = operation
    }

    static func reason(forCode code: Int) -> Reason {
        switch code {
        case 400: .badRequest
        case 401: .unauthorized
        case 403: .forbidden
        case 404: .notFound
        case 405: .methodNotAllowed
        case 406: .notAcceptable
        case 409: .conflict
        case 410: .gone
        case 413: .requestEntityTooLarge
        case 415: .unsupportedMediaType
        case 422: .invalid
        case 429: .tooManyRequests
        case 503: .serviceUnavailable
        case 504: .timeout
        case 500...599: .internalError
        default: .unknown
        }
    }
}

/// The request never got an answer from the API server.
public struct KubeTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var underlying: HTTPWireError
    public var description: String { "\(self.operation): \(self.underlying)" }
}

/// The API server answered something that is not a Kubernetes object or list.
public struct KubeDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var operation: String
    public var message: String
    public var description: String { "\(self.operation): \(self.message)" }
}
