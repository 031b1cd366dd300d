import FlapJSON
import KubeClient

/// Discovery documents: enough for kubectl and the official clients.
enum FakeKubeDiscovery {
    static let version: JSONValue = ["major": "1", "minor": "32", "gitVersion": "v1.32.0-flap-fake", "gitCommit": "fake",
                                     "gitTreeState": "clean", "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23",
                                     "compiler": "gc", "platform": "linux/amd64"]

    static let apiVersions: JSONValue = ["kind": "APIVersions", "versions": ["v1"],
                                         "serverAddressByClientCIDRs": [["clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"]]]

    static var groups: [(group: String, version: String)] {
        var seen: [(String, String)] = []
        for resource in FakeKubeRoute.served where !resource.group.isEmpty && !seen.contains(where: { $0 == (resource.group, resource.version) }) {
            seen.append((resource.group, resource.version))
        }
        return seen
    }

    static var apiGroups: JSONValue {
        ["kind": "APIGroupList", "apiVersion": "v1", "groups": .array(self.groups.map { group, version in
            let gv: JSONValue = ["groupVersion": .string("\(group)/\(version)"), "version": .string(version)]
            return ["name": .string(group), "versions": [gv], "preferredVersion": gv]
        })]
    }

    static func resourceList(group: String, version: String) -> JSONValue? {
        let resources = FakeKubeRoute.served.filter { $0.group == group && $0.version == version }
        guard !resources.isEmpty else { return nil }
        let verbs: JSONValue = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
        var list: [JSONValue] = []
        for resource in resources {
            var entry: JSONValue = ["name": .string(resource.plural), "singularName": .string(resource.singular),
                                    "namespaced": .bool(resource.namespaced), "kind": .string(resource.kind), "verbs": verbs]
            if !resource.shortNames.isEmpty { entry[member: "shortNames"] = .array(resource.shortNames.map { .string($0) }) }
            list.append(entry)
            if [ResourceType.ingress, .httpRoute, .gateway, .namespace, .service, .pod].contains(resource) {
                list.append(["name": .string("\(resource.plural)/status"), "singularName": "", "namespaced": .bool(resource.namespaced),
                             "kind": .string(resource.kind), "verbs": ["get", "patch", "update"]])
            }
        }
        return ["kind": "APIResourceList", "apiVersion": "v1", "groupVersion": .string(group.isEmpty ? version : "\(group)/\(version)"),
                "resources": .array(list)]
    }
}
