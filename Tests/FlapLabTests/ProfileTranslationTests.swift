@testable import FlapLab
import FlapJSON
import FlapSystem
import Foundation
import KubeClient
import XCTest

/// Each profile's translation of the same objects, against golden configurations (Tests/FlapLabTests/Golden;
/// `FLAP_UPDATE_GOLDEN=1 swift test --filter ProfileTranslationTests` rewrites them, then read the diff), and the
/// mechanics each product's translation implies.
final class ProfileTranslationTests: XCTestCase {
    /// The objects in Golden/objects.yaml, as the lab's controllers see them.
    static func objects() -> (ingresses: [Ingress], routes: [HTTPRoute], backends: LabBackends) {
        let objects = try! Manifests.load(path: "\(self.goldenDirectory)/objects.yaml")
        let services = objects.filter { $0.kind == "Service" }
        let pods = objects.filter { $0.kind == "Pod" }
        let backends = LabBackends(services: services, slices: EndpointSliceDerivation.slices(services: services, pods: pods))
        return (objects.filter { $0.kind == "Ingress" }.map { Ingress(json: $0.json) }, objects.filter { $0.kind == "HTTPRoute" }.map { HTTPRoute(json: $0.json) },
                backends)
    }

    static var goldenDirectory: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Golden").path
    }

    static func rendered(_ profile: LabProfile) -> String {
        let (ingresses, routes, backends) = self.objects()
        switch profile {
        case .ingressNginx: return NginxConfigRenderer(prefix: "/lab/ingress-nginx", port: 30001).render(ingresses: ingresses, backends: backends)
        case .nginxGatewayFabric: return NginxGatewayFabricTranslator(prefix: "/lab/nginx-gateway-fabric", port: 30002).render(routes: routes, backends: backends)
        case .envoyGateway: return self.pretty(EnvoyGatewayTranslator().translate(routes: routes, backends: backends))
        case .contour: return self.pretty(ContourTranslator().translate(ingresses: ingresses, backends: backends))
        case .haproxy, .haproxyGateway: return self.haproxy(profile, directory: "/lab/\(profile.rawValue)").text
        }
    }

    /// An HAProxy profile's haproxy.cfg (slots laid out as at start) and its service map.
    static func haproxy(_ profile: LabProfile, directory: String) -> (text: String, map: String) {
        let (ingresses, routes, backends) = self.objects()
        let translator = HAProxyTranslator(directory: directory, port: 30005)
        let configuration = profile.api == .ingress ? translator.translate(ingresses: ingresses, httpRoutes: [], backends: backends)
            : translator.translate(ingresses: [], httpRoutes: routes, backends: backends)
        var slots = HAProxySlots()
        _ = slots.fit(configuration, previous: nil)
        return (slots.render(configuration), slots.serviceMap())
    }

    static func pretty(_ resources: EnvoyResources) -> String {
        let document: JSONValue = ["routes": resources.routes, "clusters": .array(resources.clusters),
                                   "assignments": .object(resources.assignments)]
        let data = try! JSONSerialization.data(withJSONObject: JSONSerialization.jsonObject(with: Data(document.serializedBytes)),
                                               options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    func testEachProfileTranslatesTheSameObjectsAsItsProductDoes() throws {
        let update = ProcessInfo.processInfo.environment["FLAP_UPDATE_GOLDEN"] == "1"
        for profile in LabProfile.allCases {
            let path = "\(Self.goldenDirectory)/\(profile.rawValue).\([.nginx: "conf", .envoy: "json", .haproxy: "cfg"][profile.proxy]!)"
            let text = Self.rendered(profile)
            if update { try text.write(toFile: path, atomically: true, encoding: .utf8) }
            let golden = try String(contentsOfFile: path, encoding: .utf8)
            XCTAssertEqual(text, golden, "\(profile.rawValue) differs from \(path)")
        }
    }

    func testEnvoyGatewayNamesClustersPerRuleAndWeighsBackendsAsLocalities() throws {
        let (_, routes, backends) = Self.objects()
        let resources = EnvoyGatewayTranslator().translate(routes: routes, backends: backends)
        XCTAssertEqual(resources.clusters.compactMap { $0["name"]?.stringValue }, ["httproute/default/trino/rule/0", "httproute/default/trino/rule/2"],
                       "a cluster per rule; rule 1's only backend is invalid, so it has none")
        let weighted = try XCTUnwrap(resources.assignments["httproute/default/trino/rule/0"]?["endpoints"]?.arrayValue)
        XCTAssertEqual(weighted.compactMap { $0["load_balancing_weight"]?.intValue }, [90, 10])
        XCTAssertEqual(weighted.map { $0["lb_endpoints"]?.arrayValue?.count }, [2, 2], "each backend's endpoints in its locality")
        let routeEntries = try XCTUnwrap(resources.routes.arrayValue?.first?["virtual_hosts"]?.arrayValue?.first?["routes"]?.arrayValue)
        XCTAssertEqual(routeEntries.first { $0["name"] == "httproute/default/trino/rule/1/match/0" }?["direct_response"], ["status": 500])
        XCTAssertEqual(resources.assignments["httproute/default/trino/rule/2"]?["endpoints"], [["lb_endpoints": []]], "no endpoints: Envoy answers 503")

        // Swapping a rule's backend keeps the cluster's name (only its endpoints change: no cluster_not_found
        // window), while reordering rules renames the clusters the routes point to (envoyproxy/gateway#9029).
        var swapped = routes[0]
        swapped.spec.rules[0].backendRefs = [HTTPRoute.BackendRef(name: "trino-b", port: 8080)]
        let afterSwap = EnvoyGatewayTranslator().translate(routes: [swapped], backends: backends)
        XCTAssertEqual(afterSwap.clusters.compactMap { $0["name"]?.stringValue }, resources.clusters.compactMap { $0["name"]?.stringValue })
        XCTAssertNotEqual(afterSwap.assignments["httproute/default/trino/rule/0"], resources.assignments["httproute/default/trino/rule/0"])
        var reordered = routes[0]
        reordered.spec.rules = [routes[0].spec.rules[2], routes[0].spec.rules[0]]
        let afterReorder = EnvoyGatewayTranslator().translate(routes: [reordered], backends: backends)
        let weightedNow = afterReorder.assignments["httproute/default/trino/rule/1"]?["endpoints"]?.arrayValue?.count
        XCTAssertEqual(weightedNow, 2, "the weighted backends now live in rule/1's cluster")
    }

    func testContourAndTheNginxProfilesAnswerForMissingAndEmptyServicesAsTheirProductsDo() throws {
        let contour = Self.rendered(.contour)
        XCTAssertTrue(contour.contains("\"default/trino/8080/da39a3ee5e\""), "Contour's cluster name: namespace/service/port/hash")
        XCTAssertTrue(contour.contains("\"status\" : 503"), "a path to a missing Service is a 503")
        let ngf = Self.rendered(.nginxGatewayFabric)
        XCTAssertTrue(ngf.contains("split_clients $request_id $group_default__trino_rule0"), ngf)
        XCTAssertTrue(ngf.contains("90.00% default_trino_8080;") && ngf.contains("* default_trino-b_8080;"), "weights in a split")
        XCTAssertTrue(ngf.contains("proxy_pass http://invalid-backend-ref$request_uri;"), "the missing Service goes to the 500 stub")
        XCTAssertTrue(ngf.contains("server unix:/lab/nginx-gateway-fabric/run/nginx-503-server.sock;"), "the empty Service to the 503 stub")
        let ingressNginx = Self.rendered(.ingressNginx)
        XCTAssertTrue(ingressNginx.contains("return 503 \"no endpoints for service default/missing"), ingressNginx)
    }

    func testHAProxyConfigurationsPassHAProxysOwnCheck() throws {
        let binary = try XCTUnwrap(LabBinaries.findHAProxy(), "HAProxy is installed (scripts/lab-deps)")
        for profile in [LabProfile.haproxy, .haproxyGateway] {
            let directory = NSTemporaryDirectory() + "flap-haproxy-check-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: directory + "/conf", withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let (text, map) = Self.haproxy(profile, directory: directory)
            try text.write(toFile: directory + "/conf/haproxy.cfg", atomically: true, encoding: .utf8)
            try map.write(toFile: directory + "/conf/services.map", atomically: true, encoding: .utf8)
            let check = try ProcessLauncher.run(binary, ["-c", "-f", directory + "/conf/haproxy.cfg"])
            XCTAssertEqual(check.status, 0, "\(profile.rawValue): \(check.stderr)")
        }
    }

    /// HAProxy's controllers move servers in and out of slots through the runtime API; anything else reloads.
    func testHAProxyChangesServersAtRuntimeAndReloadsForAnythingElse() throws {
        let (_, routes, backends) = Self.objects()
        let translator = HAProxyTranslator(directory: "/lab/haproxy-gateway", port: 30005)
        let initial = translator.translate(ingresses: [], httpRoutes: routes, backends: backends)
        var slots = HAProxySlots()
        XCTAssertEqual(slots.fit(initial, previous: nil), .reload, "the first configuration is loaded")
        let rule0 = try XCTUnwrap(initial.backends.first { $0.name == "default_trino_rule0" })
        XCTAssertEqual(rule0.servers.map(\.weight), [90, 90, 10, 10], "each server carries its backendRef's weight")
        XCTAssertEqual(slots.slots["default_trino_rule0"]?.count, HAProxySlots.slotIncrement, "slots come in haproxytech's increments")

        // Dropping the weighted-out backend: its servers leave their slots, at runtime.
        var dropped = routes[0]
        dropped.spec.rules[0].backendRefs.removeLast()
        let afterDrop = translator.translate(ingresses: [], httpRoutes: [dropped], backends: backends)
        guard case .runtime(let commands) = slots.fit(afterDrop, previous: initial) else { return XCTFail("a backend change is a runtime change") }
        XCTAssertEqual(commands, ["set server default_trino_rule0/SRV_3 state maint", "set server default_trino_rule0/SRV_4 state maint"])
        XCTAssertTrue(slots.render(afterDrop).contains("server SRV_3 127.0.0.1:1 disabled"), "the file follows the runtime state")

        // Adding it back with another weight fills the free slots: address, weight, ready.
        var readded = routes[0]
        readded.spec.rules[0].backendRefs[1].weight = 20
        let afterReadd = translator.translate(ingresses: [], httpRoutes: [readded], backends: backends)
        guard case .runtime(let back) = slots.fit(afterReadd, previous: afterDrop) else { return XCTFail("a re-added backend is a runtime change") }
        XCTAssertEqual(back.filter { $0.hasSuffix("weight 20") }.count, 2, "\(back)")
        XCTAssertEqual(back.filter { $0.hasSuffix("state ready") }.count, 2, "\(back)")
        XCTAssertTrue(back.contains { $0.hasPrefix("set server default_trino_rule0/SRV_3 addr 127.0.0.1 port ") }, "\(back)")

        // A response header is configuration, not a server: a reload.
        var header = readded
        header.spec.rules[0].filters = [.responseHeader(set: "X-Hammer", to: "1")]
        XCTAssertEqual(slots.fit(translator.translate(ingresses: [], httpRoutes: [header], backends: backends), previous: afterReadd), .reload)
    }

    /// A change HAProxy did not take (its runtime socket refused) leaves what it runs unknown: the next attempt of
    /// the same change reloads the whole configuration instead of believing the slots hold it and calling it served.
    func testAFailedRuntimeChangeIsRetriedAsAReload() throws {
        let directory = NSTemporaryDirectory() + "flap-haproxy-fail-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let binary = try XCTUnwrap(LabBinaries.findHAProxy(), "HAProxy is installed (scripts/lab-deps)")
        let plane = try HAProxyDataPlane(binary: binary, directory: directory, port: 30007)
        let (_, routes, backends) = Self.objects()
        plane.adopt(plane.translator.translate(ingresses: [], httpRoutes: routes, backends: backends))
        var dropped = routes[0]
        dropped.spec.rules[0].backendRefs.removeLast()
        let change = plane.translator.translate(ingresses: [], httpRoutes: [dropped], backends: backends)
        XCTAssertThrowsError(try plane.apply(change)) { error in
            XCTAssertTrue("\(error)".contains("runtime.sock"), "the runtime API was tried first: \(error)")
        }
        XCTAssertThrowsError(try plane.apply(change)) { error in
            XCTAssertTrue("\(error)".contains("master.sock"), "then a reload through the master CLI: \(error)")
        }
        XCTAssertEqual(plane.updates.reloads.count, 0, "neither attempt counts as applied")
    }
}
