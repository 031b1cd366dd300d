import FlapJSON
import Foundation
import KubeClient

/// The schemas of the built-in kinds the fake serves, as /openapi/v3 publishes them: the fields a user can set,
/// their types, and a line on each (written for the fake; the real descriptions are longer). `kubectl explain`
/// reads them, and strict field validation rejects what they do not name.
enum CoreSchemas {
    static let metaPrefix = "io.k8s.apimachinery.pkg.apis.meta.v1."

    static func object(_ description: String, _ properties: [String: JSONValue], required: [String] = []) -> JSONValue {
        var schema: JSONValue = ["type": "object", "description": .string(description), "properties": .object(properties)]
        if !required.isEmpty { schema[member: "required"] = .array(required.map(JSONValue.string)) }
        return schema
    }
    static func string(_ description: String, format: String? = nil) -> JSONValue {
        var schema: JSONValue = ["type": "string", "description": .string(description)]
        if let format { schema[member: "format"] = .string(format) }
        return schema
    }
    static func integer(_ description: String, format: String = "int32") -> JSONValue {
        ["type": "integer", "format": .string(format), "description": .string(description)]
    }
    static func boolean(_ description: String) -> JSONValue { ["type": "boolean", "description": .string(description)] }
    static func map(_ description: String, format: String? = nil) -> JSONValue {
        var values: JSONValue = ["type": "string"]
        if let format { values[member: "format"] = .string(format) }
        return ["type": "object", "description": .string(description), "additionalProperties": values]
    }
    static func array(_ description: String, _ items: JSONValue) -> JSONValue {
        ["type": "array", "description": .string(description), "items": items]
    }
    static func ref(_ name: String, _ description: String) -> JSONValue {
        ["description": .string(description), "allOf": [["$ref": .string("#/components/schemas/\(name)")]], "default": [:]]
    }
    static let intOrStringName = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
    static let intOrString = ref(intOrStringName, "A port number or name.")
    static let conditions = array("Observations of the object's state.", ref(metaPrefix + "Condition", "One observation."))

    /// ObjectMeta, Condition and the other shared definitions.
    static let shared: [String: JSONValue] = [
        metaPrefix + "ObjectMeta": object("Standard object metadata.", [
            "name": string("Unique within a namespace; cannot be changed."),
            "generateName": string("A prefix the server completes to a unique name when name is empty."),
            "namespace": string("The namespace the object lives in."),
            "uid": string("Unique in time and space; set by the server."),
            "resourceVersion": string("The object's version, for optimistic concurrency and watches; set by the server."),
            "generation": integer("Incremented on every change of the desired state; set by the server.", format: "int64"),
            "creationTimestamp": string("When the object was created; set by the server.", format: "date-time"),
            "deletionTimestamp": string("When the object will be deleted (it has finalizers); set by the server.", format: "date-time"),
            "deletionGracePeriodSeconds": integer("Seconds the object has to terminate.", format: "int64"),
            "labels": map("Keys and values for selection."),
            "annotations": map("Keys and values for tools; not selectable."),
            "ownerReferences": array("Objects this one depends on.", object("An owner.", [
                "apiVersion": string("The owner's API version."), "kind": string("The owner's kind."), "name": string("The owner's name."),
                "uid": string("The owner's uid."), "controller": boolean("True for the managing controller."),
                "blockOwnerDeletion": boolean("True when the owner cannot be deleted before this object."),
            ], required: ["apiVersion", "kind", "name", "uid"])),
            "finalizers": array("Must be empty before the object is deleted.", ["type": "string"]),
            "managedFields": array("Which manager set which fields (server-side apply).", ["type": "object", "x-kubernetes-preserve-unknown-fields": true]),
            "selfLink": string("Deprecated; not set."),
        ]),
        intOrStringName: ["type": "string", "format": "int-or-string", "x-kubernetes-int-or-string": true,
                          "description": "An integer or a string."],
        metaPrefix + "Condition": object("One aspect of an object's state.", [
            "type": string("The condition's type, e.g. Accepted."), "status": string("True, False or Unknown."),
            "observedGeneration": integer("The generation the condition was set for.", format: "int64"),
            "lastTransitionTime": string("When the status last changed.", format: "date-time"),
            "reason": string("A machine-readable reason in CamelCase."), "message": string("A human-readable message."),
        ], required: ["type", "status", "lastTransitionTime", "reason", "message"]),
    ]

