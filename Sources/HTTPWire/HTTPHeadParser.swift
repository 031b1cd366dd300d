/// Pure parsing of HTTP/1.1 start lines and header sections. No I/O: the socket reader hands it bytes.
enum HTTPHeadParser {
    struct RequestHead: Equatable {
        var method: String
        var target: String
        var version: String
        var headers: HTTPHeaders
    }

    struct ResponseHead: Equatable {
        var version: String
        var status: Int
        var reason: String
        var headers: HTTPHeaders
    }

    /// The index just past the blank line that ends the header section, if `bytes` holds it.
    static func headEnd(in bytes: [UInt8], from start: Int, searchFrom: Int) -> Int? {
        var i = max(start, searchFrom - 3)
        let end = bytes.count - 3
        while i < end {
            if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { return i + 4 }
            i += 1
        }
        return nil
    }

    static func parseRequestHead(_ bytes: ArraySlice<UInt8>) throws(HTTPWireError) -> RequestHead {
        let (startLine, headers) = try self.split(bytes)
        let parts = startLine.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .malformedMessage("bad request line \"\(startLine.prefix(80))\"")
        }
        guard parts[2] == "HTTP/1.1" || parts[2] == "HTTP/1.0" else {
            throw .malformedMessage("unsupported HTTP version \"\(parts[2].prefix(20))\"")
        }
        guard parts[0].allSatisfy({ $0.isLetter && $0.isUppercase }) else {
            throw .malformedMessage("bad method \"\(parts[0].prefix(20))\"")
        }
        return RequestHead(method: String(parts[0]), target: String(parts[1]), version: String(parts[2]), headers: headers)
    }

    static func parseResponseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPWireError) -> ResponseHead {
        let (statusLine, headers) = try self.split(bytes)
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1.") else {
            throw .malformedMessage("bad status line \"\(statusLine.prefix(80))\"")
        }
        guard parts[1].count == 3, let status = Int(parts[1]), (100...599).contains(status) else {
            throw .malformedMessage("bad status code \"\(parts[1].prefix(20))\"")
        }
        let reason = parts.count > 2 ? String(parts[2]) : ""
        return ResponseHead(version: String(parts[0]), status: status, reason: reason, headers: headers)
    }

    private static func split(_ bytes: ArraySlice<UInt8>) throws(HTTPWireError) -> (Substring, HTTPHeaders) {
        guard let text = String(validating: bytes, as: UTF8.self) ?? String(bytes: bytes, encoding: .isoLatin1) else {
            throw .malformedMessage("header section is not text")
        }
        var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first, !first.isEmpty else { throw .malformedMessage("empty start line") }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else {
                throw .malformedMessage("header line without a colon \"\(line.prefix(80))\"")
            }
            let name = line[..<colon]
            guard !name.isEmpty, !name.contains(" "), !name.contains("\t") else {
                throw .malformedMessage("bad header name \"\(name.prefix(80))\"")
            }
            let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            headers.add(String(name), value)
        }
        return (first, headers)
    }
}

/// How a message body is delimited (RFC 9112 section 6).
enum BodyFraming: Equatable {
    case none
    case contentLength(Int)
    case chunked
    case untilClose

    static func forRequest(_ headers: HTTPHeaders) throws(HTTPWireError) -> BodyFraming {
        if let framing = try self.explicit(headers) { return framing }
        return .none
    }

    static func forResponse(_ headers: HTTPHeaders, status: Int, requestMethod: String) throws(HTTPWireError) -> BodyFraming {
        if requestMethod == "HEAD" || (100..<200).contains(status) || status == 204 || status == 304 { return .none }
        if let framing = try self.explicit(headers) { return framing }
        return .untilClose
    }

    private static func explicit(_ headers: HTTPHeaders) throws(HTTPWireError) -> BodyFraming? {
        if let encoding = headers["Transfer-Encoding"] {
            guard encoding.lowercased().split(separator: ",").last?.trimmingCharacters(in: .whitespaces) == "chunked" else {
                throw .malformedMessage("unsupported Transfer-Encoding \"\(encoding.prefix(40))\"")
            }
            return .chunked
        }
        let lengths = Set(headers.splitValues(for: "Content-Length"))
        guard let first = lengths.first else { return nil }
        guard lengths.count == 1, let length = Int(first), length >= 0 else {
            throw .malformedMessage("bad Content-Length \"\(headers.values(for: "Content-Length").joined(separator: ",").prefix(40))\"")
        }
        return .contentLength(length)
    }
}

import Foundation
