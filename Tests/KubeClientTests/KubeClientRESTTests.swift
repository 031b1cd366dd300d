import FlapFakes
import Foundation
import KubeClient
import XCTest

final class KubeClientRESTTests: XCTestCase {
    func testCreateGetReplaceAndGenerationFollowsSpecOnly() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        let created = try await client.create(sampleRoute())
        XCTAssertEqual(created.metadata.generation, 1)
        XCTAssertNotNil(created.metadata.uid)
        XCTAssertEqual(created.spec.rules.first?.backendRefs.first?.weight, 1, "the CRD default is applied")
        XCTAssertEqual(created.spec.rules.first?.backendRefs.first?.kind, "Service")
        XCTAssertEqual(created.spec.parentRefs.first?.json["group"], "gateway.networking.k8s.io")
        var labelled = created
        labelled.metadata.labels = ["team": "data"]
        let afterLabel = try await client.replace(labelled)
        XCTAssertEqual(afterLabel.metadata.generation, 1, "metadata changes do not bump generation")
        XCTAssertNotEqual(afterLabel.metadata.resourceVersion, created.metadata.resourceVersion)
        var changed = afterLabel
        changed.spec.hostnames = ["other.example.com"]
        let afterSpec = try await client.replace(changed)
        XCTAssertEqual(afterSpec.metadata.generation, 2)
        let fetched = try await client.get(HTTPRoute.self, name: "trino")
        XCTAssertEqual(fetched, afterSpec)
    }

    func testUnknownFieldsRoundTripUntouched() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        var route = sampleRoute()
        route.json.setValue(["x-future-field": ["nested": [1, 2]]], at: "spec.futureThing")
        route.spec.rules[0].json[member: "timeouts"] = ["request": "10s"]
        _ = try await harness.client.create(route)
        let updated = try await harness.client.modify(HTTPRoute.self, name: "trino") { $0.spec.hostnames.append("b.example.com") }
        XCTAssertEqual(updated.json.value(at: "spec.futureThing"), ["x-future-field": ["nested": [1, 2]]])
        XCTAssertEqual(updated.spec.rules[0].json["timeouts"], ["request": "10s"])
    }

    func testStatusIsASubresource() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        var route = sampleRoute()
        route.status.parents = [{
            var parent = HTTPRoute.RouteParentStatus(json: [:])
            parent.parentRef = ParentReference(name: "gw")
            parent.controllerName = "example.com/ctl"
            parent.conditions = [Condition(type: "Accepted", status: "True", reason: "Accepted", observedGeneration: 1, lastTransitionTime: "2026-01-01T00:00:00Z")]
            return parent
        }()]
        let created = try await harness.client.create(route)
        XCTAssertTrue(created.status.parents.isEmpty, "status is dropped on create")
        var withStatus = created
        withStatus.status.parents = route.status.parents
        withStatus.spec.hostnames = ["ignored.example.com"]
        let written = try await harness.client.replaceStatus(withStatus)
        XCTAssertEqual(written.status.parents.count, 1)
        XCTAssertEqual(written.spec.hostnames, ["trino.example.com"], "spec is ignored on /status")
        XCTAssertTrue(written.isAccepted())
        XCTAssertEqual(written.metadata.generation, 1)
        var main = written
        main.status.parents = []
        let afterMain = try await harness.client.replace(main)
        XCTAssertEqual(afterMain.status.parents.count, 1, "status is ignored on the main resource")
    }

    func testListWithSelectorsAndPages() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        for i in 0..<5 {
            var route = sampleRoute("r\(i)")
            route.metadata.labels = ["tier": i < 3 ? "gold" : "bronze", "idx": String(i)]
            try await harness.client.create(route)
        }
        let gold = try await harness.client.list(.httpRoute, options: ListOptions(labelSelector: "tier=gold"))
        XCTAssertEqual(gold.items.map(\.name), ["r0", "r1", "r2"])
        let notIn = try await harness.client.list(.httpRoute, options: ListOptions(labelSelector: "tier notin (gold),idx!=4"))
        XCTAssertEqual(notIn.items.map(\.name), ["r3"])
        let byName = try await harness.client.list(.httpRoute, options: ListOptions(fieldSelector: "metadata.name=r4"))
        XCTAssertEqual(byName.items.map(\.name), ["r4"])
        let page = try await harness.client.list(.httpRoute, options: ListOptions(limit: 2))
        XCTAssertEqual(page.items.count, 2)
        XCTAssertNotNil(page.continueToken)
        let all = try await harness.client.listAll(.httpRoute, options: ListOptions(limit: 2))
        XCTAssertEqual(all.items.map(\.name), ["r0", "r1", "r2", "r3", "r4"])
        let bad = await self.statusError { _ = try await harness.client.list(.httpRoute, options: ListOptions(fieldSelector: "spec.hostnames=x")) }
        XCTAssertEqual(bad?.code, 400)
        XCTAssertTrue(bad?.message.contains("is not a known field selector") == true)
        harness.server.compactHistory()
        let expired = await self.statusError {
            _ = try await harness.client.list(.httpRoute, options: ListOptions(limit: 2, continueToken: page.continueToken))
        }
        XCTAssertEqual(expired?.code, 410)
        XCTAssertTrue(expired?.isExpired == true)
    }

    func testEveryPatchType() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        try await client.create(sampleRoute(backends: [("trino", 8080), ("trino-b", 8080)]))
        try await client.create(sampleIngress())
        let merged = try await client.patch(HTTPRoute.self, name: "trino", .merge(["spec": ["hostnames": ["m.example.com"]]]))
        XCTAssertEqual(merged.spec.hostnames, ["m.example.com"])
        let jsonPatched = try await client.patch(HTTPRoute.self, name: "trino", .json([
            ["op": "test", "path": "/spec/rules/0/backendRefs/1/name", "value": "trino-b"],
            ["op": "remove", "path": "/spec/rules/0/backendRefs/1"],
        ]))
        XCTAssertEqual(jsonPatched.spec.rules[0].backendRefs.map(\.name), ["trino"])
        let strategic = try await client.patch(Ingress.self, name: "trino", .strategicMerge(["metadata": ["labels": ["a": "b"]]]))
        XCTAssertEqual(strategic.metadata.labels, ["a": "b"])
        let refused = await self.statusError { _ = try await client.patch(HTTPRoute.self, name: "trino", .strategicMerge(["spec": [:]])) }
        XCTAssertEqual(refused?.code, 415)
        XCTAssertEqual(refused?.reason, .unsupportedMediaType)
        let failedTest = await self.statusError {
            _ = try await client.patch(HTTPRoute.self, name: "trino", .json([["op": "test", "path": "/spec/hostnames/0", "value": "nope"]]))
        }
        XCTAssertEqual(failedTest?.code, 422)
    }

    func testServerSideApplyCreatesConflictsAndForces() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        var config = sampleRoute("applied")
        config.json[member: "status"] = nil
        let created = try await client.patch(.httpRoute, name: "applied", .apply(config.json, fieldManager: "flap-apply"))
        XCTAssertEqual(created.metadata.generation, 1)
        XCTAssertEqual(created.json.value(at: "metadata.managedFields")?.arrayValue?.first?["manager"], "flap-apply")
        _ = try await client.patch(.httpRoute, name: "applied", .merge(["spec": ["hostnames": ["by-other.example.com"]]]))
        var change = config
        change.spec.hostnames = ["mine.example.com"]
        let conflict = await self.statusError { _ = try await client.patch(.httpRoute, name: "applied", .apply(change.json, fieldManager: "flap-apply")) }
        XCTAssertEqual(conflict?.code, 409)
        XCTAssertTrue(conflict?.isFieldManagerConflict == true)
        XCTAssertEqual(conflict?.causes.first?.field, ".spec.hostnames")
        let forced = try await client.patch(HTTPRoute.self, name: "applied", .apply(change.json, fieldManager: "flap-apply", force: true))
        XCTAssertEqual(forced.spec.hostnames, ["mine.example.com"])
        var dropHostnames = change
        dropHostnames.json.setValue(nil, at: "spec.hostnames")
        let removed = try await client.patch(HTTPRoute.self, name: "applied", .apply(dropHostnames.json, fieldManager: "flap-apply"))
        XCTAssertTrue(removed.spec.hostnames.isEmpty, "a field the manager stops applying is removed")
    }

    func testErrorsAreTypedAndNameTheObject() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        let missing = await self.statusError { _ = try await client.get(HTTPRoute.self, name: "ghost") }
        XCTAssertTrue(missing?.isNotFound == true)
        XCTAssertEqual(missing?.name, "ghost")
        XCTAssertEqual(missing?.kind, "httproutes")
        XCTAssertEqual(missing?.message, "httproutes.gateway.networking.k8s.io \"ghost\" not found")
        XCTAssertTrue("\(missing!)".hasPrefix("GET httproutes.gateway.networking.k8s.io default/ghost: "))
        let created = try await client.create(sampleRoute())
        let duplicate = await self.statusError { try await client.create(sampleRoute()) }
        XCTAssertTrue(duplicate?.isAlreadyExists == true)
        var stale = created
        stale.metadata.resourceVersion = "1"
        let conflict = await self.statusError { try await client.replace(stale) }
        XCTAssertTrue(conflict?.isConflict == true)
        var unversioned = created
        unversioned.metadata.resourceVersion = nil
        let invalidPut = await self.statusError { try await client.replace(unversioned) }
        XCTAssertEqual(invalidPut?.code, 422, "custom resources need a resourceVersion on PUT")
        XCTAssertEqual(invalidPut?.causes.first?.field, "metadata.resourceVersion")
        var ingress = try await client.create(sampleIngress())
        ingress.metadata.resourceVersion = nil
        ingress.spec.ingressClassName = "other"
        let unconditional = try await client.replace(ingress)
        XCTAssertEqual(unconditional.spec.ingressClassName, "other", "built-ins allow an unconditional update")
        var tooHeavy = sampleRoute("heavy")
        tooHeavy.spec.rules[0].backendRefs[0].weight = 2_000_000
        let invalid = await self.statusError { try await client.create(tooHeavy) }
        XCTAssertEqual(invalid?.reason, .invalid)
        XCTAssertEqual(invalid?.causes.first?.field, "spec.rules[0].backendRefs[0].weight")
        var noPathType = sampleIngress("bad")
        noPathType.json.setValue(nil, at: "spec.rules")
        noPathType.json.setValue([["http": ["paths": [["path": "/", "backend": ["service": ["name": "s", "port": ["number": 80]]]]]]]], at: "spec.rules")
        let missingPathType = await self.statusError { try await client.create(noPathType) }
        XCTAssertEqual(missingPathType?.causes.first?.field, "spec.rules[0].http.paths[0].pathType")
        var elsewhere = sampleRoute("y")
        elsewhere.metadata.namespace = "absent"
        let absentNamespace = await self.statusError { try await client.create(elsewhere) }
        XCTAssertEqual(absentNamespace?.message, "namespaces \"absent\" not found")
        harness.server.inject(FakeKubeFault(.tooManyRequests(retryAfterSeconds: 3), verb: .get))
        let throttled = await self.statusError { _ = try await client.get(HTTPRoute.self, name: "trino") }
        XCTAssertEqual(throttled?.reason, .tooManyRequests)
        XCTAssertEqual(throttled?.retryAfterSeconds, 3)
        harness.server.inject(FakeKubeFault(.internalError, verb: .list))
        let serverError = await self.statusError { _ = try await client.list(.httpRoute) }
        XCTAssertEqual(serverError?.code, 500)
    }

    func testDeleteReturnsStatusOrThePendingObject() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        let client = harness.client
        let created = try await client.create(sampleIngress())
        let mismatch = await self.statusError {
            try await client.delete(.ingress, name: "trino", options: DeleteOptions(preconditionUID: "not-the-uid"))
        }
        XCTAssertTrue(mismatch?.isConflict == true)
        guard case .deleted(let status) = try await client.delete(.ingress, name: "trino",
                                                                  options: DeleteOptions(propagationPolicy: .foreground, gracePeriodSeconds: 5,
                                                                                         preconditionUID: created.metadata.uid)) else {
            return XCTFail("expected an immediate delete")
        }
        XCTAssertEqual(status["status"], "Success")
        XCTAssertEqual(status["details"]?["name"], "trino")
        var guarded = sampleIngress("guarded")
        guarded.json.setValue(["example.com/hold"], at: "metadata.finalizers")
        try await client.create(guarded)
        guard case .pending(let pending) = try await client.delete(.ingress, name: "guarded") else { return XCTFail("finalizers keep it") }
        XCTAssertNotNil(pending.metadata.deletionTimestamp)
        _ = try await client.patch(.ingress, name: "guarded", .merge(["metadata": ["finalizers": nil]]))
        let gone = await self.statusError { _ = try await client.get(.ingress, name: "guarded") }
        XCTAssertTrue(gone?.isNotFound == true, "removing the last finalizer completes the delete")
    }

    func testModifyRetriesConflictsWithBoundedBackoff() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        try await harness.client.create(sampleRoute())
        harness.server.inject(FakeKubeFault(.conflict, verb: .update, count: 3))
        var calls = 0
        let updated = try await harness.client.modify(HTTPRoute.self, name: "trino") { route in
            calls += 1
            route.spec.rules[0].backendRefs.append(HTTPRoute.BackendRef(name: "trino-b", port: 8080))
        }
        XCTAssertEqual(calls, 4)
        XCTAssertEqual(updated.spec.rules[0].backendRefs.count, 2)
        harness.server.inject(FakeKubeFault(.conflict, verb: .update, count: 10))
        let exhausted = await self.statusError {
            try await harness.client.modify(HTTPRoute.self, name: "trino", retry: ConflictRetry(maxAttempts: 3)) { $0.spec.hostnames = ["z.example.com"] }
        }
        XCTAssertTrue(exhausted?.isConflict == true)
    }

    func testChangesSinceACheckpointAndSnapshots() async throws {
        let harness = try KubeHarness()
        defer { harness.stop() }
        try await harness.client.create(sampleRoute("keep"))
        let before = harness.server.snapshot()
        let checkpoint = harness.server.checkpoint()
        try await harness.client.create(sampleRoute("temp"))
        try await harness.client.modify(HTTPRoute.self, name: "keep") { $0.spec.hostnames = ["changed.example.com"] }
        try await harness.client.delete(.httpRoute, name: "temp")
        XCTAssertEqual(harness.server.changes(since: checkpoint).map(\.description),
                       ["created httproutes.gateway.networking.k8s.io default/temp", "modified httproutes.gateway.networking.k8s.io default/keep",
                        "deleted httproutes.gateway.networking.k8s.io default/temp"])
        XCTAssertNotEqual(harness.server.snapshot(), before)
        try await harness.client.modify(HTTPRoute.self, name: "keep") { $0.spec.hostnames = ["trino.example.com"] }
        XCTAssertEqual(harness.server.snapshot().mapValues { var v = $0; v.setValue(nil, at: "metadata.annotations"); return v },
                       before.mapValues { var v = $0; v.setValue(nil, at: "metadata.annotations"); return v }, "putting it back restores the snapshot")
    }

    func testManifestsLoadLikeKubectlApply() throws {
        let objects = try Manifests.parse("""
        apiVersion: v1
        kind: Service
        metadata: {name: trino}
        spec: {ports: [{port: 8080}]}
        ---
        apiVersion: v1
        kind: List
        items:
        - {apiVersion: networking.k8s.io/v1, kind: Ingress, metadata: {name: a}}
        - {apiVersion: gateway.networking.k8s.io/v1, kind: HTTPRoute, metadata: {name: b}}
        """)
        XCTAssertEqual(objects.map(\.kind), ["Service", "Ingress", "HTTPRoute"])
        XCTAssertEqual(objects.map { $0.resourceType }, [.service, .ingress, .httpRoute])
        XCTAssertThrowsError(try Manifests.parse("metadata: {name: x}\n"))
    }
}
