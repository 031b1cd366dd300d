import Foundation
import KubeClient
import XCTest

final class KubeconfigTests: XCTestCase {
    private func load(_ fixture: String, context: String? = nil) throws -> ResolvedKubeconfig {
        try Kubeconfig.load(Kubeconfig.Options(kubeconfigPath: try fixturePath(fixture), context: context, environment: [:]))
    }

    func testKindShape() throws {
        let config = try self.load("kind.yaml")
        XCTAssertEqual(config.contextName, "kind-flap")
        XCTAssertEqual(config.cluster.server.absoluteString, "https://127.0.0.1:40123")
        XCTAssertTrue(String(decoding: config.cluster.certificateAuthorityData ?? Data(), as: UTF8.self).hasPrefix("-----BEGIN CERTIFICATE-----"))
        XCTAssertNotNil(config.user.clientCertificateData)
        XCTAssertNotNil(config.user.clientKeyData)
        XCTAssertEqual(config.namespace, "default")
        XCTAssertTrue(config.needsCustomTLS, "a custom CA and client certificates need kubectl-proxy on Linux")
    }

    func testMinikubeShapeResolvesRelativePathsAgainstTheFile() throws {
        let config = try self.load("minikube.yaml")
        let directory = (try fixturePath("minikube.yaml") as NSString).deletingLastPathComponent
        XCTAssertEqual(config.cluster.certificateAuthorityFile, "\(directory)/certs/ca.crt")
        XCTAssertEqual(config.user.clientCertificateFile, "\(directory)/profiles/minikube/client.crt")
        XCTAssertEqual(config.namespace, "trino")
    }

    func testEKSShapeUsesAnExecPlugin() throws {
        let config = try self.load("eks.yaml")
        let exec = try XCTUnwrap(config.user.exec)
        XCTAssertEqual(exec.command, "aws")
        XCTAssertEqual(exec.apiVersion, "client.authentication.k8s.io/v1beta1")
        XCTAssertEqual(exec.args, ["--region", "eu-west-1", "eks", "get-token", "--cluster-name", "flap", "--output", "json"])
        XCTAssertEqual(exec.env, ["AWS_PROFILE": "platform"])
        XCTAssertEqual(exec.interactiveMode, "IfAvailable", "v1beta1 without interactiveMode means IfAvailable")
        guard case .exec = config.credentials.kind else { return XCTFail() }
    }

    func testGKEShapeProvidesClusterInfo() throws {
        let config = try self.load("gke.yaml")
        XCTAssertEqual(config.user.exec?.provideClusterInfo, true)
        XCTAssertTrue(config.user.exec?.installHint?.contains("gke-gcloud-auth-plugin") == true)
        guard case .exec(let plugin) = config.credentials.kind else { return XCTFail() }
        XCTAssertEqual(plugin.configuration.cluster?["server"], "https://34.76.1.2")
        XCTAssertEqual(plugin.configuration.cluster?["certificate-authority-data"], "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg==")
    }

    func testAKSShapeWithNullEnvAndBlockScalarHint() throws {
        let config = try self.load("aks.yaml")
        XCTAssertEqual(config.user.exec?.command, "kubelogin")
        XCTAssertEqual(config.user.exec?.env, [:])
        XCTAssertEqual(config.user.exec?.args.last, "devicecode")
        XCTAssertEqual(config.cluster.server.port, 443)
    }

