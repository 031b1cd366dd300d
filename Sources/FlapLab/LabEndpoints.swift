import FlapFakes
import FlapJSON
import Foundation
import KubeClient

/// What the EndpointSlice controller derives for each Service with a selector: the running pods in its namespace
/// whose labels match, with each Service port's `targetPort` resolved against the pod's named container ports (a
/// number is taken as it is, as Kubernetes does). Pods whose resolved ports differ go to different slices.
enum EndpointSliceDerivation {
    static let managedBy = "endpointslice-controller.k8s.io"

    static func slices(services: [KubeObject], pods: [KubeObject]) -> [KubeObject] {
        var slices: [KubeObject] = []
        for service in services {
            guard let namespace = service.namespace,
                  let selector = service.json["spec"]?["selector"]?.objectValue?.compactMapValues(\.stringValue), !selector.isEmpty,
                  service.json["spec"]?["type"]?.stringValue != "ExternalName" else { continue }
            let servicePorts = service.json["spec"]?["ports"]?.arrayValue ?? []
            var groups: [[JSONValue]: [KubeObject]] = [:]
            let selected = pods.filter { pod in
                pod.namespace == namespace && pod.json["status"]?["phase"]?.stringValue == "Running"
                    && selector.allSatisfy { pod.metadata.labels[$0.key] == $0.value }
            }
            for pod in selected {
                let ports = servicePorts.compactMap { Self.slicePort($0, pod: pod) }
                guard ports.count == servicePorts.count else { continue }
                groups[ports, default: []].append(pod)
            }
            if groups.isEmpty { groups[[]] = [] }
            for (ports, members) in groups.sorted(by: { $0.key.description < $1.key.description }) {
                slices.append(self.slice(for: service, ports: ports, pods: members))
            }
        }
        return slices
    }

    private static func slicePort(_ servicePort: JSONValue, pod: KubeObject) -> JSONValue? {
        let name = servicePort["name"]?.stringValue ?? ""
        let target = servicePort["targetPort"] ?? servicePort["port"] ?? .null
        let number: Int?
        if let named = target.stringValue {
            let containers = pod.json["spec"]?["containers"]?.arrayValue ?? []
            number = containers.flatMap { $0["ports"]?.arrayValue ?? [] }.first { $0["name"]?.stringValue == named }?["containerPort"]?.intValue
        } else {
            number = target.intValue
        }
        guard let number else { return nil }
        return ["name": .string(name), "port": .int(number), "protocol": .string(servicePort["protocol"]?.stringValue ?? "TCP")]
    }

    private static func slice(for service: KubeObject, ports: [JSONValue], pods: [KubeObject]) -> KubeObject {
        let suffix = ports.isEmpty ? "none" : ports.compactMap { $0["port"]?.intValue }.map(String.init).joined(separator: "-")
        let endpoints: [JSONValue] = pods.sorted { $0.name < $1.name }.map { pod in
            ["addresses": [.string(pod.json["status"]?["podIP"]?.stringValue ?? LabPod.address)],
             "conditions": ["ready": true, "serving": true, "terminating": false], "nodeName": "flap-lab",
             "targetRef": ["kind": "Pod", "name": .string(pod.name), "namespace": .string(pod.namespace ?? ""), "uid": pod.metadata.uid.map(JSONValue.string) ?? .null]]
        }
        return KubeObject(json: [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["name": .string("\(service.name)-\(suffix)"), "namespace": .string(service.namespace ?? ""),
                         "labels": ["kubernetes.io/service-name": .string(service.name), "endpointslice.kubernetes.io/managed-by": .string(managedBy)],
                         "ownerReferences": [["apiVersion": "v1", "kind": "Service", "name": .string(service.name),
                                              "uid": service.metadata.uid.map(JSONValue.string) ?? .null, "controller": true, "blockOwnerDeletion": true]]],
            "addressType": "IPv4", "endpoints": .array(endpoints), "ports": ports.isEmpty ? .null : .array(ports),
        ])
    }

    /// The same slice, ignoring what the API server adds (uid, resourceVersion, timestamps).
    static func sameContent(_ a: KubeObject, _ b: KubeObject) -> Bool {
        a.json["endpoints"] == b.json["endpoints"] && a.json["ports"] == b.json["ports"] && a.metadata.labels == b.metadata.labels
    }
}

/// The lab's EndpointSlice controller: watches Services and Pods in every namespace and keeps the slices it manages
/// equal to what they derive (it leaves slices of selector-less Services, written by users, alone).
final class LabEndpointSliceController: Sendable {
    private let task: Task<Void, Never>
    let loop = ControllerLoop()

