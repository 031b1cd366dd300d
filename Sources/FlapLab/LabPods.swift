import FlapFakes
import FlapJSON
import Foundation
import KubeClient

/// A lab "pod": a fake Trino process on loopback, published as a Pod object so Services select it by its labels.
/// Its address is 127.0.0.1 and its named container ports carry the process's real loopback ports, so a Service
/// targets it the way charts usually do, by port name (`targetPort: http`).
public struct LabPod: Sendable, Equatable {
    public enum Role: String, Sendable { case coordinator, worker }
    public struct Port: Sendable, Equatable {
        public var name: String
        public var port: Int
    }

    public var name: String
    public var namespace: String
    public var role: Role
    public var index: Int
    public var ports: [Port]

    public static let address = "127.0.0.1"

    /// Labels as the Trino Helm chart and a StatefulSet set them.
    public var labels: [String: String] {
        ["app.kubernetes.io/name": "trino", "app.kubernetes.io/component": self.role.rawValue,
         "apps.kubernetes.io/pod-index": String(self.index), "statefulset.kubernetes.io/pod-name": self.name]
    }

    /// `app.kubernetes.io/component=coordinator,...`, sorted: what a selector or `kubectl get -l` takes.
    public var labelText: String { self.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") }

    var object: KubeObject {
        let now = RFC3339.now()
        let ports: [JSONValue] = self.ports.map { ["name": .string($0.name), "containerPort": .int($0.port), "protocol": "TCP"] }
        var labels: [String: JSONValue] = [:]
        for (key, value) in self.labels { labels[key] = .string(value) }
        return KubeObject(json: [
            "apiVersion": "v1", "kind": "Pod",
            "metadata": ["name": .string(self.name), "namespace": .string(self.namespace), "labels": .object(labels)],
            "spec": ["containers": [["name": .string("trino-\(self.role.rawValue)"), "image": "flap.dev/fake-trino", "ports": .array(ports)]],
                     "nodeName": "flap-lab"],
            "status": ["phase": "Running", "podIP": .string(Self.address), "podIPs": [["ip": .string(Self.address)]], "hostIP": "127.0.0.1",
                       "startTime": .string(now),
                       "conditions": [["type": "Ready", "status": "True", "lastTransitionTime": .string(now)]]],
        ])
    }
}

enum RFC3339 {
    static func now() -> String { ISO8601DateFormatter().string(from: Date()) }
}

/// The fake Trino processes behind the lab's pods: per namespace, coordinators (each an independent query registry
/// with two listeners, `http` and `http-alt`, as two Services on one pod) and workers (404 on the statement API).
final class LabPods: Sendable {
    let coordinators: [FakeTrinoServer]
    let workers: [FakeTrinoWorker]
    let pods: [LabPod]

    init(namespaces: [String], coordinators: Int, workers: Int, trino: FakeTrinoServer.Configuration) throws {
        var servers: [FakeTrinoServer] = [], fakeWorkers: [FakeTrinoWorker] = [], pods: [LabPod] = []
        do {
            for namespace in namespaces {
                for index in 0..<coordinators {
                    var configuration = trino
                    configuration.listeners = 2
                    let server = try FakeTrinoServer(configuration: configuration)
                    servers.append(server)
                    pods.append(LabPod(name: "trino-coordinator-\(index)", namespace: namespace, role: .coordinator, index: index,
                                       ports: [.init(name: "http", port: server.ports[0]), .init(name: "http-alt", port: server.ports[1])]))
                }
                for index in 0..<workers {
                    let worker = try FakeTrinoWorker()
                    fakeWorkers.append(worker)
                    pods.append(LabPod(name: "trino-worker-\(index)", namespace: namespace, role: .worker, index: index,
                                       ports: [.init(name: "http", port: worker.port)]))
                }
            }
        } catch {
            servers.forEach { $0.stop() }
            fakeWorkers.forEach { $0.stop() }
            throw error
        }
        self.coordinators = servers
        self.workers = fakeWorkers
        self.pods = pods
    }

    /// Creates each pod's namespace (when missing) and its Pod object.
    func publish(to kube: KubeClient) async throws {
        for namespace in Set(self.pods.map(\.namespace)).sorted() {
            do {
                try await kube.create(KubeObject(json: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": .string(namespace)]]))
            } catch let error as KubeStatusError where error.isAlreadyExists {}
        }
        for pod in self.pods {
            // As on a cluster, a create ignores status: the "kubelet" reports the pod running and ready after.
            var created = try await kube.create(pod.object)
            created.json[member: "status"] = pod.object.json["status"]
            try await kube.replaceStatus(created)
        }
    }

    func stop() {
        self.coordinators.forEach { $0.stop() }
        self.workers.forEach { $0.stop() }
    }
}
