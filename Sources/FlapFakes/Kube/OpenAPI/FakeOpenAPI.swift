import FlapJSON
import Foundation
import KubeClient

/// The fake's /openapi/v3: an index of group-versions and, for each, an OpenAPI 3.0 document with the served kinds'
/// paths and schemas, as a real API server publishes them. kubectl reads it to learn that the server validates
/// fields itself (a `fieldValidation` parameter on each kind's PATCH), for `kubectl explain`, and for apply's
/// patches; the fake then rejects (Strict) or warns about (Warn) fields the schemas do not name.
enum FakeOpenAPI {
    /// `api/v1`, `apis/networking.k8s.io/v1`: how /openapi/v3 names a group-version.
    static func path(of resource: ResourceType) -> String {
        resource.group.isEmpty ? "api/\(resource.version)" : "apis/\(resource.group)/\(resource.version)"
    }

    static let served: [ResourceType] = FakeKubeRoute.served.filter { $0.kind != ResourceType.selfSubjectAccessReview.kind }

    static let index: JSONValue = {
        var paths: [String: JSONValue] = [:]
        for resource in served { paths[path(of: resource)] = ["serverRelativeURL": .string("/openapi/v3/\(path(of: resource))?hash=flap-fake-1")] }
        return ["paths": .object(paths)]
    }()

    /// Each group-version's document, built once.
    static let documents: [String: JSONValue] = {
        var documents: [String: JSONValue] = [:]
        for groupVersion in Set(served.map(path(of:))) {
            let resources = served.filter { path(of: $0) == groupVersion }
            var schemas = CoreSchemas.shared
            var paths: [String: JSONValue] = [:]
            for resource in resources {
                let (name, schema) = FakeOpenAPI.schema(for: resource)
                schemas[name] = schema
                paths.merge(FakeOpenAPI.paths(for: resource, schema: name)) { $1 }
            }
            documents[groupVersion] = ["openapi": "3.0.0", "info": ["title": "Kubernetes (flap's fake API server)", "version": "v1.32.0"],
                                       "paths": .object(paths), "components": ["schemas": .object(schemas)]]
        }
        return documents
    }()

    /// The kind's schema name and schema: apiVersion, kind, metadata (ObjectMeta) and the kind's own fields.
    /// The name the kind's schema has in its document's components.
    static func schemaName(for resource: ResourceType) -> String {
        if let core = CoreSchemas.kinds[resource.kind] { return core.name }
        return resource.group == ResourceType.httpRoute.group ? "io.k8s.networking.gateway.\(resource.version).\(resource.kind)" : "flap.fake.\(resource.kind)"
    }

    static func schema(for resource: ResourceType) -> (String, JSONValue) {
        let gvk: JSONValue = [["group": .string(resource.group), "kind": .string(resource.kind), "version": .string(resource.version)]]
        var schema: JSONValue
        if let crd = self.crdSchema(resource.kind) {
            schema = crd
        } else if let core = CoreSchemas.kinds[resource.kind] {
            schema = CoreSchemas.object(core.description, core.properties)
        } else {
            schema = ["type": "object", "x-kubernetes-preserve-unknown-fields": true]
        }
        let name = self.schemaName(for: resource)
        schema.setValue(CoreSchemas.string("The versioned schema of this representation."), at: "properties.apiVersion")
        schema.setValue(CoreSchemas.string("The kind of object, in CamelCase."), at: "properties.kind")
        schema.setValue(CoreSchemas.ref(CoreSchemas.metaPrefix + "ObjectMeta", "Standard object metadata."), at: "properties.metadata")
        schema[member: "x-kubernetes-group-version-kind"] = gvk
        return (name, schema)
    }

    static func crdSchema(_ kind: String) -> JSONValue? {
        switch kind {
        case "HTTPRoute": try? JSONValue.parse(GatewayAPISchemas.httpRoute)
        case "Gateway": try? JSONValue.parse(GatewayAPISchemas.gateway)
        default: nil
        }
    }

