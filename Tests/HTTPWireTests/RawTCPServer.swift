import Foundation
@testable import HTTPWire
#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP server that runs a script per connection: for feeding the client bytes no real server sends.
final class RawTCPServer: @unchecked Sendable {
    let port: Int
    private let fd: Int32
    private let done = DispatchGroup()

    /// `script` gets the connection's fd and the bytes of the request's head (read up to a blank line).
    init(connections: Int = 1, script: @escaping @Sendable (Int32, String) -> Void) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        listen(fd, 16)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        self.port = Int(UInt16(bigEndian: address.sin_port))
        self.fd = fd
        self.done.enter()
        Thread {
            for _ in 0..<connections {
                let client = accept(fd, nil, nil)
                guard client >= 0 else { break }
                script(client, Self.readHead(client))
                Glibc.close(client)
            }
            self.done.leave()
        }.start()
    }

    var url: URL { URL(string: "http://127.0.0.1:\(self.port)/x")! }

    func stop() {
        Glibc.shutdown(self.fd, Int32(SHUT_RDWR))
        Glibc.close(self.fd)
    }

    static func readHead(_ fd: Int32) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while recv(fd, &byte, 1, 0) == 1 {
            bytes.append(byte)
            if bytes.suffix(4) == [13, 10, 13, 10] { break }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func send(_ fd: Int32, _ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }
}

/// Open file descriptors of this process (to prove servers and clients release theirs).
func openFileDescriptorCount() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? -1
}

func get(_ url: URL, _ path: String = "") -> HTTPClientRequest {
    HTTPClientRequest(url: path.isEmpty ? url : url.appending(path: path))
}

extension HTTPRequestFailure {
    static func unwrap(_ error: any Error) -> HTTPWireError? { (error as? HTTPRequestFailure)?.error }
}
