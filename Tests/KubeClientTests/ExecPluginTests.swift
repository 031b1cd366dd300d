import FlapFakes
import FlapJSON
import Foundation
import KubeClient
import XCTest

final class ExecPluginTests: XCTestCase {
    /// A kubeconfig whose user runs the scripted plugin against `server`.
    private func kubeconfig(_ dir: TempDirectory, server: URL, version: String = "client.authentication.k8s.io/v1beta1",
                            answer: String? = nil, tokens: String, expiry: String? = nil, mode: String? = nil) throws -> String {
        let script = try dir.write("bin/plugin.sh", try String(contentsOfFile: try fixturePath("exec-plugin.sh"), encoding: .utf8))
        chmod(script, 0o755)
        var env = "[{name: PLUGIN_STATE, value: \(dir.path)}, {name: PLUGIN_VERSION, value: \(answer ?? version)}, {name: PLUGIN_TOKENS, value: \"\(tokens)\"}"
        if let expiry { env += ", {name: PLUGIN_EXPIRY, value: \"\(expiry)\"}" }
        env += "]"
        return try dir.write("config", """
        apiVersion: v1
        kind: Config
        clusters:
        - name: fake
          cluster:
            server: \(server.absoluteString)
            extensions:
            - name: client.authentication.k8s.io/exec
              extension: {audience: flap}
        users:
        - name: plugin
          user:
            exec:
              apiVersion: \(version)
              command: ./bin/plugin.sh
              args: [--cluster, fake]
              env: \(env)
              provideClusterInfo: true
        \(mode.map { "      interactiveMode: \($0)" } ?? "")
        contexts: [{name: fake, context: {cluster: fake, user: plugin}}]
        current-context: fake
        """)
    }

    private func runs(_ dir: TempDirectory) -> Int {
        Int((try? String(contentsOfFile: "\(dir.path)/runs", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "0") ?? 0
    }

    private func client(_ config: ResolvedKubeconfig) -> KubeClient {
        var configuration = KubeClient.Configuration(server: config.cluster.server)
        configuration.credentials = config.credentials
        configuration.sendCredentialsOverPlainHTTP = true
        return KubeClient(configuration: configuration)
    }

    func testCredentialIsCachedAndPluginSeesExecInfoArgsAndEnv() async throws {
        let dir = try TempDirectory()
        let harness = try KubeHarness { $0.bearerToken = "good" }
        defer { harness.stop() }
        let config = try Kubeconfig.load(.init(kubeconfigPath: try self.kubeconfig(dir, server: harness.server.url, tokens: "good"), environment: [:]))
        let client = self.client(config)
        _ = try await client.list(.namespace)
        _ = try await client.list(.namespace)
        XCTAssertEqual(self.runs(dir), 1, "no expiry: the credential is cached")
        let info = try JSONValue.parse(try String(contentsOfFile: "\(dir.path)/exec-info.json", encoding: .utf8))
        XCTAssertEqual(info["kind"], "ExecCredential")
        XCTAssertEqual(info["apiVersion"], "client.authentication.k8s.io/v1beta1")
        XCTAssertEqual(info["spec"]?["interactive"], false)
        XCTAssertEqual(info["spec"]?["cluster"]?["server"], .string(harness.server.url.absoluteString))
        XCTAssertEqual(info["spec"]?["cluster"]?["config"], ["audience": "flap"])
        XCTAssertEqual(try String(contentsOfFile: "\(dir.path)/args", encoding: .utf8), "--cluster\nfake\n")
    }

    func testExpiredCredentialsAreFetchedAgain() async throws {
        let dir = try TempDirectory()
        let harness = try KubeHarness { $0.bearerToken = "good" }
        defer { harness.stop() }
        let path = try self.kubeconfig(dir, server: harness.server.url, tokens: "good", expiry: "2020-01-01T00:00:00Z")
        let client = self.client(try Kubeconfig.load(.init(kubeconfigPath: path, environment: [:])))
        _ = try await client.list(.namespace)
        _ = try await client.list(.namespace)
        XCTAssertEqual(self.runs(dir), 2)
    }

    func testPluginRunsAgainAfterA401AndTheRequestSucceeds() async throws {
        let dir = try TempDirectory()
        let harness = try KubeHarness { $0.bearerToken = "fresh" }
        defer { harness.stop() }
        let path = try self.kubeconfig(dir, server: harness.server.url, tokens: "stale fresh", expiry: "2099-01-01T00:00:00.123Z")
        let client = self.client(try Kubeconfig.load(.init(kubeconfigPath: path, environment: [:])))
        let list = try await client.list(.namespace)
        XCTAssertEqual(list.items.count, 3)
        XCTAssertEqual(self.runs(dir), 2, "one run for the stale token, one after the 401")
    }

    func testVersionMismatchIsRefusedWithKubectlsMessage() async throws {
        let dir = try TempDirectory()
        let harness = try KubeHarness()
        defer { harness.stop() }
        let path = try self.kubeconfig(dir, server: harness.server.url, version: "client.authentication.k8s.io/v1",
                                       answer: "client.authentication.k8s.io/v1beta1", tokens: "t", mode: "Never")
        let client = self.client(try Kubeconfig.load(.init(kubeconfigPath: path, environment: [:])))
        do {
            _ = try await client.list(.namespace)
            XCTFail("expected the mismatch")
        } catch let error as KubeconfigError {
            XCTAssertEqual(error, .execFailed(command: "./bin/plugin.sh",
                                              reason: "exec plugin is configured to use API version client.authentication.k8s.io/v1, plugin returned version client.authentication.k8s.io/v1beta1"))
        }
    }

    func testMissingPluginNamesTheInstallHint() async throws {
        var configuration = ExecPlugin.Configuration(command: "definitely-not-installed-plugin", apiVersion: "client.authentication.k8s.io/v1beta1")
        configuration.installHint = "Install it from example.com."
        do {
            _ = try await ExecPlugin(configuration).credential()
            XCTFail()
        } catch let error as KubeconfigError {
            XCTAssertEqual(error, .execFailed(command: "definitely-not-installed-plugin", reason: "not found on PATH. Install it from example.com."))
        }
    }

    func testCredentialsAreNotSentOverPlainHTTPUnlessAllowed() async throws {
        let harness = try KubeHarness { $0.bearerToken = "secret-token" }
        defer { harness.stop() }
        var configuration = KubeClient.Configuration(server: harness.server.url)
        configuration.credentials = KubeCredentials(.bearer("secret-token"))
        let client = KubeClient(configuration: configuration)
        let error = await self.statusError { _ = try await client.list(.namespace) }
        XCTAssertEqual(error?.reason, .unauthorized, "client-go's rule: no credentials over http")
        XCTAssertFalse("\(String(describing: error))".contains("secret-token"))
    }
}
