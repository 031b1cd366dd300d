import Foundation

/// The configuration a pod gets from its service account, as client-go reads it.
public enum InClusterConfig {
    public static let serviceAccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount"

    public struct Resolved: Sendable, Equatable {
        public var server: URL
        public var tokenFile: String
        public var caFile: String
        public var namespace: String
    }

    /// - Parameter directory: the service-account directory (overridable for tests).
    public static func load(environment: [String: String] = ProcessInfo.processInfo.environment,
                            directory: String = serviceAccountDirectory) throws(KubeconfigError) -> Resolved {
        guard let host = environment["KUBERNETES_SERVICE_HOST"], !host.isEmpty,
              let port = environment["KUBERNETES_SERVICE_PORT"], !port.isEmpty else {
            throw .notInCluster("KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be set")
        }
        let tokenFile = "\(directory)/token"
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: tokenFile, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw .notInCluster("no service-account token at \(tokenFile)")
        }
        let hostPart = host.contains(":") ? "[\(host)]" : host
        guard let server = URL(string: "https://\(hostPart):\(port)") else { throw .notInCluster("bad service address \(host):\(port)") }
        let namespaceFile = (try? String(contentsOfFile: "\(directory)/namespace", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
        let namespace = environment["POD_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } ?? namespaceFile.flatMap { $0.isEmpty ? nil : $0 } ?? "default"
        return Resolved(server: server, tokenFile: tokenFile, caFile: "\(directory)/ca.crt", namespace: namespace)
    }
}
