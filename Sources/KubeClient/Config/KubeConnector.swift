import FlapSystem
import Foundation
import HTTPWire

/// How the client reaches the API server.
public enum KubeTransportChoice: String, Sendable, CaseIterable {
    /// kubectl-proxy when the kubeconfig needs TLS material this platform's URLSession cannot apply, else direct.
    case auto
    /// URLSession for https (system trust store only on Linux), our sockets for http.
    case direct
    /// A `kubectl proxy` child on a loopback port does TLS and authentication; we speak plain HTTP to it.
    case kubectlProxy = "kubectl-proxy"
}

extension KubeClient {
    /// A client for a kubeconfig context, with the transport `choice` says.
    public static func connect(_ options: Kubeconfig.Options = Kubeconfig.Options(), transport choice: KubeTransportChoice = .auto,
                               kubectl: String? = nil) async throws -> KubeClient {
        let config = try Kubeconfig.load(options)
        let useProxy: Bool
        switch choice {
        case .direct: useProxy = false
        case .kubectlProxy: useProxy = true
        case .auto:
            #if os(Linux)
            useProxy = config.needsCustomTLS
            #else
            useProxy = config.user.clientCertificateData != nil || config.user.clientCertificateFile != nil
            #endif
        }
        if useProxy {
            let proxy = try await KubectlProxy.start(kubeconfigFiles: config.files, context: config.contextName, kubectl: kubectl)
            if choice == .auto {
                FileHandle.standardError.write(Data("flap: this kubeconfig needs TLS settings URLSession cannot apply on Linux (custom CA, client certificate or skip-verify); talking to the API through `kubectl proxy` on \(proxy.url)\n".utf8))
            }
            var configuration = KubeClient.Configuration(server: proxy.url)
            configuration.clusterServer = config.cluster.server
            configuration.defaultNamespace = config.namespace
            return KubeClient(configuration: configuration, onShutdown: { proxy.stop() })
        }
        var configuration = KubeClient.Configuration(server: config.cluster.server)
        configuration.defaultNamespace = config.namespace
        configuration.credentials = config.credentials
        return KubeClient(configuration: configuration)
    }
}

/// A `kubectl proxy` child process bound to a loopback port, stopped with the client.
public final class KubectlProxy: Sendable {
    public let url: URL
    private let process: ProcessBox

    init(url: URL, process: Process) {
        self.url = url
        self.process = ProcessBox(process)
    }

    public static func start(kubeconfigFiles: [String], context: String, kubectl: String? = nil) async throws -> KubectlProxy {
        guard let executable = kubectl ?? ProcessLauncher.which("kubectl") else {
            throw KubeconfigError.kubectlProxy("kubectl is not on PATH; install it, or use a kubeconfig whose TLS settings URLSession can apply")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["proxy", "--port=0", "--address=127.0.0.1", "--context=\(context)", "--kubeconfig=\(kubeconfigFiles.joined(separator: ":"))"]
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        do {
            try ProcessLauncher.start(process)
        } catch {
            throw KubeconfigError.kubectlProxy("cannot start \(executable): \(error.localizedDescription)")
        }
        let line = await Blocking.run { ProcessLauncher.readLine(output.fileHandleForReading) }
        // "Starting to serve on 127.0.0.1:PORT"
        guard let line, let address = line.split(separator: " ").last, let url = URL(string: "http://\(address)"), url.port != nil else {
            process.terminate()
            process.waitUntilExit()
            let message = String(decoding: errors.fileHandleForReading.availableData.prefix(500), as: UTF8.self)
            throw KubeconfigError.kubectlProxy("did not start: \(message.isEmpty ? (line ?? "no output") : message)")
        }
        return KubectlProxy(url: url, process: process)
    }

    public func stop() { self.process.stop() }
    deinit { self.process.stop() }
}

final class ProcessBox: @unchecked Sendable {
    private let lock = NSLock()
    private var process: Process?
    init(_ process: Process) { self.process = process }
    func stop() {
        guard let process = self.lock.withLock({ () -> Process? in defer { self.process = nil }; return self.process }) else { return }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
    }
}
