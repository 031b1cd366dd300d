import FlapFakes
import FlapJSON
import Foundation
import HTTPWire
import KubeClient
import XCTest

/// Server semantics checked at the HTTP level, as any client would see them.
final class FakeKubeAPIServerTests: XCTestCase {
    private func request(_ server: FakeKubeAPIServer, _ method: String, _ path: String, body: JSONValue? = nil,
                         contentType: String = "application/json", headers: HTTPHeaders = [:]) async throws -> (Int, JSONValue) {
        var request = HTTPClientRequest(method: method, url: URL(string: server.url.absoluteString + path)!, headers: headers)
        if let body {
            request.headers.set("Content-Type", contentType)
            request.body = body.serializedBytes
        }
        let response = try await SocketHTTPClient().execute(request, deadline: .now + .seconds(5))
        return (response.status, (try? JSONValue.parse(response.body)) ?? .null)
    }

    private let routes = "/apis/gateway.networking.k8s.io/v1/namespaces/default/httproutes"

    private func route(_ spec: JSONValue) -> JSONValue {
        ["apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": ["name": "r"], "spec": spec]
    }

    func testHTTPRouteLimitsOfTheV130CRD() async throws {
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let backend: JSONValue = ["name": "s", "port": 80]
        let cases: [(JSONValue, String)] = [
            (["hostnames": .array((0..<17).map { .string("h\($0).example.com") })], "spec.hostnames"),
            (["hostnames": ["Not_A_Host"]], "spec.hostnames[0]"),
            (["parentRefs": .array((0..<33).map { _ in ["name": "gw"] })], "spec.parentRefs"),
            (["rules": .array((0..<17).map { _ in ["backendRefs": [backend]] })], "spec.rules"),
            (["rules": [["matches": .array((0..<65).map { _ in ["path": ["value": "/"]] })]]], "spec.rules[0].matches"),
            (["rules": .array((0..<2).map { _ in ["matches": .array((0..<64).map { _ in ["path": ["value": "/"]] })] })], "spec.rules"),
            (["rules": [["backendRefs": .array((0..<17).map { _ in backend })]]], "spec.rules[0].backendRefs"),
            (["rules": [["backendRefs": [["name": "s"]]]]], "spec.rules[0].backendRefs[0]"),
            (["rules": [["matches": [["path": ["type": "PathPrefix", "value": "no-slash"]]]]]], "spec.rules[0].matches[0].path"),
            (["rules": [["filters": [["type": "RequestRedirect", "requestRedirect": ["statusCode": 301]]], "backendRefs": [backend]]]], "spec.rules[0]"),
        ]
        for (spec, field) in cases {
            let (status, body) = try await self.request(server, "POST", self.routes, body: self.route(spec))
            XCTAssertEqual(status, 422, "\(field): \(body)")
            XCTAssertEqual(body["reason"], "Invalid")
            XCTAssertEqual(body["kind"], "Status")
            XCTAssertTrue(body["details"]?["causes"]?.arrayValue?.contains { $0["field"]?.stringValue == field } == true, "\(field): \(body)")
        }
        let (ok, created) = try await self.request(server, "POST", self.routes, body: self.route(["rules": [["backendRefs": [backend]]]]))
        XCTAssertEqual(ok, 201)
        XCTAssertEqual(created.value(at: "spec.rules")?.arrayValue?.first?["matches"], [["path": ["type": "PathPrefix", "value": "/"]]])
        let (empty, defaulted) = try await self.request(server, "POST", self.routes, body: ["apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
                                                                                           "metadata": ["name": "bare"], "spec": [:]])
        XCTAssertEqual(empty, 201)
        XCTAssertEqual(defaulted.value(at: "spec.rules"), [["matches": [["path": ["type": "PathPrefix", "value": "/"]]]]], "the CRD's rules default")
    }

    func testBearerTokenAuth() async throws {
        var configuration = FakeKubeAPIServer.Configuration()
        configuration.bearerToken = "t0ken"
        let server = try FakeKubeAPIServer(configuration: configuration)
        defer { server.stop() }
        let (denied, body) = try await self.request(server, "GET", "/api/v1/namespaces")
        XCTAssertEqual(denied, 401)
        XCTAssertEqual(body["reason"], "Unauthorized")
        let (allowed, _) = try await self.request(server, "GET", "/api/v1/namespaces", headers: ["Authorization": "Bearer t0ken"])
        XCTAssertEqual(allowed, 200)
    }

