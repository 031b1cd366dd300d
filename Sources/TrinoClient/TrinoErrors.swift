import FlapJSON
import FlapSystem
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

/// The server (or a proxy in front of it) did not speak the protocol. Match on `code`; the fields say what the
/// server answered when the error is about an answer.
public struct TrinoProtocolError: CodedError, Equatable {
    public typealias Code = ErrorCode<TrinoProtocolError>
    public var code: Code
    public var message: String
    /// The HTTP status, method and URI of the answer at fault, and the start of its body.
    public var status: Int?
    public var method: String?
    public var uri: String?
    public var bodyExcerpt: String?
    /// The response field at fault.
    public var field: String?
    /// Why the body could not be read (the JSON parser's words).
    public var detail: String?

    init(_ code: Code, _ message: String, status: Int? = nil, method: String? = nil, uri: String? = nil, bodyExcerpt: String? = nil,
         field: String? = nil, detail: String? = nil) {
        self.code = code
        self.message = message
        self.status = status
        self.method = method
        self.uri = uri
        self.bodyExcerpt = bodyExcerpt
        self.field = field
        self.detail = detail
    }

    /// An HTTP status the protocol does not allow at this point (after any retries).
    package static func unexpectedStatus(status: Int, method: String, uri: String, bodyExcerpt: String) -> Self {
        Self(.unexpectedStatus, "\(method) \(uri) answered HTTP \(status)\(bodyExcerpt.isEmpty ? "" : ": \(bodyExcerpt)")",
             status: status, method: method, uri: uri, bodyExcerpt: bodyExcerpt)
    }
    /// The body was not JSON: typically a proxy's HTML error page.
    package static func notJSON(status: Int, contentType: String?, uri: String, bodyExcerpt: String, parseError: String) -> Self {
        Self(.notJSON, "\(uri) answered HTTP \(status) with a body that is not Trino JSON (\(contentType ?? "no Content-Type"); \(parseError)): \(bodyExcerpt)",
             status: status, uri: uri, bodyExcerpt: bodyExcerpt, detail: parseError)
    }
    package static func missingField(_ field: String) -> Self { Self(.missingField, "Trino response is missing the required field \(field)", field: field) }
    package static func wrongType(field: String, expected: String) -> Self { Self(.wrongType, "Trino response field \(field) is not \(expected)", field: field) }
    package static func invalidNextURI(_ uri: String) -> Self { Self(.invalidNextURI, "nextUri \"\(uri)\" is not an absolute http(s) URL", uri: uri) }
    /// A row did not match its column's type.
    package static func badValue(column: String, type: String, detail: String) -> Self {
        Self(.badValue, "value in column \(column) is not a valid \(type): \(detail)", field: column)
    }
    package static func spooling(_ why: String) -> Self { Self(.spooling, "spooled result segment: \(why)") }
}

extension ErrorCode where Owner == TrinoProtocolError {
    public static let unexpectedStatus = Self("unexpectedStatus")
    public static let notJSON = Self("notJSON")
    public static let missingField = Self("missingField")
    public static let wrongType = Self("wrongType")
    public static let invalidNextURI = Self("invalidNextURI")
    public static let badValue = Self("badValue")
    public static let spooling = Self("spooling")
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

/// Errors of the client itself: configuration, deadlines. Match on `code`.
public struct TrinoClientError: CodedError, Equatable {
    public typealias Code = ErrorCode<TrinoClientError>
    public var code: Code
    public var message: String
    /// The query that ran out of time, when it had an ID.
    public var queryID: String?

    init(_ code: Code, _ message: String, queryID: String? = nil) {
        self.code = code
        self.message = message
        self.queryID = queryID
    }

    /// Credentials would travel over plain http; set `allowInsecureCredentials` to permit it.
    package static func insecureCredentials(server: String) -> Self {
        Self(.insecureCredentials, "refusing to send credentials over plain http to \(server); use https, or set allowInsecureCredentials when a proxy terminates TLS")
    }
    package static func deadlineExceeded(after: Duration, queryID: String?) -> Self {
        Self(.deadlineExceeded, "query \(queryID ?? "(not started)") exceeded its deadline of \(after)", queryID: queryID)
    }
    package static let emptyStatement = Self(.emptyStatement, "SQL statement is empty")
    package static func invalidConfiguration(_ why: String) -> Self { Self(.invalidConfiguration, "invalid Trino client configuration: \(why)") }
}

extension ErrorCode where Owner == TrinoClientError {
    public static let insecureCredentials = Self("insecureCredentials")
    public static let deadlineExceeded = Self("deadlineExceeded")
    public static let emptyStatement = Self("emptyStatement")
    public static let invalidConfiguration = Self("invalidConfiguration")
}
