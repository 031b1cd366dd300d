import FlapSystem
import Foundation
import XCTest

/// `flap-cli lab up` as a user runs it: a child process whose printed endpoints the test reads.
final class LabUpProcess {
    let process = Process()
    let text: String
    let stderr = Pipe()

    init(_ arguments: [String] = [], timeout: TimeInterval = 40) throws {
        self.process.executableURL = try LabTests.flapCLI()
        self.process.arguments = ["lab", "up"] + arguments
        let out = Pipe()
        self.process.standardOutput = out
        self.process.standardError = self.stderr
        try self.process.run()
        var text = ""
        let deadline = Date().addingTimeInterval(timeout)
        while !text.contains("ready:"), self.process.isRunning, Date() < deadline {
            text += String(decoding: out.fileHandleForReading.availableData, as: UTF8.self)
        }
        self.text = text
        guard text.contains("ready:") else {
            self.stop()
            throw LabUpError(message: "lab up did not get ready: \(text) \(String(decoding: self.stderr.fileHandleForReading.availableData, as: UTF8.self))")
        }
    }

    struct LabUpError: Error { var message: String }

    /// The first word after `prefix` on the line that starts with it.
    func value(_ prefix: String) throws -> String {
        let line = try XCTUnwrap(self.text.split(separator: "\n").first { $0.hasPrefix(prefix) }, "no \(prefix) line in \(self.text)")
        return try XCTUnwrap(line.dropFirst(prefix.count).split(separator: " ").first.map(String.init))
    }

    var kubeconfig: String { get throws { try self.value("kubeconfig:") } }
    /// The route through ingress-nginx and through Envoy Gateway.
    var ingressURL: String { get throws { try self.value("ingress-nginx:") } }
    var gatewayURL: String { get throws { try self.value("envoy-gateway:") } }
    func url(_ profile: String) throws -> String { try self.value(profile + ":") }
    var ingressPort: Int { get throws { try XCTUnwrap(URL(string: try self.ingressURL)?.port) } }
    var gatewayPort: Int { get throws { try XCTUnwrap(URL(string: try self.gatewayURL)?.port) } }

    func stop() {
        if self.process.isRunning { self.process.terminate() }
        self.process.waitUntilExit()
    }

    deinit { self.stop() }
}
