import HTTPWire

/// One statement to run. Only the SQL is required.
public struct TrinoQuery: Sendable {
    public var sql: String
    /// Session properties for this query only (added to the client's session).
    public var sessionProperties: [String: String] = [:]
    /// Extra headers for the submit request.
    public var headers: HTTPHeaders = [:]
    /// Deadline for the whole query, from submit to the last page; nil uses the client's.
    public var timeout: Duration?

    public init(_ sql: String, timeout: Duration? = nil) {
        self.sql = sql
        self.timeout = timeout
    }
}

/// One page of rows as it arrived.
public struct TrinoPage: Sendable {
    public var queryID: String
    public var columns: [TrinoColumn]
    /// Stored by column; each row is a view (`TrinoRows`).
    public var rows: TrinoRows
    public var stats: StatementStats
}

/// A finished query: every row, the final stats and the trace.
public struct TrinoResult: Sendable {
    public var queryID: String
    public var columns: [TrinoColumn]
    /// Every page as it was decoded, stored by column (`TrinoRows`).
    public var rows: TrinoRows
    public var stats: StatementStats
    public var updateType: String?
    public var updateCount: Int64?
    public var warnings: [TrinoWarning]
    public var trace: QueryTrace
}

/// Credentials. Never logged, never part of an error.
public enum TrinoAuthentication: Sendable, Equatable, CustomStringConvertible {
    case basic(user: String, password: String)
    case bearer(token: String)

    var headerValue: String {
        switch self {
        case .basic(let user, let password): "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .bearer(let token): "Bearer \(token)"
        }
    }

    public var description: String {
        switch self {
        case .basic(let user, _): "basic(user: \(user), password: <redacted>)"
        case .bearer: "bearer(<redacted>)"
        }
    }
}

import Foundation
