import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// Turns HTTP requests into store operations with the real API server's semantics.
struct FakeKubeHandler: Sendable {
    let store: FakeKubeStore
    let faults: FakeKubeFaults
    let watches: WatchRegistry
    let configuration: FakeKubeAPIServer.Configuration

    func handle(_ request: HTTPServerRequest) -> HTTPServerResponse {
        if let token = self.configuration.bearerToken, request.headers["Authorization"] != "Bearer \(token)" {
            return KubeFailure(code: 401, reason: "Unauthorized", message: "Unauthorized").response
        }
        let route = FakeKubeRoute(path: request.path)
        let query = request.query
        let verb = Self.verb(request.method, route: route, watch: query["watch"] == "true" || query["watch"] == "1")
        let resource: ResourceType? = {
            switch route {
            case .collection(let r, _), .item(let r, _, _, _): r
            default: nil
            }
        }()
        if let resource, self.configuration.forbidden[resource.plural]?.contains(verb.rawValue) == true {
            let scope = Self.namespace(route).map { " in the namespace \"\($0)\"" } ?? ""
            return KubeFailure(code: 403, reason: "Forbidden",
                               message: "\(resource.qualifiedName)\(Self.name(route).map { " \"\($0)\"" } ?? "") is forbidden: User \"flap\" cannot \(verb.rawValue) resource \"\(resource.plural)\" in API group \"\(resource.group)\"\(scope)").response
        }
        var dropWatchAfter: Int?
        if let action = self.faults.take(verb: verb, resource: resource) {
            switch action {
            case .latency(let delay): Thread.sleep(forTimeInterval: Double(delay.components.seconds) + Double(delay.components.attoseconds) / 1e18)
            case .conflict:
                return KubeFailure.conflict(resource ?? .configMap, Self.name(route) ?? "").response
            case .tooManyRequests(let seconds):
                var failure = KubeFailure(code: 429, reason: "TooManyRequests", message: "Too many requests, please try again later.",
                                          details: ["retryAfterSeconds": .int(seconds)])
                failure.headers = ["Retry-After": String(seconds)]
                return failure.response
            case .internalError:
                return KubeFailure(code: 500, reason: "InternalError", message: "Internal error occurred: injected fault").response
            case .status(let code, let reason):
                return KubeFailure(code: code, reason: reason, message: "injected \(reason)").response
            case .dropWatchAfter(let events):
                dropWatchAfter = events
            }
        }
        do {
            var request = request
            let warnings = try self.validateFields(route, request: &request, query: query)
            var response = try self.dispatch(route, request: request, query: query, dropWatchAfter: dropWatchAfter)
            // One Warning header per unknown field (RFC 7234's 299, as the real server sends them).
            for warning in warnings { response.headers.add("Warning", "299 - \"unknown field \\\"\(warning)\\\"\"") }
            return response
        } catch let failure as KubeFailure {
            return failure.response
        } catch {
            return KubeFailure(code: 500, reason: "InternalError", message: "\(error)").response
        }
    }

    /// `fieldValidation=Strict` refuses a body (or apply/merge patch) naming a field its kind's schema does not;
    /// `Warn` drops such fields and returns them to warn about; `Ignore` drops them silently, as the real server
    /// does. (Without the parameter the fake keeps every field, so tests can store what they like.)
    private func validateFields(_ route: FakeKubeRoute, request: inout HTTPServerRequest, query: [String: String]) throws -> [String] {
        guard let mode = query["fieldValidation"], ["Strict", "Warn", "Ignore"].contains(mode), ["POST", "PUT", "PATCH"].contains(request.method) else { return [] }
        let resource: ResourceType
        switch route {
        case .collection(let r, _), .item(let r, _, _, nil): resource = r
        default: return []
        }
        if request.method == "PATCH", request.headers["Content-Type"]?.hasPrefix("application/json-patch+json") == true { return [] }
        guard let body = try? self.body(request) else { return [] }   // the handler reports a body it cannot read
        let (unknown, pruned) = FakeOpenAPI.unknownFields(body, resource: resource)
        guard !unknown.isEmpty else { return [] }
        if mode == "Strict" {
            throw KubeFailure.badRequest("strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        }
        request.body = pruned.serializedBytes
        if request.method != "PATCH" { request.headers.set("Content-Type", "application/json") }   // JSON is valid in every patch type left
        return mode == "Warn" ? unknown : []
    }

    static func verb(_ method: String, route: FakeKubeRoute, watch: Bool) -> FakeKubeFault.Verb {
        switch (method, route) {
        case ("GET", .collection): watch ? .watch : .list
        case ("GET", _): .get
        case ("POST", _): .create
        case ("PUT", _): .update
        case ("PATCH", _): .patch
        case ("DELETE", _): .delete
        default: .any
        }
    }

    static func namespace(_ route: FakeKubeRoute) -> String? {
        switch route {
        case .collection(_, let namespace), .item(_, let namespace, _, _): namespace
        default: nil
        }
    }

    static func name(_ route: FakeKubeRoute) -> String? {
        if case .item(_, _, let name, _) = route { return name }
        return nil
    }

    private func dispatch(_ route: FakeKubeRoute, request: HTTPServerRequest, query: [String: String], dropWatchAfter: Int?) throws -> HTTPServerResponse {
        switch (request.method, route) {
        case ("GET", .version): return .json(FakeKubeDiscovery.version.serializedBytes)
        case ("GET", .apiVersions): return .json(FakeKubeDiscovery.apiVersions.serializedBytes)
        case ("GET", .apiGroups): return .json(FakeKubeDiscovery.apiGroups.serializedBytes)
        case ("GET", .resourceList(let group, let version)):
            guard let list = FakeKubeDiscovery.resourceList(group: group, version: version) else { throw KubeFailure.pathNotFound }
            return .json(list.serializedBytes)
        case ("GET", .collection(let resource, let namespace)):
            if query["watch"] == "true" || query["watch"] == "1" {
                return try FakeKubeWatch(store: self.store, registry: self.watches, configuration: self.configuration)
                    .response(resource, namespace: namespace, query: query, dropAfter: dropWatchAfter)
            }
            let list = try self.list(resource, namespace: namespace, query: query)
            guard FakeKubeTable.wanted(request) else { return .json(list.serializedBytes) }
            return .json(FakeKubeTable.table(resource, objects: list["items"]?.arrayValue ?? [], resourceVersion: list.value(at: "metadata.resourceVersion")?.stringValue).serializedBytes)
        case ("GET", .item(let resource, let namespace, let name, _)):
            guard let object = self.store.locked({ self.store.object(resource, namespace, name) }) else { throw KubeFailure.notFound(resource, name) }
            guard FakeKubeTable.wanted(request) else { return .json(object.serializedBytes) }
            return .json(FakeKubeTable.table(resource, objects: [object], resourceVersion: object.value(at: "metadata.resourceVersion")?.stringValue).serializedBytes)
        case ("POST", .collection(.selfSubjectAccessReview, _)):
            // The fake has no RBAC: it allows everything but what its configuration forbids, and the review says so.
            var review = try self.body(request)
            let plural = review.value(at: "spec.resourceAttributes.resource")?.stringValue ?? ""
            let verb = review.value(at: "spec.resourceAttributes.verb")?.stringValue ?? ""
            let denied = self.configuration.forbidden[plural]?.contains(verb) == true
            review[member: "status"] = denied ? ["allowed": false, "reason": "forbidden by the fake API server's configuration"]
                                              : ["allowed": true, "reason": "the fake API server allows every request"]
            return .json(review.serializedBytes, status: 201)
        case ("POST", .collection(let resource, let namespace)):
            let object = try self.body(request)
            let manager = query["fieldManager"] ?? Self.defaultManager(request)
            return .json(try self.create(resource, namespace: namespace, object: object, manager: manager, dryRun: query["dryRun"] != nil).serializedBytes, status: 201)
        case ("PUT", .item(let resource, let namespace, let name, let subresource)):
            let object = try self.body(request)
            let manager = query["fieldManager"] ?? Self.defaultManager(request)
            return .json(try self.update(resource, namespace: namespace, name: name, subresource: subresource, object: object, manager: manager,
                                         dryRun: query["dryRun"] != nil).serializedBytes)
        case ("PATCH", .item(let resource, let namespace, let name, let subresource)):
            let (object, created) = try self.patch(resource, namespace: namespace, name: name, subresource: subresource, request: request, query: query)
            return .json(object.serializedBytes, status: created ? 201 : 200)
        case ("DELETE", .item(let resource, let namespace, let name, _)):
            return try self.delete(resource, namespace: namespace, name: name, request: request, query: query)
        case ("GET", .openAPI("v3")):
            return .json(FakeOpenAPI.index.serializedBytes)
        case ("GET", .openAPI(let path)) where path.hasPrefix("v3/"):
            guard let document = FakeOpenAPI.documents[String(path.dropFirst(3))] else { throw KubeFailure.pathNotFound }
            return .json(document.serializedBytes)
        case ("GET", .openAPI("v2")):
            // kubectl asks for the protobuf form only; curl and kubectl get --raw take JSON.
            if request.headers["Accept"]?.contains(FakeOpenAPIV2.protobufType) == true {
                return HTTPServerResponse(status: 200, headers: ["Content-Type": FakeOpenAPIV2.protobufResponseType], body: FakeOpenAPIV2.protobuf)
            }
            return .json(FakeOpenAPIV2.document.serializedBytes)
        case (_, .openAPI), (_, .unknown):
            throw KubeFailure.pathNotFound
        default:
            throw KubeFailure(code: 405, reason: "MethodNotAllowed", message: "the server does not allow this method on the requested resource")
        }
    }

    /// The real server names the manager of a request without one after the user agent's first word.
    static func defaultManager(_ request: HTTPServerRequest) -> String {
        let agent = request.headers["User-Agent"] ?? "unknown"
        return String(agent.split(separator: "/").first ?? "unknown")
    }

    private func body(_ request: HTTPServerRequest) throws -> JSONValue {
        if request.headers["Content-Type"]?.hasPrefix(KubeProtobuf.contentType) == true {
            do {
                return try KubeProtobuf.decode(request.body)
            } catch where error.unsupportedKind {
                throw KubeFailure(code: 415, reason: "UnsupportedMediaType", message: error.description)
            } catch {
                throw KubeFailure.badRequest("the body of the request could not be decoded: \(error)")
            }
        }
        do {
            let value = try JSONValue.parse(request.body)
            guard value.objectValue != nil else { throw KubeFailure.badRequest("the request body must be a JSON object") }
            return value
        } catch let failure as KubeFailure {
            throw failure
        } catch {
            if let yaml = try? YAML.parse(String(decoding: request.body, as: UTF8.self)), yaml.objectValue != nil { return yaml }
            throw KubeFailure.badRequest("the body of the request could not be decoded: \(error)")
        }
    }

    // MARK: - List

    private func list(_ resource: ResourceType, namespace: String?, query: [String: String]) throws -> JSONValue {
        let selector = try KubeSelector(labels: query["labelSelector"], fields: query["fieldSelector"])
        return try self.store.locked {
            let revision = self.store.revision
            var items = self.store.all(resource, namespace: namespace).filter(selector.matches)
            var continueToken: String?
            var start = 0
            if let token = query["continue"], !token.isEmpty {
                let parts = token.split(separator: ":")
                guard parts.count == 2, let offset = Int(parts[0]), let snapshot = Int(parts[1]) else {
                    throw KubeFailure.badRequest("continue key is not valid: \(token)")
                }
                guard snapshot > self.store.compactedThrough else {
                    throw KubeFailure.expired("The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.")
                }
                start = offset
            }
            items = Array(items.dropFirst(start))
            if let limit = query["limit"].flatMap(Int.init), limit > 0, items.count > limit {
                items = Array(items.prefix(limit))
                continueToken = "\(start + limit):\(revision)"
            }
            var metadata: JSONValue = ["resourceVersion": .string(String(revision))]
            if let continueToken { metadata[member: "continue"] = .string(continueToken) }
            return ["kind": .string("\(resource.kind)List"), "apiVersion": .string(resource.apiVersion), "metadata": metadata, "items": .array(items)]
        }
    }

    // MARK: - Writes

    private func requireNamespace(_ resource: ResourceType, _ namespace: String?) throws {
        guard resource.namespaced, let namespace else { return }
        guard self.store.object(.namespace, nil, namespace) != nil else {
            throw KubeFailure(code: 404, reason: "NotFound", message: "namespaces \"\(namespace)\" not found",
                              details: ["name": .string(namespace), "kind": "namespaces"])
        }
    }

    func create(_ resource: ResourceType, namespace: String?, object: JSONValue, manager: String, dryRun: Bool = false) throws -> JSONValue {
        var object = object
        if let generateName = object.value(at: "metadata.generateName")?.stringValue, object.value(at: "metadata.name") == nil {
            object.setValue(.string(generateName + String(UUID().uuidString.prefix(5)).lowercased()), at: "metadata.name")
        }
        let name = object.value(at: "metadata.name")?.stringValue ?? ""
        if let bodyNamespace = object.value(at: "metadata.namespace")?.stringValue, let namespace, bodyNamespace != namespace {
            throw KubeFailure.badRequest("the namespace of the provided object does not match the namespace sent on the request")
        }
        return try self.store.locked {
            try self.requireNamespace(resource, namespace)
            if self.store.object(resource, namespace, name) != nil { throw KubeFailure.alreadyExists(resource, name) }
            var prepared = self.prepare(resource, object, namespace: namespace)
            prepared.setValue(nil, at: "status")
            prepared.setValue(.string(UUID().uuidString.lowercased()), at: "metadata.uid")
            prepared.setValue(.string(RFC3339Now.string()), at: "metadata.creationTimestamp")
            prepared.setValue(1, at: "metadata.generation")
            prepared.setValue(nil, at: "metadata.resourceVersion")
            let causes = KubeValidation.validate(prepared, as: resource)
            guard causes.isEmpty else { throw KubeFailure.invalid(resource, name, causes) }
            let key = Self.ownerKey(resource, namespace, name)
            self.store.managers[key] = [manager: FakeKubeFields.leafPaths(prepared)]
            self.store.operations[key] = [manager: "Update"]
            prepared = self.withManagedFields(resource, prepared, key: key)
            if dryRun { return prepared }
            return self.store.put(resource, prepared, type: .added)
        }
    }

    func update(_ resource: ResourceType, namespace: String?, name: String, subresource: String?, object: JSONValue,
                manager: String, allowCreate: Bool = false, dryRun: Bool = false) throws -> JSONValue {
        if let bodyName = object.value(at: "metadata.name")?.stringValue, bodyName != name {
            throw KubeFailure.badRequest("the name of the object (\(bodyName)) does not match the name on the URL (\(name))")
        }
        return try self.store.locked {
            guard let old = self.store.object(resource, namespace, name) else { throw KubeFailure.notFound(resource, name) }
            let sent = object.value(at: "metadata.resourceVersion")?.stringValue ?? ""
            if sent.isEmpty || sent == "0" {
                if !resource.builtIn {
                    throw KubeFailure.invalid(resource, name, [("metadata.resourceVersion", "Invalid value: 0: must be specified for an update", "FieldValueInvalid")])
                }
            } else if sent != old.value(at: "metadata.resourceVersion")?.stringValue {
                throw KubeFailure.conflict(resource, name)
            }
            return try self.store(resource, old: old, new: object, subresource: subresource, manager: manager, operation: "Update", dryRun: dryRun)
        }
    }

    /// Applies a write to an existing object: spec vs status, generation, validation, ownership, finalizers.
    /// Called with the store locked. A dry run (`dryRun=All`) returns what would be stored and changes nothing.
    func store(_ resource: ResourceType, old: JSONValue, new: JSONValue, subresource: String?, manager: String, operation: String,
               dryRun: Bool = false) throws -> JSONValue {
        let name = old.value(at: "metadata.name")?.stringValue ?? ""
        let namespace = old.value(at: "metadata.namespace")?.stringValue
        var next: JSONValue
        if subresource == "status" {
            next = old
            next[member: "status"] = new["status"]
        } else if subresource != nil {
            throw KubeFailure.pathNotFound
        } else {
            next = self.prepare(resource, new, namespace: namespace)
            next[member: "status"] = old["status"]
            for field in ["uid", "creationTimestamp", "generation", "deletionTimestamp"] {
                next.setValue(old.value(at: "metadata.\(field)"), at: "metadata.\(field)")
            }
            if Self.specContent(next) != Self.specContent(old) {
                next.setValue(.int(Int(old.value(at: "metadata.generation")?.int64Value ?? 1) + 1), at: "metadata.generation")
            }
        }
        let causes = KubeValidation.validate(next, as: resource)
        guard causes.isEmpty else { throw KubeFailure.invalid(resource, name, causes) }
        let key = Self.ownerKey(resource, namespace, name)
        if dryRun { return next }
        self.takeOwnership(of: Self.changedPaths(old, next, includeStatus: subresource == "status"), by: manager, operation: operation, key: key)
        next = self.withManagedFields(resource, next, key: key)
        if next.value(at: "metadata.deletionTimestamp") != nil && (next.value(at: "metadata.finalizers")?.arrayValue ?? []).isEmpty {
            return self.store.remove(resource, namespace, name) ?? next
        }
        if Self.comparable(next) == Self.comparable(old) { return old }
        return self.store.put(resource, next, type: .modified)
    }

    /// What `generation` tracks: everything but metadata and status.
    static func specContent(_ object: JSONValue) -> JSONValue {
        var content = object
        content[member: "metadata"] = nil
        content[member: "status"] = nil
        return content
    }

    static func comparable(_ object: JSONValue) -> JSONValue {
        var content = object
        content.setValue(nil, at: "metadata.managedFields")
        content.setValue(nil, at: "metadata.resourceVersion")
        return content
    }

    func prepare(_ resource: ResourceType, _ object: JSONValue, namespace: String?) -> JSONValue {
        var object = object
        object[member: "apiVersion"] = .string(resource.apiVersion)
        object[member: "kind"] = .string(resource.kind)
        if resource.namespaced { object.setValue(.string(namespace ?? "default"), at: "metadata.namespace") } else {
            object.setValue(nil, at: "metadata.namespace")
        }
        object.setValue(nil, at: "metadata.managedFields")
        if resource == .httpRoute { object = KubeValidation.defaultHTTPRoute(object) }
        // The real server's defaulting: a Secret without a type is Opaque.
        if resource == .secret, object["type"]?.stringValue?.isEmpty ?? true { object[member: "type"] = "Opaque" }
        return object
    }

    static func ownerKey(_ resource: ResourceType, _ namespace: String?, _ name: String) -> String {
        FakeKubeStore.key(namespace, name) + "@" + resource.qualifiedName
    }

    static func changedPaths(_ old: JSONValue, _ new: JSONValue, includeStatus: Bool) -> Set<FieldPath> {
        let paths = FakeKubeFields.leafPaths(new, includeStatus: includeStatus)
        return paths.filter { FakeKubeFields.value(old, at: $0) != FakeKubeFields.value(new, at: $0) }
    }

    func takeOwnership(of paths: Set<FieldPath>, by manager: String, operation: String, key: String) {
        guard !paths.isEmpty else { return }
        var owners = self.store.managers[key] ?? [:]
        for other in owners.keys where other != manager { owners[other]?.subtract(paths) }
        owners[manager, default: []].formUnion(paths)
        self.store.managers[key] = owners
        self.store.operations[key, default: [:]][manager] = operation
    }

    func withManagedFields(_ resource: ResourceType, _ object: JSONValue, key: String) -> JSONValue {
        var object = object
        object.setValue(FakeKubeFields.managedFields(self.store.managers[key] ?? [:], apiVersion: resource.apiVersion,
                                                     operations: self.store.operations[key] ?? [:]), at: "metadata.managedFields")
        return object
    }

    // MARK: - Delete

    private func delete(_ resource: ResourceType, namespace: String?, name: String, request: HTTPServerRequest, query: [String: String]) throws -> HTTPServerResponse {
        let options = request.body.isEmpty ? [:] : ((try? JSONValue.parse(request.body)) ?? [:])
        return try self.store.locked {
            guard let object = self.store.object(resource, namespace, name) else { throw KubeFailure.notFound(resource, name) }
            if let uid = options["preconditions"]?["uid"]?.stringValue, uid != object.value(at: "metadata.uid")?.stringValue {
                throw KubeFailure(code: 409, reason: "Conflict",
                                  message: "Operation cannot be fulfilled on \(resource.qualifiedName) \"\(name)\": Precondition failed: UID in precondition: \(uid), UID in object meta: \(object.value(at: "metadata.uid")?.stringValue ?? "")",
                                  details: KubeFailure.details(resource, name))
            }
            if let rv = options["preconditions"]?["resourceVersion"]?.stringValue, rv != object.value(at: "metadata.resourceVersion")?.stringValue {
                throw KubeFailure(code: 409, reason: "Conflict",
                                  message: "Operation cannot be fulfilled on \(resource.qualifiedName) \"\(name)\": Precondition failed: ResourceVersion in precondition: \(rv), ResourceVersion in object meta: \(object.value(at: "metadata.resourceVersion")?.stringValue ?? "")",
                                  details: KubeFailure.details(resource, name))
            }
            if query["dryRun"] != nil { return .json(object.serializedBytes) }
            if !(object.value(at: "metadata.finalizers")?.arrayValue ?? []).isEmpty {
                if object.value(at: "metadata.deletionTimestamp") != nil { return .json(object.serializedBytes) }
                var marked = object
                marked.setValue(.string(RFC3339Now.string()), at: "metadata.deletionTimestamp")
                marked.setValue(.int(Int(options["gracePeriodSeconds"]?.int64Value ?? 0)), at: "metadata.deletionGracePeriodSeconds")
                return .json(self.store.put(resource, marked, type: .modified).serializedBytes)
            }
            _ = self.store.remove(resource, namespace, name)
            var details = KubeFailure.details(resource, name)
            details[member: "uid"] = object.value(at: "metadata.uid")
            let status: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Success", "details": details]
            return .json(status.serializedBytes)
        }
    }
}
