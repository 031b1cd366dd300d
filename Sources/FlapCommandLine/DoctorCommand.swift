import FlapCore
import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// `flap-cli doctor`: can this run work? Access, objects, Accepted, Trino through each route; and the minimal Role.
enum DoctorCommand {
    static let usage = """
    usage: flap-cli doctor [the run flags: --kubeconfig, --context, -n, --ingress/--ingress-url, --httproute/--httproute-url, --mutation ...]

    Checks, for each route: that this identity may do what the mutations need (SelfSubjectAccessReview for
    each verb), that the object exists (and an HTTPRoute is Accepted for its generation), that each mutation
    can work on the live objects (the backend it removes is there), and that Trino answers through the route. Prints the minimal Role. Exits 1 when a check fails. Each network step gives up
    after 10 s and says which one; once the API server has not answered, the remaining API checks say so.
    """

    static let verbs = ["get", "list", "watch", "create", "update", "patch", "delete"]
    /// How long any one network step may take.
    static let stepTimeout = Duration.seconds(10)

    static func execute(_ options: RunOptions) async throws -> Int32 {
        let scenario = options.scenario
        let kube = try await KubeClient.connect(Kubeconfig.Options(kubeconfigPath: scenario.cluster.kubeconfig, context: scenario.cluster.context,
                                                                   namespace: scenario.cluster.namespace),
                                                transport: scenario.cluster.transport.flatMap(KubeTransportChoice.init(rawValue:)) ?? .auto)
        defer { kube.shutdown() }
        var failed = false
        func check(_ ok: Bool, _ text: String) {
            print("\(ok ? "ok  " : "FAIL") \(text)")
            Output.flush()
            if !ok { failed = true }
        }
        let namespace = scenario.cluster.namespace ?? kube.defaultNamespace
        let server = kube.configuration.clusterIdentity
        // Every network step has a deadline; once the API server has not answered, the other API checks are
        // reported as not run instead of each waiting in turn.
        var apiSilent: String?
        func api<T: Sendable>(_ step: String, _ work: @escaping @Sendable () async throws -> T) async throws -> T {
            if let apiSilent { throw DeadlineExceeded(what: "not checked: \(apiSilent)") }
            do {
                return try await withDeadline(.now + self.stepTimeout, "\(step): the API server at \(server) did not answer within \(self.stepTimeout)", work)
            } catch let error as DeadlineExceeded {
                apiSilent = "the API server at \(server) did not answer within \(self.stepTimeout)"
                throw error
            }
        }
        var resources: [String: [ResourceType]] = [:]
        for target in scenario.targets {
            let resource: ResourceType = target.kind == .ingress ? .ingress : .httpRoute
            let targetNamespace = target.namespace ?? namespace
            if !(resources[targetNamespace] ?? []).contains(resource) { resources[targetNamespace, default: []].append(resource) }
            for verb in self.verbs {
                let review: JSONValue = ["apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectAccessReview",
                                         "spec": ["resourceAttributes": ["namespace": .string(target.namespace ?? namespace), "verb": .string(verb),
                                                                         "group": .string(resource.group), "resource": .string(resource.plural)]]]
                let text = "may \(verb) \(resource.qualifiedName) in \(target.namespace ?? namespace)"
                do {
                    let answer = try await api("access review (\(verb))") {
                        try await kube.raw("POST", path: "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", body: review)
                    }
                    check(answer.value(at: "status.allowed")?.boolValue ?? false, text)
                } catch let error as DeadlineExceeded {
                    check(false, "\(text): \(error)")
                } catch {
                    check(false, "\(text): the access review failed: \(error)")
                }
            }
            do {
                let object = try await api("get \(resource.kind) \(target.route)") {
                    try await kube.get(resource, name: target.route, namespace: target.namespace ?? namespace)
                }
                check(true, "\(resource.kind) \(target.route) exists (generation \(object.metadata.generation ?? 0))")
                if resource == .httpRoute {
                    check(HTTPRoute(json: object.json).isAccepted(), "HTTPRoute \(target.route) is Accepted for its current generation")
                }
                let others = try await api("list \(resource.plural)") { try await RouteHosts.others(of: object, resource: resource, kube: kube) }
                let problem = RouteHosts.problem(object, url: target.url, others: others)
                check(problem == nil, problem ?? "only \(resource.kind) \(targetNamespace)/\(target.route) serves \(URL(string: target.url)?.host ?? target.url): an answer through \(target.url) comes through it")
            } catch {
                check(false, "\(resource.kind) \(target.route): \(error)")
            }
            var probe = HTTPClientRequest(url: URL(string: target.url.trimmingCharacters(in: CharacterSet(charactersIn: "/")) + "/v1/info")!)
            probe.connectTo = target.connectTo
            let request = probe
            do {
                let response = try await withDeadline(.now + self.stepTimeout, "no answer within \(self.stepTimeout)") {
                    try await AutomaticTransport().send(request, timeout: .seconds(5))
                }
                check(response.status == 200, "Trino answers through \(target.name) at \(target.url) (HTTP \(response.status))")
            } catch {
                check(false, "Trino through \(target.name) at \(target.url): \(error)")
            }
        }
        if let apiSilent {
            check(false, "mutations not checked against the live objects: \(apiSilent)")
        } else {
            let checks = await MutationChecks.run(try scenario.configuration(kube: kube, mutators: options.mutators))
            for line in checks.lines { check(line.hasPrefix("ok"), "mutation " + line.dropFirst(5)) }
        }
        let roles = resources.sorted { $0.key < $1.key }.map { self.role($0.value, namespace: $0.key) }
        print("\nminimal Role\(roles.count > 1 ? " per namespace" : "") for flap (bind it to the identity that runs flap):\n" + roles.joined(separator: "---\n"))
        return failed ? ExitCode.error : ExitCode.ok
    }

    static func role(_ resources: [ResourceType], namespace: String) -> String {
        var text = "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: flap\n  namespace: \(namespace)\nrules:\n"
        for group in Set(resources.map(\.group)).sorted() {
            let plurals = resources.filter { $0.group == group }.map(\.plural)
            text += "- apiGroups: [\"\(group)\"]\n  resources: [\(plurals.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
            text += "  verbs: [\(self.verbs.map { "\"\($0)\"" }.joined(separator: ", "))]\n"
        }
        return text
    }
}
