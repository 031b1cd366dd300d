import FlapJSON
import Foundation
import KubeClient

typealias FieldCause = (field: String, message: String, reason: String)

/// Validation and defaulting, as the API server applies them to the kinds the fake serves.
enum KubeValidation {
    static func validate(_ object: JSONValue, as resource: ResourceType) -> [FieldCause] {
        var causes: [FieldCause] = []
        let name = object.value(at: "metadata.name")?.stringValue ?? ""
        if name.isEmpty {
            causes.append(("metadata.name", "Required value: name or generateName is required", "FieldValueRequired"))
        } else if !self.isDNSSubdomain(name) {
            causes.append(("metadata.name", "Invalid value: \"\(name)\": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character", "FieldValueInvalid"))
        }
        switch resource {
        case .ingress: causes += self.ingress(object["spec"] ?? [:])
        case .httpRoute: causes += self.httpRoute(object["spec"] ?? [:], status: object["status"])
        default: break
        }
        return causes
    }

    static func isDNSSubdomain(_ name: String) -> Bool {
        name.count <= 253 && name.range(of: #"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"#, options: .regularExpression) != nil
    }

    static let invalidPathSequences = ["//", "/./", "/../", "%2f", "%2F", "#"]

    static func badPath(_ path: String) -> Bool {
        !path.hasPrefix("/") || self.invalidPathSequences.contains { path.contains($0) } || path.hasSuffix("/..") || path.hasSuffix("/.")
    }

    static func ingress(_ spec: JSONValue) -> [FieldCause] {
        var causes: [FieldCause] = []
        let rules = spec["rules"]?.arrayValue ?? []
        if rules.isEmpty && spec["defaultBackend"] == nil {
            causes.append(("spec", "Invalid value: either `defaultBackend` or `rules` must be specified", "FieldValueInvalid"))
        }
        for (r, rule) in rules.enumerated() {
            if let host = rule["host"]?.stringValue, host.range(of: #"^[0-9.]+$"#, options: .regularExpression) != nil {
                causes.append(("spec.rules[\(r)].host", "Invalid value: \"\(host)\": must be a DNS name, not an IP address", "FieldValueInvalid"))
            }
            guard let http = rule["http"] else { continue }
            let paths = http["paths"]?.arrayValue ?? []
            if paths.isEmpty { causes.append(("spec.rules[\(r)].http.paths", "Required value", "FieldValueRequired")) }
            for (p, path) in paths.enumerated() {
                let field = "spec.rules[\(r)].http.paths[\(p)]"
                guard let type = path["pathType"]?.stringValue else {
                    causes.append(("\(field).pathType", "Required value: pathType must be specified", "FieldValueRequired"))
                    continue
                }
                guard ["Exact", "Prefix", "ImplementationSpecific"].contains(type) else {
                    causes.append(("\(field).pathType", "Unsupported value: \"\(type)\": supported values: \"Exact\", \"ImplementationSpecific\", \"Prefix\"", "FieldValueNotSupported"))
                    continue
                }
                let value = path["path"]?.stringValue ?? ""
                if type != "ImplementationSpecific" && self.badPath(value) || type == "ImplementationSpecific" && !value.isEmpty && !value.hasPrefix("/") {
                    causes.append(("\(field).path", "Invalid value: \"\(value)\": must be an absolute path", "FieldValueInvalid"))
                }
                causes += self.ingressBackend(path["backend"], field: "\(field).backend")
            }
        }
        if let backend = spec["defaultBackend"] { causes += self.ingressBackend(backend, field: "spec.defaultBackend") }
        return causes
    }

    static func ingressBackend(_ backend: JSONValue?, field: String) -> [FieldCause] {
        guard let backend else { return [(field, "Required value", "FieldValueRequired")] }
        let service = backend["service"]
        if service != nil && backend["resource"] != nil { return [(field, "Invalid value: cannot set both resource and service backends", "FieldValueInvalid")] }
        guard let service else {
            return backend["resource"] == nil ? [(field, "Invalid value: one backend (service or resource) must be specified", "FieldValueInvalid")] : []
        }
        var causes: [FieldCause] = []
        if (service["name"]?.stringValue ?? "").isEmpty { causes.append(("\(field).service.name", "Required value", "FieldValueRequired")) }
        let port = service["port"]
        let number = port?["number"]?.int64Value
        let portName = port?["name"]?.stringValue
        if number != nil && portName != nil { causes.append(("\(field).service.port", "Invalid value: cannot set both port name & port number", "FieldValueInvalid")) }
        if number == nil && portName == nil { causes.append(("\(field).service.port", "Invalid value: port name or number is required", "FieldValueInvalid")) }
        if let number, !(1...65535).contains(number) { causes.append(("\(field).service.port.number", "Invalid value: \(number): must be between 1 and 65535, inclusive", "FieldValueInvalid")) }
        return causes
    }

    /// The OpenAPI limits and the CEL rules of the v1.3.0 standard HTTPRoute CRD that flap's tests depend on.
    static func httpRoute(_ spec: JSONValue, status: JSONValue?) -> [FieldCause] {
        var causes: [FieldCause] = []
        func tooMany(_ field: String, _ count: Int, _ max: Int) {
            if count > max { causes.append((field, "Too many: \(count): must have at most \(max) items", "FieldValueTooMany")) }
        }
        tooMany("spec.parentRefs", spec["parentRefs"]?.arrayValue?.count ?? 0, 32)
        let hostnames = spec["hostnames"]?.arrayValue ?? []
        tooMany("spec.hostnames", hostnames.count, 16)
        for (h, host) in hostnames.enumerated() {
            let text = host.stringValue ?? ""
            if text.count > 253 || text.range(of: #"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"#, options: .regularExpression) == nil {
                causes.append(("spec.hostnames[\(h)]", "Invalid value: \"\(text)\": spec.hostnames[\(h)] in body should match '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'", "FieldValueInvalid"))
            }
        }
        for (p, parent) in (spec["parentRefs"]?.arrayValue ?? []).enumerated() where (parent["name"]?.stringValue ?? "").isEmpty {
            causes.append(("spec.parentRefs[\(p)].name", "Required value", "FieldValueRequired"))
        }
        let rules = spec["rules"]?.arrayValue ?? []
        tooMany("spec.rules", rules.count, 16)
        var totalMatches = 0
        for (r, rule) in rules.enumerated() {
            let matches = rule["matches"]?.arrayValue ?? []
            totalMatches += matches.count
            tooMany("spec.rules[\(r)].matches", matches.count, 64)
            for (m, match) in matches.enumerated() {
                if let path = match["path"], ["Exact", "PathPrefix"].contains(path["type"]?.stringValue ?? "PathPrefix"),
                   let value = path["value"]?.stringValue, self.badPath(value) {
                    causes.append(("spec.rules[\(r)].matches[\(m)].path", "Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']", "FieldValueInvalid"))
                }
                tooMany("spec.rules[\(r)].matches[\(m)].headers", match["headers"]?.arrayValue?.count ?? 0, 16)
                tooMany("spec.rules[\(r)].matches[\(m)].queryParams", match["queryParams"]?.arrayValue?.count ?? 0, 16)
            }
            let filters = rule["filters"]?.arrayValue ?? []
            tooMany("spec.rules[\(r)].filters", filters.count, 16)
            let backends = rule["backendRefs"]?.arrayValue ?? []
            tooMany("spec.rules[\(r)].backendRefs", backends.count, 16)
            if filters.contains(where: { $0["type"]?.stringValue == "RequestRedirect" }) && !backends.isEmpty {
                causes.append(("spec.rules[\(r)]", "Invalid value: \"object\": RequestRedirect filter must not be used together with backendRefs", "FieldValueInvalid"))
            }
            for (b, backend) in backends.enumerated() {
                let field = "spec.rules[\(r)].backendRefs[\(b)]"
                if (backend["name"]?.stringValue ?? "").isEmpty { causes.append(("\(field).name", "Required value", "FieldValueRequired")) }
                if let weight = backend["weight"]?.int64Value, !(0...1_000_000).contains(weight) {
                    causes.append(("\(field).weight", "Invalid value: \(weight): \(field).weight in body should be less than or equal to 1000000", "FieldValueInvalid"))
                }
                let kind = backend["kind"]?.stringValue ?? "Service"
                let group = backend["group"]?.stringValue ?? ""
                if kind == "Service" && group.isEmpty && backend["port"] == nil {
                    causes.append((field, "Invalid value: \"object\": Must have port for Service reference", "FieldValueInvalid"))
                }
                if let port = backend["port"]?.int64Value, !(1...65535).contains(port) {
                    causes.append(("\(field).port", "Invalid value: \(port): must be between 1 and 65535", "FieldValueInvalid"))
                }
                tooMany("\(field).filters", backend["filters"]?.arrayValue?.count ?? 0, 16)
            }
        }
        if totalMatches >= 128 {
            causes.append(("spec.rules", "Invalid value: \"array\": While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128", "FieldValueInvalid"))
        }
        if let parents = status?["parents"]?.arrayValue {
            tooMany("status.parents", parents.count, 32)
            for (p, parent) in parents.enumerated() {
                let count = parent["conditions"]?.arrayValue?.count ?? 0
                if count < 1 || count > 8 { causes.append(("status.parents[\(p)].conditions", "Invalid value: must have 1 to 8 conditions", "FieldValueInvalid")) }
            }
        }
        return causes
    }

    /// The HTTPRoute CRD's structural-schema defaults (a real server applies them on every write and read).
    static func defaultHTTPRoute(_ object: JSONValue) -> JSONValue {
        var object = object
        var spec = object["spec"] ?? [:]
        spec[member: "parentRefs"] = spec["parentRefs"].map { refs in
            .array((refs.arrayValue ?? []).map { ref in
                var ref = ref
                if ref["group"] == nil { ref[member: "group"] = "gateway.networking.k8s.io" }
                if ref["kind"] == nil { ref[member: "kind"] = "Gateway" }
                return ref
            })
        }
        let defaultMatch: JSONValue = ["path": ["type": "PathPrefix", "value": "/"]]
        let rules = spec["rules"]?.arrayValue ?? [["matches": [defaultMatch]]]
        spec[member: "rules"] = .array(rules.map { rule in
            var rule = rule
            let matches = rule["matches"]?.arrayValue ?? [defaultMatch]
            rule[member: "matches"] = .array(matches.map { match in
                var match = match
                if match["path"] == nil { match[member: "path"] = defaultMatch["path"] }
                if var path = match["path"] {
                    if path["type"] == nil { path[member: "type"] = "PathPrefix" }
                    if path["value"] == nil { path[member: "value"] = "/" }
                    match[member: "path"] = path
                }
                if let headers = match["headers"]?.arrayValue {
                    match[member: "headers"] = .array(headers.map { h in var h = h; if h["type"] == nil { h[member: "type"] = "Exact" }; return h })
                }
                return match
            })
            if let backends = rule["backendRefs"]?.arrayValue {
                rule[member: "backendRefs"] = .array(backends.map { b in
                    var b = b
                    if b["group"] == nil { b[member: "group"] = "" }
                    if b["kind"] == nil { b[member: "kind"] = "Service" }
                    if b["weight"] == nil { b[member: "weight"] = 1 }
                    return b
                })
            }
            return rule
        })
        object[member: "spec"] = spec
        return object
    }
}