    init(kube: KubeClient) {
        let loop = self.loop
        self.task = Task {
            let watchers = [ResourceType.service, .pod].map { resource in
                Task { for try await _ in kube.watchChanges(resource, namespace: KubeClient.allNamespaces) { await loop.markDirty() } }
            }
            defer { watchers.forEach { $0.cancel() } }
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
                guard await loop.takeDirty() else { continue }
                do {
                    try await Self.sync(kube)
                } catch {
                    await loop.fail("\(error)")
                    await loop.markDirty()
                    try? await Task.sleep(for: .milliseconds(50))
                }
            }
        }
    }

    /// One pass: create, update and delete managed slices until they match what Services and Pods derive.
    static func sync(_ kube: KubeClient) async throws {
        let services = try await kube.listAll(.service, namespace: KubeClient.allNamespaces).items
        let pods = try await kube.listAll(.pod, namespace: KubeClient.allNamespaces).items
        let existing = try await kube.listAll(.endpointSlice, namespace: KubeClient.allNamespaces,
                                              options: ListOptions(labelSelector: "endpointslice.kubernetes.io/managed-by=\(EndpointSliceDerivation.managedBy)")).items
        let wanted = EndpointSliceDerivation.slices(services: services, pods: pods)
        func key(_ object: KubeObject) -> String { "\(object.namespace ?? "")/\(object.name)" }
        let current = Dictionary(existing.map { (key($0), $0) }, uniquingKeysWith: { first, _ in first })
        for slice in wanted {
            if let old = current[key(slice)] {
                guard !EndpointSliceDerivation.sameContent(old, slice) else { continue }
                var updated = slice
                updated.metadata.resourceVersion = old.metadata.resourceVersion
                try await kube.replace(updated)
            } else {
                do { try await kube.create(slice) } catch let error as KubeStatusError where error.isNotFound {
                    // The namespace went away meanwhile; the next sync sees it.
                }
            }
        }
        let wantedKeys = Set(wanted.map(key))
        for old in existing where !wantedKeys.contains(key(old)) {
            do { _ = try await kube.delete(.endpointSlice, name: old.name, namespace: old.namespace) } catch let error as KubeStatusError where error.isNotFound {}
        }
    }

    func stop() { self.task.cancel() }
}

/// How a route's backend resolves, from the Services and EndpointSlices in the API, as a data plane's controller
/// sees it.
enum BackendResolution: Equatable {
    /// No such Service, or it has no such port: Gateway API says `ResolvedRefs=False` (an invalid backend, 500).
    case invalid(String)
    /// The Service exists but has no ready endpoints: 503 at request time.
    case noEndpoints
    /// `address:port` of each ready endpoint.
    case endpoints([String])
}

/// A snapshot of Services and EndpointSlices that resolves backends by namespace, Service name and port.
struct LabBackends: Sendable {
    private var services: [String: KubeObject] = [:]
    private var slices: [String: [KubeObject]] = [:]

    init(services: [KubeObject], slices: [KubeObject]) {
        for service in services { self.services["\(service.namespace ?? "")/\(service.name)"] = service }
        for slice in slices {
            guard let owner = slice.metadata.labels["kubernetes.io/service-name"] else { continue }
            self.slices["\(slice.namespace ?? "")/\(owner)", default: []].append(slice)
        }
    }

    static func load(_ kube: KubeClient) async throws -> LabBackends {
        LabBackends(services: try await kube.listAll(.service, namespace: KubeClient.allNamespaces).items,
                    slices: try await kube.listAll(.endpointSlice, namespace: KubeClient.allNamespaces).items)
    }

    /// A Gateway API backendRef of a route in `routeNamespace`. A reference into another namespace needs a
    /// ReferenceGrant there; the lab serves no ReferenceGrants, so it is refused (`RefNotPermitted`), as it is on
    /// a cluster without one.
    func resolve(_ ref: HTTPRoute.BackendRef, from routeNamespace: String) -> BackendResolution {
        if let namespace = ref.namespace, namespace != routeNamespace {
            return .invalid("RefNotPermitted: a backendRef to namespace \(namespace) needs a ReferenceGrant (the lab has none)")
        }
        return self.resolve(namespace: routeNamespace, service: ref.name, port: ref.port)
    }

    /// `port` is a Service port number, `portName` a Service port name (Ingress backends may use either).
    func resolve(namespace: String, service: String, port: Int?, portName: String? = nil) -> BackendResolution {
        guard let object = self.services["\(namespace)/\(service)"] else { return .invalid("Service \(namespace)/\(service) not found") }
        let ports = object.json["spec"]?["ports"]?.arrayValue ?? []
        guard let servicePort = ports.first(where: { ($0["port"]?.intValue == port && port != nil) || ($0["name"]?.stringValue == portName && portName != nil) }) else {
            return .invalid("Service \(namespace)/\(service) has no port \(port.map(String.init) ?? portName ?? "(none)")")
        }
        let name = servicePort["name"]?.stringValue ?? ""
        var endpoints: [String] = []
        for slice in self.slices["\(namespace)/\(service)"] ?? [] {
            guard let number = (slice.json["ports"]?.arrayValue ?? []).first(where: { ($0["name"]?.stringValue ?? "") == name })?["port"]?.intValue else { continue }
            for endpoint in slice.json["endpoints"]?.arrayValue ?? [] where endpoint["conditions"]?["ready"]?.boolValue != false {
                endpoints += (endpoint["addresses"]?.arrayValue ?? []).compactMap(\.stringValue).map { "\($0):\(number)" }
            }
        }
        return endpoints.isEmpty ? .noEndpoints : .endpoints(endpoints.sorted())
    }
}