    func testTokenTokenFileAndBasicCredentials() async throws {
        let dir = try TempDirectory()
        let tokenFile = try dir.write("token", "first-token\n")
        let file = try dir.write("config", """
        apiVersion: v1
        kind: Config
        clusters: [{name: c, cluster: {server: "https://api.example:6443"}}]
        users:
        - {name: t, user: {token: static-token}}
        - {name: f, user: {tokenFile: token}}
        - {name: b, user: {username: admin, password: s3cret}}
        contexts:
        - {name: t, context: {cluster: c, user: t}}
        - {name: f, context: {cluster: c, user: f, namespace: ops}}
        - {name: b, context: {cluster: c, user: b}}
        current-context: t
        """)
        let token = try Kubeconfig.load(.init(kubeconfigPath: file, environment: [:]))
        let header = try await token.credentials.authorizationHeader()
        XCTAssertEqual(header, "Bearer static-token")
        let fromFile = try Kubeconfig.load(.init(kubeconfigPath: file, context: "f", environment: [:]))
        XCTAssertEqual(fromFile.user.tokenFile, tokenFile)
        XCTAssertEqual(fromFile.namespace, "ops")
        let credentials = fromFile.credentials
        let first = try await credentials.authorizationHeader()
        XCTAssertEqual(first, "Bearer first-token")
        try "rotated-token".write(toFile: tokenFile, atomically: true, encoding: .utf8)
        _ = try await credentials.refreshAfterUnauthorized()
        let rotated = try await credentials.authorizationHeader()
        XCTAssertEqual(rotated, "Bearer rotated-token", "the token file is read again")
        let basic = try Kubeconfig.load(.init(kubeconfigPath: file, context: "b", namespace: "override", environment: [:]))
        let basicHeader = try await basic.credentials.authorizationHeader()
        XCTAssertEqual(basicHeader, "Basic " + Data("admin:s3cret".utf8).base64EncodedString())
        XCTAssertEqual(basic.namespace, "override")
        XCTAssertFalse(basic.credentials.description.contains("s3cret"))
        XCTAssertFalse(token.credentials.description.contains("static-token"))
    }

    func testMergedKubeconfigFilesFirstValueWins() throws {
        let dir = try TempDirectory()
        let a = try dir.write("a", """
        clusters: [{name: shared, cluster: {server: "https://first:6443"}}]
        users: [{name: u, user: {token: from-a}}]
        contexts: [{name: ctx-a, context: {cluster: shared, user: u}}]
        current-context: ctx-a
        """)
        let b = try dir.write("b", """
        clusters: [{name: shared, cluster: {server: "https://second:6443"}}, {name: only-b, cluster: {server: "https://b:6443"}}]
        users: [{name: u, user: {token: from-b, username: ignored}}]
        contexts: [{name: ctx-b, context: {cluster: only-b, user: u, namespace: nb}}]
        current-context: ctx-b
        """)
        let environment = ["KUBECONFIG": "\(a):\(dir.path)/missing:\(b)"]
        let merged = try Kubeconfig.load(.init(environment: environment))
        XCTAssertEqual(merged.contextName, "ctx-a", "the first current-context wins")
        XCTAssertEqual(merged.cluster.server.host, "first")
        XCTAssertEqual(merged.user.token, "from-a", "the first file's user entry wins whole")
        let other = try Kubeconfig.load(.init(context: "ctx-b", environment: environment))
        XCTAssertEqual(other.cluster.server.host, "b")
        XCTAssertEqual(other.namespace, "nb")
        XCTAssertEqual(other.files, [a, b])
    }

