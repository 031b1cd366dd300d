/// Why a kubeconfig (or in-cluster configuration) cannot be used. Messages follow kubectl's where it has one.
public enum KubeconfigError: Error, Sendable, Equatable, CustomStringConvertible {
    case noConfiguration(searched: [String])
    case unreadableFile(path: String, purpose: String, reason: String)
    case malformed(YAMLError)
    case invalidField(file: String, field: String, message: String)
    case noContext
    case contextNotFound(String, available: [String])
    case clusterNotFound(cluster: String, context: String)
    case userNotFound(user: String, context: String)
    case noServer(cluster: String)
    case bothDataAndPath(field: String, entry: String)
    case badBase64(field: String, entry: String)
    case multipleAuthMethods(user: String)
    case execInvalid(user: String, message: String)
    case unsupportedExecVersion(user: String, version: String)
    case unsupportedAuthProvider(user: String, name: String)
    case execFailed(command: String, reason: String)
    case notInCluster(String)
    case kubectlProxy(String)

    public var description: String {
        switch self {
        case .noConfiguration(let searched): "no kubeconfig found (looked at \(searched.joined(separator: ", "))); set KUBECONFIG or pass --kubeconfig"
        case .unreadableFile(let path, let purpose, let reason): "cannot read \(purpose) \(path): \(reason)"
        case .malformed(let error): "malformed kubeconfig: \(error)"
        case .invalidField(let file, let field, let message): "\(file): \(field) \(message)"
        case .noContext: "no context chosen: the kubeconfig has no current-context; pass --context"
        case .contextNotFound(let name, let available):
            "context \"\(name)\" does not exist" + (available.isEmpty ? "" : " (available: \(available.joined(separator: ", ")))")
        case .clusterNotFound(let cluster, let context): "cluster \"\(cluster)\" was not found for context \"\(context)\""
        case .userNotFound(let user, let context): "user \"\(user)\" was not found for context \"\(context)\""
        case .noServer(let cluster): "cluster has no server defined: \(cluster)"
        case .bothDataAndPath(let field, let entry): "\(field)-data and \(field) are both specified for \(entry). \(field)-data will override."
        case .badBase64(let field, let entry): "\(field) of \(entry) is not valid base64"
        case .multipleAuthMethods(let user): "more than one authentication method found for \(user); found token and basic auth, only one is allowed"
        case .execInvalid(let user, let message): "exec plugin of user \(user): \(message)"
        case .unsupportedExecVersion(let user, let version):
            "exec plugin of user \(user): apiVersion \"\(version)\" is not supported (use client.authentication.k8s.io/v1 or v1beta1)"
        case .unsupportedAuthProvider(let user, let name):
            "user \(user) uses the auth-provider \"\(name)\", which flap does not support; switch to an exec plugin (gke-gcloud-auth-plugin, kubelogin, ...)"
        case .execFailed(let command, let reason): "exec plugin \(command): \(reason)"
        case .notInCluster(let reason): "not running in a cluster: \(reason)"
        case .kubectlProxy(let reason): "kubectl proxy: \(reason)"
        }
    }
}
