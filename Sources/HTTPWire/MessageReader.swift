/// Reads HTTP/1.1 messages from a socket: a head, then a body by its framing, all under one deadline and within limits.
///
/// Bytes past the end of one message stay buffered for the next (pipelining, keep-alive).
struct MessageReader {
    let socket: TCPSocket
    let limits: HTTPLimits
    private var buffer: [UInt8] = []
    private var position = 0
    /// Bytes of the current message received so far (for error messages).
    private(set) var received = 0

    init(socket: TCPSocket, limits: HTTPLimits) {
        self.socket = socket
        self.limits = limits
    }

    var hasBufferedBytes: Bool { self.position < self.buffer.count }

    /// Reads a complete header section. Returns nil if the peer closed cleanly before sending any byte.
    mutating func readHead(deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> ArraySlice<UInt8>? {
        self.compact()
        self.received = self.buffer.count
        var searched = 0
        while true {
            if let end = HTTPHeadParser.headEnd(in: self.buffer, from: self.position, searchFrom: searched) {
                guard end - self.position <= self.limits.maxHeaderBytes else { throw .headerTooLarge(limit: self.limits.maxHeaderBytes) }
                let head = self.buffer[self.position..<end]
                self.position = end
                return head
            }
            searched = self.buffer.count
            guard self.buffer.count - self.position <= self.limits.maxHeaderBytes else { throw .headerTooLarge(limit: self.limits.maxHeaderBytes) }
            if try await self.fill(deadline: deadline) == 0 {
                if self.buffer.count == self.position { return nil }
                throw .closedBeforeComplete(received: self.received, reusedConnection: false)
            }
        }
    }

    mutating func readBody(_ framing: BodyFraming, deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> [UInt8] {
        switch framing {
        case .none: return []
        case .contentLength(let length):
            guard length <= self.limits.maxBodyBytes else { throw .bodyTooLarge(limit: self.limits.maxBodyBytes) }
            return try await self.readExactly(length, deadline: deadline)
        case .chunked: return try await self.readChunked(deadline: deadline)
        case .untilClose:
            while try await self.fill(deadline: deadline) > 0 {
                guard self.buffer.count - self.position <= self.limits.maxBodyBytes else { throw .bodyTooLarge(limit: self.limits.maxBodyBytes) }
            }
            defer { self.position = self.buffer.count }
            return Array(self.buffer[self.position...])
        }
    }

    /// Reads exactly `count` body bytes, straight into the result once the buffered bytes are used up.
    private mutating func readExactly(_ count: Int, deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> [UInt8] {
        let buffered = min(count, self.buffer.count - self.position)
        var out: [UInt8] = []
        out.reserveCapacity(count)
        out.append(contentsOf: self.buffer[self.position..<(self.position + buffered)])
        self.position += buffered
        while out.count < count {
            let n = try await self.socket.read(into: &out, capacity: min(count - out.count, 1 << 20), deadline: deadline, received: self.received)
            guard n > 0 else { throw .closedBeforeComplete(received: self.received, reusedConnection: false) }
            self.received += n
        }
        return out
    }

    private mutating func readLine(deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> String {
        while true {
            if let newline = self.buffer[self.position...].firstIndex(of: 10) {
                guard newline > self.position, self.buffer[newline - 1] == 13 else { throw .malformedMessage("chunk line not ended by CRLF") }
                defer { self.position = newline + 1 }
                return String(decoding: self.buffer[self.position..<(newline - 1)], as: UTF8.self)
            }
            guard self.buffer.count - self.position < 4096 else { throw .malformedMessage("chunk size line too long") }
            if try await self.fill(deadline: deadline) == 0 { throw .closedBeforeComplete(received: self.received, reusedConnection: false) }
        }
    }

    /// The next piece of a body being streamed: a chunk (chunked framing) or what arrived (other framings).
    /// Returns nil at the end of the body.
    mutating func readNextPiece(_ framing: BodyFraming, remaining: inout Int, deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> [UInt8]? {
        switch framing {
        case .none: return nil
        case .chunked:
            let line = try await self.readLine(deadline: deadline)
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !sizeText.isEmpty, sizeText.count <= 16, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw .malformedMessage("bad chunk size \"\(line.prefix(40))\"")
            }
            if size == 0 {
                while try await !self.readLine(deadline: deadline).isEmpty {}
                return nil
            }
            let bytes = try await self.readExactly(size, deadline: deadline)
            guard try await self.readLine(deadline: deadline).isEmpty else { throw .malformedMessage("chunk data longer than its size") }
            return bytes
        case .contentLength, .untilClose:
            if case .contentLength = framing, remaining <= 0 { return nil }
            if self.position == self.buffer.count {
                self.compact()
                if try await self.fill(deadline: deadline) == 0 {
                    if case .contentLength = framing { throw .closedBeforeComplete(received: self.received, reusedConnection: false) }
                    return nil
                }
            }
            var end = self.buffer.count
            if case .contentLength = framing { end = min(end, self.position + remaining) }
            defer { self.position = end }
            remaining -= end - self.position
            return Array(self.buffer[self.position..<end])
        }
    }

    private mutating func readChunked(deadline: ContinuousClock.Instant) async throws(HTTPWireError) -> [UInt8] {
        var body: [UInt8] = []
        while true {
            let line = try await self.readLine(deadline: deadline)
            let sizeText = line.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            guard !sizeText.isEmpty, sizeText.count <= 16, let size = Int(sizeText, radix: 16), size >= 0 else {
                throw .malformedMessage("bad chunk size \"\(line.prefix(40))\"")
            }
            if size == 0 {
                while try await !self.readLine(deadline: deadline).isEmpty {}  // trailers, ignored
                return body
            }
            guard body.count + size <= self.limits.maxBodyBytes else { throw .bodyTooLarge(limit: self.limits.maxBodyBytes) }
            body += try await self.readExactly(size, deadline: deadline)
            guard try await self.readLine(deadline: deadline).isEmpty else { throw .malformedMessage("chunk data longer than its size") }
        }
    }

    @discardableResult
    private mutating func fill(deadline: ContinuousClock.Instant, hint: Int = 0) async throws(HTTPWireError) -> Int {
        let capacity = min(max(65536, hint), 1 << 20)
        let n = try await self.socket.read(into: &self.buffer, capacity: capacity, deadline: deadline, received: self.received)
        self.received += n
        return n
    }

    /// Drops consumed bytes. A connection between messages keeps at most 4 KB: 10,000 kept-alive connections with a
    /// 16 KB buffer each were 160 MB of a polling engine's memory.
    private mutating func compact() {
        if self.position == self.buffer.count {
            self.buffer.removeAll(keepingCapacity: self.buffer.capacity <= 4096)
            self.position = 0
        } else if self.position > 0 {
            self.buffer.removeFirst(self.position)
            self.position = 0
        }
    }
}

/// Serialises messages for the wire.
enum MessageWriter {
    static func requestHead(method: String, target: String, headers: HTTPHeaders) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: method.utf8)
        out.append(32)
        out.append(contentsOf: target.utf8)
        out.append(contentsOf: " HTTP/1.1\r\n".utf8)
        return Self.finishHead(out, headers)
    }

    static func responseHead(status: Int, reason: String, headers: HTTPHeaders) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        out.append(contentsOf: String(status).utf8)
        out.append(32)
        out.append(contentsOf: reason.utf8)
        out.append(contentsOf: [13, 10])
        return Self.finishHead(out, headers)
    }

    /// Appends the header fields and the blank line, as bytes (building a String first cost every request twice).
    private static func finishHead(_ startLine: [UInt8], _ headers: HTTPHeaders) -> [UInt8] {
        var out = startLine
        for field in headers {
            out.append(contentsOf: field.name.utf8)
            out.append(contentsOf: [58, 32])
            out.append(contentsOf: field.value.utf8)
            out.append(contentsOf: [13, 10])
        }
        out.append(contentsOf: [13, 10])
        return out
    }

    /// One chunk of a chunked body; an empty chunk ends the body.
    static func chunk(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        Array(String(bytes.count, radix: 16).utf8) + [13, 10] + bytes + [13, 10]
    }
}
