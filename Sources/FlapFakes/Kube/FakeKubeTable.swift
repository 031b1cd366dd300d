import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// Server-side printing (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`), which `kubectl get` asks for:
/// the columns the real server prints for each kind (a CRD's additionalPrinterColumns for the Gateway API
/// kinds), wide-only columns at priority 1, ages as the server renders them.
enum FakeKubeTable {
    static func wanted(_ request: HTTPServerRequest) -> Bool {
        let accept = request.headers["Accept"] ?? ""
        return accept.contains("as=Table") && accept.contains("g=meta.k8s.io")
    }

    struct Column {
        var name: String
        var type = "string"
        var format = ""
        var priority = 0
        var cell: @Sendable (JSONValue) -> JSONValue
    }

    static func table(_ resource: ResourceType, objects: [JSONValue], resourceVersion: String?, now: Date = Date()) -> JSONValue {
        let own = self.columns(resource)
        let columns = [Column(name: "Name", format: "name") { .string($0.value(at: "metadata.name")?.stringValue ?? "") }]
            + own.filter { $0.priority == 0 }
            + [Column(name: "Age") { object in .string(self.age(object.value(at: "metadata.creationTimestamp")?.stringValue, now: now)) }]
            + own.filter { $0.priority > 0 }   // -o wide's columns come after the age, as the real server orders them
        let definitions: [JSONValue] = columns.map {
            ["name": .string($0.name), "type": .string($0.type), "format": .string($0.format), "description": .string($0.name), "priority": .int($0.priority)]
        }
        let rows: [JSONValue] = objects.map { object in
            ["cells": .array(columns.map { $0.cell(object) }),
             "object": ["kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": object["metadata"] ?? [:]]]
        }
        var metadata: [String: JSONValue] = [:]
        if let resourceVersion { metadata["resourceVersion"] = .string(resourceVersion) }
        return ["kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": .object(metadata), "columnDefinitions": .array(definitions), "rows": .array(rows)]
    }

    static func text(_ value: JSONValue?, or missing: String = "<none>") -> JSONValue {
        guard let text = value?.stringValue, !text.isEmpty else { return .string(missing) }
        return .string(text)
    }

    static func text(_ value: String, or missing: String = "<none>") -> JSONValue { .string(value.isEmpty ? missing : value) }

    static func condition(_ object: JSONValue, _ type: String) -> JSONValue {
        let conditions = object.value(at: "status.conditions")?.arrayValue ?? []
        return .string(conditions.first { $0["type"]?.stringValue == type }?["status"]?.stringValue ?? "Unknown")
    }

    static func count(_ object: JSONValue, _ fields: String...) -> JSONValue {
        .int(fields.reduce(0) { $0 + (object[$1]?.objectValue?.count ?? 0) })
    }

