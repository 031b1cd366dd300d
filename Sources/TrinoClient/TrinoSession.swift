import HTTPWire

/// Client session state sent as `X-Trino-*` headers, updated from every response as the protocol requires.
public struct TrinoSession: Sendable, Equatable {
    public var user: String
    /// Set while `SET SESSION AUTHORIZATION` is in effect: the login user.
    public var originalUser: String?
    public var source: String = "flap"
    public var catalog: String?
    public var schema: String?
    public var path: [String] = []
    /// IANA zone id; nil lets the server use its own zone.
    public var timeZone: String?
    /// BCP-47 language tag such as `en-US`.
    public var language: String?
    public var traceToken: String?
    public var properties: [String: String] = [:]
    /// Catalog to role: `ROLE{name}`, `ALL` or `NONE`. The system role uses catalog `system`.
    public var roles: [String: String] = [:]
    public var originalRoles: [String: String] = [:]
    public var preparedStatements: [String: String] = [:]
    public var transactionID: String?
    public var clientInfo: String?
    public var clientTags: [String] = []
    /// `PARAMETRIC_DATETIME` keeps sub-millisecond precision in times and timestamps.
    public var clientCapabilities: [String] = ["PATH", "PARAMETRIC_DATETIME", "SESSION_AUTHORIZATION"]
    /// e.g. `EXECUTION_TIME` -> `1h`, `PEAK_MEMORY` -> `8GB`.
    public var resourceEstimates: [String: String] = [:]
    public var extraCredentials: [String: String] = [:]

    public init(user: String, catalog: String? = nil, schema: String? = nil) {
        self.user = user
        self.catalog = catalog
        self.schema = schema
    }

    /// The request headers for this session.
    /// - Throws: `TrinoClientError.invalidConfiguration` for an extra-credential name Trino would reject.
    public func headers() throws(TrinoClientError) -> HTTPHeaders {
        var h = HTTPHeaders()
        h.add("X-Trino-User", self.user)
        if let originalUser { h.add("X-Trino-Original-User", originalUser) }
        h.add("X-Trino-Source", self.source)
        if let catalog { h.add("X-Trino-Catalog", catalog) }
        if let schema { h.add("X-Trino-Schema", schema) }
        if !self.path.isEmpty { h.add("X-Trino-Path", self.path.joined(separator: ",")) }
        if let timeZone { h.add("X-Trino-Time-Zone", timeZone) }
        if let language { h.add("X-Trino-Language", language) }
        if let traceToken { h.add("X-Trino-Trace-Token", traceToken) }
        for (name, value) in self.properties.sorted(by: { $0.key < $1.key }) {
            h.add("X-Trino-Session", "\(name)=\(FormEncoding.encode(value))")
        }
        for (catalog, role) in self.roles.sorted(by: { $0.key < $1.key }) {
            h.add("X-Trino-Role", "\(catalog)=\(FormEncoding.encode(role))")
        }
        for (catalog, role) in self.originalRoles.sorted(by: { $0.key < $1.key }) {
            h.add("X-Trino-Original-Roles", "\(catalog)=\(FormEncoding.encode(role))")
        }
        for (name, sql) in self.preparedStatements.sorted(by: { $0.key < $1.key }) {
            h.add("X-Trino-Prepared-Statement", "\(FormEncoding.encode(name))=\(FormEncoding.encode(sql))")
        }
        h.add("X-Trino-Transaction-Id", self.transactionID ?? "NONE")
        if let clientInfo { h.add("X-Trino-Client-Info", clientInfo) }
        if !self.clientTags.isEmpty { h.add("X-Trino-Client-Tags", self.clientTags.joined(separator: ",")) }
        if !self.clientCapabilities.isEmpty { h.add("X-Trino-Client-Capabilities", self.clientCapabilities.joined(separator: ",")) }
        for (name, value) in self.resourceEstimates.sorted(by: { $0.key < $1.key }) {
            h.add("X-Trino-Resource-Estimate", "\(name)=\(FormEncoding.encode(value))")
        }
        if !self.extraCredentials.isEmpty {
            for name in self.extraCredentials.keys where name.isEmpty || name.contains(where: { $0.isWhitespace || $0 == "=" || !$0.isASCII }) {
                throw .invalidConfiguration("extra credential name \"\(name)\" must be non-empty ASCII without whitespace or '='")
            }
            h.add("X-Trino-Extra-Credential", self.extraCredentials.sorted(by: { $0.key < $1.key })
                .map { "\($0.key)=\(FormEncoding.encode($0.value))" }.joined(separator: ","))
        }
        return h
    }

    /// Applies a response's `X-Trino-Set-*`, `Clear-*`, `Added-*` and `Deallocated-*` headers.
    public mutating func apply(_ headers: HTTPHeaders) {
        if let catalog = headers["X-Trino-Set-Catalog"] { self.catalog = catalog }
        if let schema = headers["X-Trino-Set-Schema"] { self.schema = schema }
        if let path = headers["X-Trino-Set-Path"] { self.path = path.split(separator: ",").map { String($0) } }
        for (name, value) in Self.pairs(headers, "X-Trino-Set-Session") { self.properties[name] = value }
        for name in headers.splitValues(for: "X-Trino-Clear-Session") { self.properties[name] = nil }
        for (catalog, role) in Self.pairs(headers, "X-Trino-Set-Role") { self.roles[catalog] = role }
        for (catalog, role) in Self.pairs(headers, "X-Trino-Set-Original-Roles") { self.originalRoles[catalog] = role }
        for (name, sql) in Self.pairs(headers, "X-Trino-Added-Prepare") { self.preparedStatements[name] = sql }
        for name in headers.splitValues(for: "X-Trino-Deallocated-Prepare") {
            self.preparedStatements[FormEncoding.decode(name)] = nil
        }
        if let id = headers["X-Trino-Started-Transaction-Id"] { self.transactionID = id }
        if headers["X-Trino-Clear-Transaction-Id"] != nil { self.transactionID = nil }
        if let user = headers["X-Trino-Set-Authorization-User"] {
            if self.originalUser == nil { self.originalUser = self.user }
            self.user = user
        }
        if headers["X-Trino-Reset-Authorization-User"] != nil, let original = self.originalUser {
            self.user = original
            self.originalUser = nil
        }
    }

    /// `name=urlencoded(value)` entries, possibly comma-joined by the HTTP stack.
    private static func pairs(_ headers: HTTPHeaders, _ name: String) -> [(String, String)] {
        headers.splitValues(for: name).compactMap { entry in
            guard let eq = entry.firstIndex(of: "=") else { return nil }
            return (FormEncoding.decode(String(entry[..<eq])), FormEncoding.decode(String(entry[entry.index(after: eq)...])))
        }
    }
}

/// `application/x-www-form-urlencoded`, as Java's URLEncoder and Python's quote_plus write it.
public enum FormEncoding {
    public static func encode(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: "*"), UInt8(ascii: "_"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "): out += "+"
            default:
                let hex = String(byte, radix: 16, uppercase: true)
                out += "%" + (hex.count == 1 ? "0" + hex : hex)
            }
        }
        return out
    }

    public static func decode(_ text: String) -> String {
        let plus = text.replacingOccurrences(of: "+", with: " ")
        return plus.removingPercentEncoding ?? plus
    }
}

import Foundation
