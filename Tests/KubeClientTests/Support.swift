import FlapFakes
import Foundation
import KubeClient
import XCTest

func fixturePath(_ name: String) throws -> String {
    let url = try XCTUnwrap(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Fixtures"), "fixture \(name)")
    return url.path
}

/// A scratch directory removed by the test.
final class TempDirectory {
    let path: String
    init() throws {
        self.path = NSTemporaryDirectory() + "flap-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: self.path, withIntermediateDirectories: true)
    }
    func write(_ name: String, _ text: String) throws -> String {
        let file = "\(self.path)/\(name)"
        try FileManager.default.createDirectory(atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: file, atomically: true, encoding: .utf8)
        return file
    }
    deinit { try? FileManager.default.removeItem(atPath: self.path) }
}

/// A fake API server and a client for it.
struct KubeHarness {
    let server: FakeKubeAPIServer
    let client: KubeClient

    init(configure: (inout FakeKubeAPIServer.Configuration) -> Void = { _ in }, credentials: KubeCredentials = .none) throws {
        var configuration = FakeKubeAPIServer.Configuration()
        configuration.bookmarkInterval = .milliseconds(200)
        configure(&configuration)
        self.server = try FakeKubeAPIServer(configuration: configuration)
        var clientConfiguration = KubeClient.Configuration(server: self.server.url)
        clientConfiguration.credentials = credentials
        clientConfiguration.sendCredentialsOverPlainHTTP = true
        self.client = KubeClient(configuration: clientConfiguration)
    }

    func stop() { self.server.stop() }
}

func sampleRoute(_ name: String = "trino", backends: [(String, Int)] = [("trino", 8080)]) -> HTTPRoute {
    var route = HTTPRoute(name: name, namespace: "default")
    route.spec.parentRefs = [ParentReference(name: "gw")]
    route.spec.hostnames = ["trino.example.com"]
    route.spec.rules = [HTTPRoute.Rule(backendRefs: backends.map { HTTPRoute.BackendRef(name: $0.0, port: $0.1) })]
    return route
}

func sampleIngress(_ name: String = "trino") -> Ingress {
    var ingress = Ingress(name: name, namespace: "default")
    ingress.spec.ingressClassName = "nginx"
    ingress.spec.rules = [Ingress.Rule(host: "trino.example.com", paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
    return ingress
}

extension XCTestCase {
    func statusError(_ body: () async throws -> Void, file: StaticString = #filePath, line: UInt = #line) async -> KubeStatusError? {
        do {
            try await body()
            XCTFail("expected a Status error", file: file, line: line)
        } catch let error as KubeStatusError {
            return error
        } catch {
            XCTFail("expected a Status error, got \(error)", file: file, line: line)
        }
        return nil
    }
}