    func testDiscoveryAndUnknownPaths() async throws {
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let (_, version) = try await self.request(server, "GET", "/version")
        XCTAssertEqual(version["major"], "1")
        let (_, groups) = try await self.request(server, "GET", "/apis")
        XCTAssertEqual(Set(groups["groups"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []),
                       ["networking.k8s.io", "gateway.networking.k8s.io", "coordination.k8s.io", "authorization.k8s.io", "discovery.k8s.io"])
        let (_, core) = try await self.request(server, "GET", "/api/v1")
        XCTAssertTrue(core["resources"]?.arrayValue?.contains { $0["name"] == "configmaps" && $0["namespaced"] == true } == true)
        let (_, gateway) = try await self.request(server, "GET", "/apis/gateway.networking.k8s.io/v1")
        XCTAssertTrue(gateway["resources"]?.arrayValue?.contains { $0["name"] == "httproutes/status" } == true)
        let (missing, status) = try await self.request(server, "GET", "/apis/example.com/v1/widgets")
        XCTAssertEqual(missing, 404)
        XCTAssertEqual(status["message"], "the server could not find the requested resource")
        let (openapi, index) = try await self.request(server, "GET", "/openapi/v3")
        XCTAssertEqual(openapi, 200)
        XCTAssertNotNil(index.value(at: "paths")?["apis/gateway.networking.k8s.io/v1"]?["serverRelativeURL"])
        let (_, document) = try await self.request(server, "GET", "/openapi/v3/apis/networking.k8s.io/v1")
        let patch = document.value(at: "paths")?["/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"]?["patch"]
        XCTAssertTrue(patch?["parameters"]?.arrayValue?.contains { $0["name"] == "fieldValidation" } == true, "kubectl learns the server validates fields")
        XCTAssertEqual(patch?["x-kubernetes-group-version-kind"]?["kind"], "Ingress")
        let (v2, swagger) = try await self.request(server, "GET", "/openapi/v2")
        XCTAssertEqual(v2, 200)
        XCTAssertEqual(swagger["swagger"], "2.0")
        let httpRoute = swagger.value(at: "definitions")?["io.k8s.networking.gateway.v1.HTTPRoute"]
        XCTAssertEqual(httpRoute?["x-kubernetes-group-version-kind"], [["group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "version": "v1"]])
        XCTAssertEqual(httpRoute?.value(at: "properties.metadata.$ref"), "#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
                       "v3's components references become v2's definitions")
        XCTAssertFalse(swagger.serialized.contains("#/components/"))
        XCTAssertFalse(swagger.serialized.contains("x-kubernetes-validations"), "CEL rules are not in a v2 document, as on a real server")
    }

    func testApplyNeedsAFieldManagerAndForceOnlyWithApply() async throws {
        let server = try FakeKubeAPIServer()
        defer { server.stop() }
        let (noManager, body) = try await self.request(server, "PATCH", self.routes + "/r", body: self.route([:]), contentType: "application/apply-patch+yaml")
        XCTAssertEqual(noManager, 422)
        XCTAssertTrue(body["message"]?.stringValue?.contains("fieldManager: Required value") == true)
        let (created, _) = try await self.request(server, "PATCH", self.routes + "/r?fieldManager=t", body: self.route([:]),
                                                  contentType: "application/apply-patch+yaml")
        XCTAssertEqual(created, 201, "apply creates a missing object")
        let (forced, _) = try await self.request(server, "PATCH", self.routes + "/r?force=true", body: ["metadata": ["labels": ["a": "b"]]],
                                                 contentType: "application/merge-patch+json")
        XCTAssertEqual(forced, 422)
        let (unknownType, media) = try await self.request(server, "PATCH", self.routes + "/r", body: [:], contentType: "text/plain")
        XCTAssertEqual(unknownType, 415)
        XCTAssertEqual(media["reason"], "UnsupportedMediaType")
    }
}