    func testInClusterConfiguration() throws {
        let dir = try TempDirectory()
        _ = try dir.write("token", "sa-token")
        _ = try dir.write("namespace", "flap-system\n")
        let resolved = try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "fd00::1", "KUBERNETES_SERVICE_PORT": "443"], directory: dir.path)
        XCTAssertEqual(resolved.server.absoluteString, "https://[fd00::1]:443")
        XCTAssertEqual(resolved.namespace, "flap-system")
        XCTAssertEqual(resolved.tokenFile, "\(dir.path)/token")
        let fromEnv = try InClusterConfig.load(environment: ["KUBERNETES_SERVICE_HOST": "10.0.0.1", "KUBERNETES_SERVICE_PORT": "443",
                                                             "POD_NAMESPACE": "override"], directory: dir.path)
        XCTAssertEqual(fromEnv.namespace, "override")
        XCTAssertThrowsError(try InClusterConfig.load(environment: [:], directory: dir.path)) { error in
            XCTAssertEqual((error as? KubeconfigError)?.code, .notInCluster, "\(error)")
        }
    }

    func testBadKubeconfigsGiveSpecificErrors() throws {
        let dir = try TempDirectory()
        let cluster = #"clusters: [{name: c, cluster: {server: "https://api:6443"}}]"#
        let context = "contexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x"
        let cases: [(String, KubeconfigError)] = [
            ("\(cluster)\nusers: [{name: u, user: {}}]\n\(context)\n".replacingOccurrences(of: "current-context: x", with: "current-context: nope"),
             .contextNotFound("nope", available: ["x"])),
            ("\(cluster)\nusers: [{name: u, user: {}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n", .noContext),
            ("clusters: [{name: c, cluster: {server: \"https://api:6443\", certificate-authority-data: \"!!notbase64!!\"}}]\nusers: [{name: u, user: {}}]\n\(context)",
             .badBase64(field: "certificate-authority-data", entry: "c")),
            ("clusters: [{name: c, cluster: {server: \"https://api:6443\", certificate-authority-data: \"QQ==\", certificate-authority: /ca}}]\nusers: [{name: u, user: {}}]\n\(context)",
             .bothDataAndPath(field: "certificate-authority", entry: "c")),
            ("\(cluster)\nusers: [{name: u, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1alpha1}}}]\n\(context)",
             .unsupportedExecVersion(user: "u", version: "client.authentication.k8s.io/v1alpha1")),
            ("\(cluster)\nusers: [{name: u, user: {exec: {command: x, apiVersion: client.authentication.k8s.io/v1}}}]\n\(context)",
             .execInvalid(user: "u", message: "interactiveMode must be specified for client.authentication.k8s.io/v1")),
            ("\(cluster)\nusers: [{name: u, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1}}}]\n\(context)",
             .execInvalid(user: "u", message: "command must be specified")),
            ("\(cluster)\nusers: [{name: u, user: {token: t, username: a, password: b}}]\n\(context)", .multipleAuthMethods(user: "u")),
            ("\(cluster)\nusers: [{name: u, user: {auth-provider: {name: gcp}}}]\n\(context)", .unsupportedAuthProvider(user: "u", name: "gcp")),
            ("clusters: [{name: c, cluster: {}}]\nusers: [{name: u, user: {}}]\n\(context)", .noServer(cluster: "c")),
            ("clusters: []\nusers: [{name: u, user: {}}]\n\(context)", .clusterNotFound(cluster: "c", context: "x")),
            ("\(cluster)\nusers: []\n\(context)", .userNotFound(user: "u", context: "x")),
        ]
        for (index, (text, expected)) in cases.enumerated() {
            let file = try dir.write("bad-\(index)", text)
            XCTAssertThrowsError(try Kubeconfig.load(.init(kubeconfigPath: file, environment: [:])), text) { error in
                XCTAssertEqual(error as? KubeconfigError, expected, text)
            }
        }
        let malformed = try dir.write("malformed", "clusters:\n- name: c\n  cluster: {server: [unclosed\n")
        XCTAssertThrowsError(try Kubeconfig.load(.init(kubeconfigPath: malformed, environment: [:]))) { error in
            XCTAssertEqual((error as? KubeconfigError)?.code, .malformed, "\(error)")
            XCTAssertTrue("\(error)".contains("\(malformed):3:"), "the file and line of the YAML error: \(error)")
        }
        XCTAssertThrowsError(try Kubeconfig.load(.init(kubeconfigPath: "\(dir.path)/absent", environment: [:]))) { error in
            XCTAssertEqual(error as? KubeconfigError, .unreadableFile(path: "\(dir.path)/absent", purpose: "kubeconfig", reason: "no such file"))
        }
        XCTAssertThrowsError(try Kubeconfig.load(.init(environment: ["HOME": dir.path]))) { error in
            XCTAssertEqual(error as? KubeconfigError, .noConfiguration(searched: ["\(dir.path)/.kube/config"]))
        }
    }
}