    static let ingressBackend = object("Where matching requests go.", [
        "service": object("A Service and port.", [
            "name": string("The Service's name."),
            "port": object("The Service's port.", ["name": string("A port name."), "number": integer("A port number.")]),
        ], required: ["name"]),
        "resource": object("A resource in the Ingress's namespace.", ["apiGroup": string("Its group."), "kind": string("Its kind."), "name": string("Its name.")]),
    ])

    /// Each built-in kind's own schema (without apiVersion, kind and metadata, which ``FakeOpenAPI`` adds).
    static let kinds: [String: (name: String, description: String, properties: [String: JSONValue])] = [
        "Namespace": ("io.k8s.api.core.v1.Namespace", "A scope for names.", [
            "spec": object("What the namespace needs.", ["finalizers": array("Must be empty before the namespace goes.", ["type": "string"])]),
            "status": object("The namespace's state.", ["phase": string("Active or Terminating."), "conditions": conditions]),
        ]),
        "ConfigMap": ("io.k8s.api.core.v1.ConfigMap", "Non-secret configuration.", [
            "data": map("UTF-8 values."), "binaryData": map("Binary values, base64.", format: "byte"),
            "immutable": boolean("True when data cannot change."),
        ]),
        "Secret": ("io.k8s.api.core.v1.Secret", "Secret data.", [
            "data": map("Values, base64.", format: "byte"), "stringData": map("Values as text; merged into data on write."),
            "type": string("How the data is used; Opaque when empty."), "immutable": boolean("True when data cannot change."),
        ]),
        "Service": ("io.k8s.api.core.v1.Service", "A name and a virtual address for a set of pods.", [
            "spec": object("What the Service exposes.", [
                "ports": array("The ports it exposes.", object("A port.", [
                    "name": string("Unique within the Service."), "protocol": string("TCP, UDP or SCTP."), "appProtocol": string("The application protocol."),
                    "port": integer("The port the Service exposes."), "targetPort": intOrString, "nodePort": integer("The port on each node."),
                ], required: ["port"])),
                "selector": map("The pod labels that make its endpoints."), "clusterIP": string("The virtual address, or None."),
                "clusterIPs": array("Its virtual addresses.", ["type": "string"]), "type": string("ClusterIP, NodePort, LoadBalancer or ExternalName."),
                "externalIPs": array("Addresses that also reach it.", ["type": "string"]), "sessionAffinity": string("ClientIP or None."),
                "loadBalancerIP": string("Deprecated."), "loadBalancerSourceRanges": array("Allowed client ranges.", ["type": "string"]),
                "externalName": string("The name an ExternalName Service aliases."), "externalTrafficPolicy": string("Cluster or Local."),
                "healthCheckNodePort": integer("The health check node port."), "publishNotReadyAddresses": boolean("Publish endpoints that are not ready."),
                "sessionAffinityConfig": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "Session affinity settings."],
                "ipFamilies": array("IPv4 and/or IPv6.", ["type": "string"]), "ipFamilyPolicy": string("SingleStack, PreferDualStack or RequireDualStack."),
                "allocateLoadBalancerNodePorts": boolean("Allocate node ports for a LoadBalancer."), "loadBalancerClass": string("The load balancer implementation."),
                "internalTrafficPolicy": string("Cluster or Local."), "trafficDistribution": string("How traffic is spread over endpoints."),
            ]),
            "status": object("The Service's state.", [
                "loadBalancer": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "The load balancer's addresses."],
                "conditions": conditions,
            ]),
        ]),
        "Ingress": ("io.k8s.api.networking.v1.Ingress", "Rules that send outside HTTP traffic to Services.", [
            "spec": object("The rules.", [
                "ingressClassName": string("The IngressClass that implements it."), "defaultBackend": ingressBackend,
                "tls": array("TLS settings.", object("One certificate.", ["hosts": array("The hosts it covers.", ["type": "string"]), "secretName": string("The Secret holding it.")])),
                "rules": array("Host rules.", object("One host's paths.", [
                    "host": string("The host (may start with *.)."),
                    "http": object("Its paths.", ["paths": array("The paths.", object("One path.", [
                        "path": string("The path to match."), "pathType": string("Exact, Prefix or ImplementationSpecific."), "backend": ingressBackend,
                    ], required: ["pathType", "backend"]))], required: ["paths"]),
                ])),
            ]),
            "status": object("The Ingress's state.", [
                "loadBalancer": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "The load balancer's addresses."],
            ]),
        ]),
        "Pod": ("io.k8s.api.core.v1.Pod", "A group of containers on one host; in the lab, a fake Trino process on loopback.", [
            "spec": object("The containers and how they run.", [
                "containers": array("The containers.", object("One container.", [
                    "name": string("Unique within the pod."), "image": string("The image."),
                    "ports": array("The ports it listens on.", object("A port.", [
                        "name": string("A name Services can target."), "containerPort": integer("The port number."),
                        "protocol": string("TCP, UDP or SCTP."), "hostPort": integer("A port on the host."), "hostIP": string("The host address."),
                    ], required: ["containerPort"])),
                    "command": array("The entrypoint.", ["type": "string"]), "args": array("Its arguments.", ["type": "string"]),
                    "env": ["type": "array", "items": ["type": "object", "x-kubernetes-preserve-unknown-fields": true], "description": "Environment."],
                    "resources": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "Requests and limits."],
                    "readinessProbe": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "When it is ready."],
                ], required: ["name"])),
                "nodeName": string("The node it runs on."), "restartPolicy": string("Always, OnFailure or Never."),
                "terminationGracePeriodSeconds": integer("Seconds between SIGTERM and SIGKILL.", format: "int64"),
            ], required: ["containers"]),
            "status": object("What the pod is doing.", [
                "phase": string("Pending, Running, Succeeded, Failed or Unknown."), "podIP": string("Its address."),
                "podIPs": array("Its addresses.", object("An address.", ["ip": string("The address.")])),
                "hostIP": string("Its node's address."), "startTime": string("When it started.", format: "date-time"), "conditions": conditions,
            ]),
        ]),
        "EndpointSlice": ("io.k8s.api.discovery.v1.EndpointSlice", "Some of a Service's endpoints (the lab derives them from pods).", [
            "addressType": string("IPv4, IPv6 or FQDN."),
            "endpoints": array("The endpoints.", object("One endpoint.", [
                "addresses": array("Its addresses.", ["type": "string"]),
                "conditions": object("Its state.", ["ready": boolean("Ready to serve."), "serving": boolean("Serving."), "terminating": boolean("Terminating.")]),
                "hostname": string("Its hostname."), "nodeName": string("Its node."), "zone": string("Its zone."),
                "targetRef": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "The pod it is."],
            ], required: ["addresses"])),
            "ports": array("The ports every endpoint in this slice listens on.", object("A port.", [
                "name": string("The Service port's name."), "port": integer("The port number."), "protocol": string("TCP, UDP or SCTP."),
                "appProtocol": string("The application protocol."),
            ])),
        ]),
        "Lease": ("io.k8s.api.coordination.v1.Lease", "A lease, for leader election.", [
            "spec": object("The lease.", [
                "holderIdentity": string("Who holds it."), "leaseDurationSeconds": integer("How long it lasts."),
                "acquireTime": string("When it was acquired.", format: "date-time"), "renewTime": string("When it was renewed.", format: "date-time"),
                "leaseTransitions": integer("How often it changed hands."), "strategy": string("How holders are chosen."),
                "preferredHolder": string("Who should hold it next."),
            ]),
        ]),
        "GatewayClass": ("io.k8s.networking.gateway.v1.GatewayClass", "A class of Gateways and the controller that implements them.", [
            "spec": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "controllerName, parametersRef, description."],
            "status": ["type": "object", "x-kubernetes-preserve-unknown-fields": true, "description": "The class's conditions."],
        ]),
    ]
}
