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
        // Bytes, not Characters: grapheme-aware splitting and Unicode letter tests were a tenth of a busy server.
        let parts = startLine.split(separator: 32, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw .malformedMessage("bad request line \"\(Self.text(startLine).prefix(80))\"")
        }
        let version = Self.text(parts[2])
        guard version == "HTTP/1.1" || version == "HTTP/1.0" else {
            throw .malformedMessage("unsupported HTTP version \"\(version.prefix(20))\"")
        }
        guard parts[0].allSatisfy({ (65...90).contains($0) }) else {
            throw .malformedMessage("bad method \"\(Self.text(parts[0]).prefix(20))\"")
        }
        return RequestHead(method: Self.text(parts[0]), target: Self.text(parts[1]), version: version, headers: headers)
    }

    static func parseResponseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPWireError) -> ResponseHead {
        let (statusLine, headers) = try self.split(bytes)
        let parts = statusLine.split(separator: 32, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].starts(with: "HTTP/1.".utf8) else {
            throw .malformedMessage("bad status line \"\(Self.text(statusLine).prefix(80))\"")
        }
        guard parts[1].count == 3, parts[1].allSatisfy({ (48...57).contains($0) }),
              let status = Int(Self.text(parts[1])), (100...599).contains(status) else {
            throw .malformedMessage("bad status code \"\(Self.text(parts[1]).prefix(20))\"")
        }
        let reason = parts.count > 2 ? Self.text(parts[2]) : ""
        return ResponseHead(version: Self.text(parts[0]), status: status, reason: reason, headers: headers)
    }

    /// Splits the head into its start line and header fields, working on bytes (the hot path of every request).
    private static func split(_ bytes: ArraySlice<UInt8>) throws(HTTPWireError) -> (ArraySlice<UInt8>, HTTPHeaders) {
        var lines: [ArraySlice<UInt8>] = []
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i < bytes.endIndex {
            if bytes[i] == 10 {
                let end = i > start && bytes[i - 1] == 13 ? i - 1 : i
                lines.append(bytes[start..<end])
                start = i + 1
            }
            i += 1
        }
        if start < bytes.endIndex { lines.append(bytes[start..<bytes.endIndex]) }
        while lines.last?.isEmpty == true { lines.removeLast() }
        guard let first = lines.first, !first.isEmpty else { throw .malformedMessage("empty start line") }
        var headers = HTTPHeaders()
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformedMessage("header line without a colon \"\(Self.text(line).prefix(80))\"")
            }
            let name = line[line.startIndex..<colon]
            guard !name.isEmpty, !name.contains(32), !name.contains(9) else {
                throw .malformedMessage("bad header name \"\(Self.text(name).prefix(80))\"")
            }
            var valueStart = colon + 1
            var valueEnd = line.endIndex
            while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
            while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
            headers.add(Self.text(name), Self.text(line[valueStart..<valueEnd]))
        }
        return (first, headers)
    }

    /// UTF-8 text, or Latin-1 for the odd byte a peer sends.
    private static func text(_ bytes: ArraySlice<UInt8>) -> String {
        String(validating: bytes, as: UTF8.self) ?? String(decoding: bytes.map { $0 < 128 ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
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
        let lengths = headers.splitValues(for: "Content-Length")
        guard let first = lengths.first else { return nil }
        guard lengths.allSatisfy({ $0 == first }), let length = Int(first), length >= 0 else {
            throw .malformedMessage("bad Content-Length \"\(headers.values(for: "Content-Length").joined(separator: ",").prefix(40))\"")
        }
        return .contentLength(length)
    }
}

import Foundation
