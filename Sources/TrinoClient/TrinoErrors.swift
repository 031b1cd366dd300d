import FlapJSON
import HTTPWire

/// The query failed on the server: Trino's own `error` object.
public struct TrinoQueryError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Location: Sendable, Equatable, Hashable {
        public var lineNumber: Int
        public var columnNumber: Int
        public init(lineNumber: Int, columnNumber: Int) {
            self.lineNumber = lineNumber
            self.columnNumber = columnNumber
        }
    }

    public var queryID: String
    public var message: String
    public var errorName: String
    public var errorCode: Int
    /// `USER_ERROR`, `INTERNAL_ERROR`, `INSUFFICIENT_RESOURCES` or `EXTERNAL`.
    public var errorType: String
    public var sqlState: String?
    public var location: Location?
    /// The server's failure chain, as JSON (type, message, cause, suppressed, stack).
    public var failureInfo: JSONValue?

    public var description: String {
        var text = "Trino query \(self.queryID) failed: \(self.errorName) (\(self.errorType), code \(self.errorCode)): \(self.message)"
        if let location { text += " at line \(location.lineNumber), column \(location.columnNumber)" }
        return text
    }

    init(queryID: String, json: JSONValue) throws(TrinoProtocolError) {
        guard json.objectValue != nil else { throw .wrongType(field: "error", expected: "object") }
        self.queryID = queryID
        self.message = json["message"]?.stringValue ?? ""
        self.errorName = json["errorName"]?.stringValue ?? "UNKNOWN"
        self.errorCode = json["errorCode"]?.int64Value.map { Int($0) } ?? 0
        self.errorType = json["errorType"]?.stringValue ?? "UNKNOWN"
        self.sqlState = json["sqlState"]?.stringValue
        if let loc = json["errorLocation"], let line = loc["lineNumber"]?.int64Value, let column = loc["columnNumber"]?.int64Value {
            self.location = Location(lineNumber: Int(line), columnNumber: Int(column))
        }
        self.failureInfo = json["failureInfo"].flatMap { $0.isNull ? nil : $0 }
    }
}

/// The server (or a proxy in front of it) did not speak the protocol.
public enum TrinoProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// An HTTP status the protocol does not allow at this point (after any retries).
    case unexpectedStatus(status: Int, method: String, uri: String, bodyExcerpt: String)
    /// The body was not JSON: typically a proxy's HTML error page.
    case notJSON(status: Int, contentType: String?, uri: String, bodyExcerpt: String, parseError: String)
    case missingField(String)
    case wrongType(field: String, expected: String)
    case invalidNextURI(String)
    /// A row did not match its column's type.
    case badValue(column: String, type: String, detail: String)
    case spooling(String)

    public var description: String {
        switch self {
        case .unexpectedStatus(let status, let method, let uri, let body):
            "\(method) \(uri) answered HTTP \(status)\(body.isEmpty ? "" : ": \(body)")"
        case .notJSON(let status, let type, let uri, let body, let why):
            "\(uri) answered HTTP \(status) with a body that is not Trino JSON (\(type ?? "no Content-Type"); \(why)): \(body)"
        case .missingField(let field): "Trino response is missing the required field \(field)"
        case .wrongType(let field, let expected): "Trino response field \(field) is not \(expected)"
        case .invalidNextURI(let uri): "nextUri \"\(uri)\" is not an absolute http(s) URL"
        case .badValue(let column, let type, let detail): "value in column \(column) is not a valid \(type): \(detail)"
        case .spooling(let why): "spooled result segment: \(why)"
        }
    }
}

/// The request could not be completed on the wire (after any retries the policy allowed).
public struct TrinoTransportError: Error, Sendable, Equatable, CustomStringConvertible {
    public var method: String
    public var uri: String
    public var attempts: Int
    public var underlying: HTTPWireError

    public init(method: String, uri: String, attempts: Int, underlying: HTTPWireError) {
        self.method = method
        self.uri = uri
        self.attempts = attempts
        self.underlying = underlying
    }

    public var description: String {
        "\(self.method) \(self.uri) failed after \(self.attempts) attempt\(self.attempts == 1 ? "" : "s"): \(self.underlying)"
    }
}

/// Errors of the client itself: configuration, deadlines.
public enum TrinoClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Credentials would travel over plain http; set `allowInsecureCredentials` to permit it.
    case insecureCredentials(server: String)
    case deadlineExceeded(after: Duration, queryID: String?)
    case emptyStatement
    case invalidConfiguration(String)

    public var description: String {
        switch self {
        case .insecureCredentials(let server):
            "refusing to send credentials over plain http to \(server); use https, or set allowInsecureCredentials when a proxy terminates TLS"
        case .deadlineExceeded(let after, let id): "query \(id ?? "(not started)") exceeded its deadline of \(after)"
        case .emptyStatement: "SQL statement is empty"
        case .invalidConfiguration(let why): "invalid Trino client configuration: \(why)"
        }
    }
}
