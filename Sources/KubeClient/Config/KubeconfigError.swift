import FlapSystem

/// Why a kubeconfig (or in-cluster configuration) cannot be used. Messages follow kubectl's where it has one.
/// Match on `code`.
public struct KubeconfigError: CodedError, Equatable {
    public typealias Code = ErrorCode<KubeconfigError>
    public var code: Code
    public var message: String

    init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    package static func noConfiguration(searched: [String]) -> Self {
        Self(.noConfiguration, "no kubeconfig found (looked at \(searched.joined(separator: ", "))); set KUBECONFIG or pass --kubeconfig")
    }
    package static func unreadableFile(path: String, purpose: String, reason: String) -> Self {
        Self(.unreadableFile, "cannot read \(purpose) \(path): \(reason)")
    }
    package static func malformed(_ error: YAMLError) -> Self { Self(.malformed, "malformed kubeconfig: \(error)") }
    package static func invalidField(file: String, field: String, message: String) -> Self { Self(.invalidField, "\(file): \(field) \(message)") }
    package static let noContext = Self(.noContext, "no context chosen: the kubeconfig has no current-context; pass --context")
    package static func contextNotFound(_ name: String, available: [String]) -> Self {
        Self(.contextNotFound, "context \"\(name)\" does not exist" + (available.isEmpty ? "" : " (available: \(available.joined(separator: ", ")))"))
    }
    package static func clusterNotFound(cluster: String, context: String) -> Self {
        Self(.clusterNotFound, "cluster \"\(cluster)\" was not found for context \"\(context)\"")
    }
    package static func userNotFound(user: String, context: String) -> Self {
        Self(.userNotFound, "user \"\(user)\" was not found for context \"\(context)\"")
    }
    package static func noServer(cluster: String) -> Self { Self(.noServer, "cluster has no server defined: \(cluster)") }
    package static func bothDataAndPath(field: String, entry: String) -> Self {
        Self(.bothDataAndPath, "\(field)-data and \(field) are both specified for \(entry). \(field)-data will override.")
    }
    package static func badBase64(field: String, entry: String) -> Self { Self(.badBase64, "\(field) of \(entry) is not valid base64") }
    package static func multipleAuthMethods(user: String) -> Self {
        Self(.multipleAuthMethods, "more than one authentication method found for \(user); found token and basic auth, only one is allowed")
    }
    package static func execInvalid(user: String, message: String) -> Self { Self(.execInvalid, "exec plugin of user \(user): \(message)") }
    package static func unsupportedExecVersion(user: String, version: String) -> Self {
        Self(.unsupportedExecVersion, "exec plugin of user \(user): apiVersion \"\(version)\" is not supported (use client.authentication.k8s.io/v1 or v1beta1)")
    }
    package static func unsupportedAuthProvider(user: String, name: String) -> Self {
        Self(.unsupportedAuthProvider, "user \(user) uses the auth-provider \"\(name)\", which flap does not support; switch to an exec plugin (gke-gcloud-auth-plugin, kubelogin, ...)")
    }
    package static func execFailed(command: String, reason: String) -> Self { Self(.execFailed, "exec plugin \(command): \(reason)") }
    package static func notInCluster(_ reason: String) -> Self { Self(.notInCluster, "not running in a cluster: \(reason)") }
    package static func kubectlProxy(_ reason: String) -> Self { Self(.kubectlProxy, "kubectl proxy: \(reason)") }
}

extension ErrorCode where Owner == KubeconfigError {
    public static let noConfiguration = Self("noConfiguration")
    public static let unreadableFile = Self("unreadableFile")
    public static let malformed = Self("malformed")
    public static let invalidField = Self("invalidField")
    public static let noContext = Self("noContext")
    public static let contextNotFound = Self("contextNotFound")
    public static let clusterNotFound = Self("clusterNotFound")
    public static let userNotFound = Self("userNotFound")
    public static let noServer = Self("noServer")
    public static let bothDataAndPath = Self("bothDataAndPath")
    public static let badBase64 = Self("badBase64")
    public static let multipleAuthMethods = Self("multipleAuthMethods")
    public static let execInvalid = Self("execInvalid")
    public static let unsupportedExecVersion = Self("unsupportedExecVersion")
    public static let unsupportedAuthProvider = Self("unsupportedAuthProvider")
    public static let execFailed = Self("execFailed")
    public static let notInCluster = Self("notInCluster")
    public static let kubectlProxy = Self("kubectlProxy")
}
