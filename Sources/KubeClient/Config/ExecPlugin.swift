import FlapJSON
import FlapSystem
import Foundation

/// A kubeconfig `user.exec` credential plugin (client.authentication.k8s.io v1 and v1beta1), run the way
/// client-go runs it: `KUBERNETES_EXEC_INFO` set, `env` added to ours, stderr passed through, the credential
/// cached until `expirationTimestamp`, and re-run after a 401.
public final class ExecPlugin: Sendable {
    public struct Configuration: Sendable, Equatable {
        public var command: String
        public var args: [String] = []
        public var env: [String: String] = [:]
        public var apiVersion: String
        public var interactiveMode: String?
        public var provideClusterInfo = false
        /// `spec.cluster` for KUBERNETES_EXEC_INFO when `provideClusterInfo` is set.
        public var cluster: JSONValue?
        /// Where a relative command with a path separator resolves.
        public var baseDirectory: String?
        public var installHint: String?

        public init(command: String, apiVersion: String) {
            self.command = command
            self.apiVersion = apiVersion
        }
    }

    public struct Credential: Sendable, Equatable {
        public var token: String?
        public var clientCertificatePEM: String?
        public var clientKeyPEM: String?
        public var expiration: Date?
    }

    public static let supportedVersions = ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"]

    public let configuration: Configuration
    private let cached = Locked<Credential?>(nil)
    private let runs = Locked<Int?>(nil)

    public init(_ configuration: Configuration) { self.configuration = configuration }

    /// How many times the plugin has run (for tests and diagnostics).
    public var runCount: Int { self.runs.value ?? 0 }

    public func credential(forceRefresh: Bool = false) async throws -> Credential {
        if !forceRefresh, let credential = self.cached.value, credential.expiration.map({ $0 > Date() }) ?? true {
            return credential
        }
        let configuration = self.configuration
        let credential = try await Blocking.run { try Self.run(configuration) }
        self.cached.value = credential
        self.runs.value = self.runCount + 1
        return credential
    }

    /// The JSON passed in KUBERNETES_EXEC_INFO.
    static func execInfo(_ configuration: Configuration, interactive: Bool) -> JSONValue {
        var spec: [String: JSONValue] = ["interactive": .bool(interactive)]
        if configuration.provideClusterInfo, let cluster = configuration.cluster { spec["cluster"] = cluster }
        return ["kind": "ExecCredential", "apiVersion": .string(configuration.apiVersion), "spec": .object(spec)]
    }

    private static func run(_ configuration: Configuration) throws -> Credential {
        let executable = try self.resolve(configuration)
        let interactive = configuration.interactiveMode != "Never" && isatty(0) == 1
        if configuration.interactiveMode == "Always" && !interactive {
            throw KubeconfigError.execFailed(command: configuration.command, reason: "interactiveMode Always needs a terminal on stdin")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = configuration.args
        var environment = ProcessInfo.processInfo.environment
        for (name, value) in configuration.env { environment[name] = value }
        environment["KUBERNETES_EXEC_INFO"] = self.execInfo(configuration, interactive: interactive).serialized
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        process.standardInput = interactive ? FileHandle.standardInput : FileHandle.nullDevice
        do {
            try ProcessLauncher.start(process)
        } catch {
            throw KubeconfigError.execFailed(command: configuration.command, reason: "cannot start: \(error.localizedDescription)"
                                             + (configuration.installHint.map { ". \($0)" } ?? ""))
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw KubeconfigError.execFailed(command: configuration.command, reason: "exited with status \(process.terminationStatus)")
        }
        return try self.decode(data, configuration: configuration)
    }

    static func decode(_ data: Data, configuration: Configuration) throws -> Credential {
        let command = configuration.command
        guard let json = try? JSONValue.parse([UInt8](data)) else {
            throw KubeconfigError.execFailed(command: command, reason: "did not print an ExecCredential as JSON")
        }
        guard json["kind"]?.stringValue == "ExecCredential" else {
            throw KubeconfigError.execFailed(command: command, reason: "printed kind \(json["kind"]?.stringValue ?? "none"), not ExecCredential")
        }
        let version = json["apiVersion"]?.stringValue ?? ""
        guard version == configuration.apiVersion else {
            throw KubeconfigError.execFailed(command: command,
                                             reason: "exec plugin is configured to use API version \(configuration.apiVersion), plugin returned version \(version)")
        }
        guard let status = json["status"], status.objectValue != nil else {
            throw KubeconfigError.execFailed(command: command, reason: "ExecCredential has no status")
        }
        let credential = Credential(token: status["token"]?.stringValue, clientCertificatePEM: status["clientCertificateData"]?.stringValue,
                                    clientKeyPEM: status["clientKeyData"]?.stringValue,
                                    expiration: try status["expirationTimestamp"]?.stringValue.map { text in
                                        guard let date = RFC3339.parse(text) else {
                                            throw KubeconfigError.execFailed(command: command, reason: "expirationTimestamp \"\(text)\" is not RFC 3339")
                                        }
                                        return date
                                    })
        guard credential.token != nil || credential.clientCertificatePEM != nil else {
            throw KubeconfigError.execFailed(command: command, reason: "ExecCredential status has neither a token nor a client certificate")
        }
        guard (credential.clientCertificatePEM == nil) == (credential.clientKeyPEM == nil) else {
            throw KubeconfigError.execFailed(command: command, reason: "client certificate and key must come together")
        }
        return credential
    }

    /// Relative paths with a separator resolve against the kubeconfig's directory; bare names go through PATH.
    static func resolve(_ configuration: Configuration) throws -> String {
        let command = configuration.command
        if command.hasPrefix("/") { return command }
        if command.contains("/") {
            return URL(fileURLWithPath: command, relativeTo: URL(fileURLWithPath: configuration.baseDirectory ?? ".", isDirectory: true)).path
        }
        guard let found = ProcessLauncher.which(command) else {
            throw KubeconfigError.execFailed(command: command, reason: "not found on PATH" + (configuration.installHint.map { ". \($0)" } ?? ""))
        }
        return found
    }
}

enum RFC3339 {
    static func parse(_ text: String) -> Date? {
        let plain = ISO8601DateFormatter()
        if let date = plain.date(from: text) { return date }
        let fractional = ISO8601DateFormatter()
        fractional.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return fractional.date(from: text)
    }

    static func format(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }
}