    static func paths(for resource: ResourceType, schema: String) -> [String: JSONValue] {
        let base = "/" + self.path(of: resource) + (resource.namespaced ? "/namespaces/{namespace}" : "") + "/\(resource.plural)"
        let gvk: JSONValue = ["group": .string(resource.group), "kind": .string(resource.kind), "version": .string(resource.version)]
        func query(_ name: String, _ description: String) -> JSONValue {
            ["name": .string(name), "in": "query", "description": .string(description), "schema": ["type": "string", "uniqueItems": true]]
        }
        let writes = [query("dryRun", "All: check the request without persisting it."), query("fieldManager", "The name of the writer."),
                      query("fieldValidation", "Ignore, Warn or Strict: what to do with fields the schema does not name.")]
        func operation(_ action: String, _ parameters: [JSONValue], body: [String] = []) -> JSONValue {
            var op: JSONValue = [
                "operationId": .string("\(action)\(resource.kind)"), "x-kubernetes-action": .string(action), "x-kubernetes-group-version-kind": gvk,
                "parameters": .array(parameters),
                "responses": ["200": ["description": "OK", "content": ["application/json": ["schema": ["$ref": .string("#/components/schemas/\(schema)")]]]]],
            ]
            if !body.isEmpty {
                op[member: "requestBody"] = ["content": .object(Dictionary(uniqueKeysWithValues: body.map { ($0, ["schema": ["type": "object"]]) }))]
            }
            return op
        }
        let patchTypes = ["application/apply-patch+yaml", "application/json-patch+json", "application/merge-patch+json"]
            + (resource.builtIn ? ["application/strategic-merge-patch+json"] : [])
        return [
            base: ["get": operation("list", []), "post": operation("post", writes, body: ["application/json"])],
            base + "/{name}": ["get": operation("get", []), "put": operation("put", writes, body: ["application/json"]),
                               "patch": operation("patch", writes + [query("force", "Take over conflicting fields (apply).")], body: patchTypes),
                               "delete": operation("delete", [query("dryRun", "All: check the request without persisting it.")])],
        ]
    }

    // MARK: - Field validation

    /// The fields of `object` (a body, or an apply or merge patch) that the kind's schema does not name, as the real
    /// server reports them (`spec.rules[0].foo`), and the object without them (what the server stores: it drops
    /// unknown fields unless told to refuse them).
    static func unknownFields(_ object: JSONValue, resource: ResourceType) -> (paths: [String], pruned: JSONValue) {
        // The documents are built once; the schema is looked up there, not rebuilt (the CRDs are large to parse).
        guard let document = self.documents[self.path(of: resource)] else { return ([], object) }
        let name = self.schemaName(for: resource)
        let components = document.value(at: "components.schemas")?.objectValue ?? [:]
        guard let schema = components[name] else { return ([], object) }
        var unknown: [String] = []
        let pruned = self.walk(object, schema, components, path: "", into: &unknown)
        return (unknown, pruned)
    }

    private static func resolve(_ schema: JSONValue, _ components: [String: JSONValue]) -> JSONValue {
        let reference = schema["$ref"]?.stringValue ?? schema["allOf"]?.arrayValue?.first?["$ref"]?.stringValue
        guard let reference, let target = components[String(reference.split(separator: "/").last ?? "")] else { return schema }
        return target
    }

    private static func walk(_ value: JSONValue, _ schema: JSONValue, _ components: [String: JSONValue], path: String,
                             into unknown: inout [String]) -> JSONValue {
        let schema = self.resolve(schema, components)
        if schema["x-kubernetes-preserve-unknown-fields"]?.boolValue == true || schema["x-kubernetes-int-or-string"]?.boolValue == true { return value }
        switch value {
        case .object(let fields):
            let properties = schema["properties"]?.objectValue
            let additional = schema["additionalProperties"]
            if properties == nil && additional == nil && schema["type"] == nil { return value }   // a free-form object
            var kept: [String: JSONValue] = [:]
            for (key, field) in fields.sorted(by: { $0.key < $1.key }) {
                let at = path.isEmpty ? key : "\(path).\(key)"
                if key.hasPrefix("$") {
                    kept[key] = field   // a strategic-merge-patch directive ($patch, $setElementOrder/..., $retainKeys)
                } else if let property = properties?[key] {
                    kept[key] = self.walk(field, property, components, path: at, into: &unknown)
                } else if let additional, additional.objectValue != nil {
                    kept[key] = self.walk(field, additional, components, path: at, into: &unknown)
                } else if additional?.boolValue == true {
                    kept[key] = field
                } else {
                    unknown.append(at)
                }
            }
            return .object(kept)
        case .array(let items):
            guard let itemSchema = schema["items"] else { return value }
            return .array(items.enumerated().map { index, item in self.walk(item, itemSchema, components, path: "\(path)[\(index)]", into: &unknown) })
        default:
            return value
        }
    }
}
