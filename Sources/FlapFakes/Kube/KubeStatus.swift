import FlapJSON
import HTTPWire
import KubeClient

/// A `metav1.Status` failure, shaped like the real server's.
struct KubeFailure: Error {
    var code: Int
    var reason: String
    var message: String
    var details: JSONValue?
    var headers: HTTPHeaders = [:]

    var response: HTTPServerResponse {
        var status: JSONValue = ["kind": "Status", "apiVersion": "v1", "metadata": [:], "status": "Failure",
                                 "message": .string(self.message), "reason": .string(self.reason), "code": .int(self.code)]
        if let details { status[member: "details"] = details }
        return .json(status.serializedBytes, status: self.code, headers: self.headers)
    }

    static func details(_ resource: ResourceType, _ name: String?) -> JSONValue {
        var details: JSONValue = ["group": .string(resource.group), "kind": .string(resource.plural)]
        if let name { details[member: "name"] = .string(name) }
        return details
    }

    static func notFound(_ resource: ResourceType, _ name: String) -> KubeFailure {
        KubeFailure(code: 404, reason: "NotFound", message: "\(resource.qualifiedName) \"\(name)\" not found", details: self.details(resource, name))
    }

    static func alreadyExists(_ resource: ResourceType, _ name: String) -> KubeFailure {
        KubeFailure(code: 409, reason: "AlreadyExists", message: "\(resource.qualifiedName) \"\(name)\" already exists", details: self.details(resource, name))
    }

    static func conflict(_ resource: ResourceType, _ name: String) -> KubeFailure {
        KubeFailure(code: 409, reason: "Conflict",
                    message: "Operation cannot be fulfilled on \(resource.qualifiedName) \"\(name)\": the object has been modified; please apply your changes to the latest version and try again",
                    details: self.details(resource, name))
    }

    static func invalid(_ resource: ResourceType, _ name: String, _ causes: [(field: String, message: String, reason: String)]) -> KubeFailure {
        var details = self.details(resource, name)
        details[member: "causes"] = .array(causes.map { ["reason": .string($0.reason), "message": .string($0.message), "field": .string($0.field)] })
        let summary = causes.map { "\($0.field): \($0.message)" }.joined(separator: ", ")
        return KubeFailure(code: 422, reason: "Invalid", message: "\(resource.kind).\(resource.group.isEmpty ? "" : resource.group) \"\(name)\" is invalid: \(summary)"
                           .replacingOccurrences(of: ". \"", with: " \""), details: details)
    }

    static func badRequest(_ message: String) -> KubeFailure { KubeFailure(code: 400, reason: "BadRequest", message: message) }

    static func unsupportedPatch(builtIn: Bool) -> KubeFailure {
        let types = builtIn ? "application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json, application/apply-patch+yaml"
                            : "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
        return KubeFailure(code: 415, reason: "UnsupportedMediaType", message: "the body of the request was in an unknown format - accepted media types include: \(types)")
    }

    static let pathNotFound = KubeFailure(code: 404, reason: "NotFound", message: "the server could not find the requested resource")

    static func expired(_ message: String) -> KubeFailure { KubeFailure(code: 410, reason: "Expired", message: message) }
}

import Foundation