    static func columns(_ resource: ResourceType) -> [Column] {
        switch resource.kind {
        case "Service":
            return [
                Column(name: "Type") { text($0.value(at: "spec.type"), or: "ClusterIP") },
                Column(name: "Cluster-IP") { text($0.value(at: "spec.clusterIP")) },
                Column(name: "External-IP") { text(($0.value(at: "spec.externalIPs")?.arrayValue ?? []).compactMap(\.stringValue).joined(separator: ",")) },
                Column(name: "Port(s)") { object in
                    let ports = (object.value(at: "spec.ports")?.arrayValue ?? []).map { port in
                        "\(port["port"]?.int64Value ?? 0)/\(port["protocol"]?.stringValue ?? "TCP")"
                    }
                    return text(ports.joined(separator: ","))
                },
                Column(name: "Selector", priority: 1) { object in
                    text((object.value(at: "spec.selector")?.objectValue ?? [:]).sorted { $0.key < $1.key }
                        .map { "\($0.key)=\($0.value.stringValue ?? "")" }.joined(separator: ","))
                },
            ]
        case "Ingress":
            return [
                Column(name: "Class") { text($0.value(at: "spec.ingressClassName")) },
                Column(name: "Hosts") { object in
                    let hosts = (object.value(at: "spec.rules")?.arrayValue ?? []).map { $0["host"]?.stringValue ?? "*" }
                    return .string(hosts.isEmpty ? "*" : hosts.joined(separator: ","))
                },
                Column(name: "Address") { object in
                    let entries = object.value(at: "status.loadBalancer.ingress")?.arrayValue ?? []
                    return .string(entries.compactMap { $0["ip"]?.stringValue ?? $0["hostname"]?.stringValue }.joined(separator: ","))
                },
                Column(name: "Ports") { .string(($0.value(at: "spec.tls")?.arrayValue ?? []).isEmpty ? "80" : "80, 443") },
            ]
        case "HTTPRoute":
            return [Column(name: "Hostnames") { $0.value(at: "spec.hostnames").map { .string($0.serialized) } ?? .null }]
        case "Gateway":
            return [
                Column(name: "Class") { text($0.value(at: "spec.gatewayClassName"), or: "") },
                Column(name: "Address") { .string(($0.value(at: "status.addresses")?.arrayValue ?? []).compactMap { $0["value"]?.stringValue }.joined(separator: ",")) },
                Column(name: "Programmed") { condition($0, "Programmed") },
            ]
        case "GatewayClass":
            return [Column(name: "Controller") { text($0.value(at: "spec.controllerName"), or: "") }, Column(name: "Accepted") { condition($0, "Accepted") }]
        case "Pod":
            return [
                Column(name: "Ready") { object in
                    let containers = object.value(at: "spec.containers")?.arrayValue?.count ?? 0
                    return .string("\(condition(object, "Ready") == "True" ? containers : 0)/\(containers)")
                },
                Column(name: "Status") { text($0.value(at: "status.phase"), or: "Pending") },
                Column(name: "Restarts", type: "integer") { _ in .int(0) },
                Column(name: "IP", priority: 1) { text($0.value(at: "status.podIP")) },
                Column(name: "Node", priority: 1) { text($0.value(at: "spec.nodeName")) },
            ]
        case "EndpointSlice":
            return [
                Column(name: "AddressType") { text($0["addressType"]) },
                Column(name: "Ports") { text(($0["ports"]?.arrayValue ?? []).compactMap { $0["port"]?.int64Value.map(String.init) }.joined(separator: ",")) },
                Column(name: "Endpoints") { text(($0["endpoints"]?.arrayValue ?? []).flatMap { $0["addresses"]?.arrayValue ?? [] }.compactMap(\.stringValue).joined(separator: ",")) },
            ]
        case "Namespace": return [Column(name: "Status") { text($0.value(at: "status.phase"), or: "Active") }]
        case "ConfigMap": return [Column(name: "Data", type: "integer") { count($0, "data", "binaryData") }]
        case "Secret": return [Column(name: "Type") { text($0["type"], or: "Opaque") }, Column(name: "Data", type: "integer") { count($0, "data") }]
        case "Lease": return [Column(name: "Holder") { text($0.value(at: "spec.holderIdentity"), or: "") }]
        default: return []
        }
    }

    /// An age as the server prints it: `42s`, `3m20s`, `2h5m`, `4d`.
    static func age(_ timestamp: String?, now: Date) -> String {
        guard let timestamp, let created = ISO8601DateFormatter().date(from: timestamp) else { return "<unknown>" }
        let seconds = max(0, Int(now.timeIntervalSince(created)))
        let (minutes, hours, days) = (seconds / 60, seconds / 3600, seconds / 86400)
        switch seconds {
        case ..<120: return "\(seconds)s"
        case ..<600: return seconds % 60 == 0 ? "\(minutes)m" : "\(minutes)m\(seconds % 60)s"
        case ..<(3 * 3600): return "\(minutes)m"
        case ..<(8 * 3600): return minutes % 60 == 0 ? "\(hours)h" : "\(hours)h\(minutes % 60)m"
        case ..<(48 * 3600): return "\(hours)h"
        case ..<(8 * 86400): return hours % 24 == 0 ? "\(days)d" : "\(days)d\(hours % 24)h"
        default: return "\(days)d"
        }
    }
}
