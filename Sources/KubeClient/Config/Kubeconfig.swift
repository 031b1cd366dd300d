import FlapJSON
import Foundation

/// The cluster, user and namespace one kubeconfig context selects, with relative paths resolved.
public struct ResolvedKubeconfig: Sendable {
    public struct Cluster: Sendable, Equatable {
        public var name: String
        public var server: URL
        public var certificateAuthorityData: Data?
        public var certificateAuthorityFile: String?
        public var insecureSkipTLSVerify = false
        public var tlsServerName: String?
        public var proxyURL: String?
        /// `extensions[name=client.authentication.k8s.io/exec].extension`, passed to exec plugins.
        public var execExtension: JSONValue?
    }

    public struct User: Sendable {
        public var name: String
        public var token: String?
        public var tokenFile: String?
        public var username: String?
        public var password: String?
        public var clientCertificateData: Data?
        public var clientCertificateFile: String?
        public var clientKeyData: Data?
        public var clientKeyFile: String?
        public var exec: ExecPlugin.Configuration?
    }

    public var contextName: String
    public var cluster: Cluster
    public var user: User
    public var namespace: String
    /// The files this came from (for `kubectl proxy --kubeconfig`).
    public var files: [String]

    /// True when the connection needs TLS material that Linux URLSession cannot apply.
    public var needsCustomTLS: Bool {
        guard self.cluster.server.scheme == "https" else { return false }
        return self.cluster.certificateAuthorityData != nil || self.cluster.certificateAuthorityFile != nil || self.cluster.insecureSkipTLSVerify
            || self.cluster.tlsServerName != nil || self.user.clientCertificateData != nil || self.user.clientCertificateFile != nil
    }

    /// The credentials this user's entry configures (exec only when no static credential is set, as client-go does).
    public var credentials: KubeCredentials {
        if let token = self.user.token, self.user.tokenFile == nil { return KubeCredentials(.bearer(token)) }
        if let tokenFile = self.user.tokenFile { return KubeCredentials(.tokenFile(tokenFile)) }
        if let username = self.user.username, let password = self.user.password { return KubeCredentials(.basic(user: username, password: password)) }
        if self.user.clientCertificateData != nil || self.user.clientCertificateFile != nil { return .none }
        if var exec = self.user.exec {
            if exec.provideClusterInfo {
                var cluster: [String: JSONValue] = ["server": .string(self.cluster.server.absoluteString)]
                if let name = self.cluster.tlsServerName { cluster["tls-server-name"] = .string(name) }
                if self.cluster.insecureSkipTLSVerify { cluster["insecure-skip-tls-verify"] = true }
                if let ca = self.cluster.certificateAuthorityData { cluster["certificate-authority-data"] = .string(ca.base64EncodedString()) }
                if let proxy = self.cluster.proxyURL { cluster["proxy-url"] = .string(proxy) }
                if let config = self.cluster.execExtension { cluster["config"] = config }
                exec.cluster = .object(cluster)
            }
            return KubeCredentials(.exec(ExecPlugin(exec)))
        }
        return .none
    }
}

/// Reads kubeconfigs as kubectl does: `--kubeconfig` (one file) or `KUBECONFIG` (several, first value wins) or
/// `~/.kube/config`; `--context` or `current-context`; the context's namespace.
public enum Kubeconfig {
    public struct Options: Sendable {
        public var kubeconfigPath: String?
        public var context: String?
        public var namespace: String?
        public var environment: [String: String]

        public init(kubeconfigPath: String? = nil, context: String? = nil, namespace: String? = nil,
                    environment: [String: String] = ProcessInfo.processInfo.environment) {
            self.kubeconfigPath = kubeconfigPath
            self.context = context
            self.namespace = namespace
            self.environment = environment
        }
    }

    public static func load(_ options: Options = Options()) throws(KubeconfigError) -> ResolvedKubeconfig {
        let files = try self.files(options)
        var merged = Merged()
        for file in files { try merged.add(file: file, text: try self.read(file, purpose: "kubeconfig")) }
        guard let contextName = options.context ?? merged.currentContext, !contextName.isEmpty else { throw .noContext }
        guard let context = merged.contexts[contextName] else { throw .contextNotFound(contextName, available: merged.contexts.keys.sorted()) }
        let clusterName = context.json["cluster"]?.stringValue ?? ""
        let userName = context.json["user"]?.stringValue ?? ""
        guard let cluster = merged.clusters[clusterName] else { throw .clusterNotFound(cluster: clusterName, context: contextName) }
        guard let user = merged.users[userName] ?? (userName.isEmpty ? Entry(json: [:], file: context.file) : nil) else {
            throw .userNotFound(user: userName, context: contextName)
        }
        return ResolvedKubeconfig(contextName: contextName, cluster: try self.cluster(clusterName, cluster),
                                  user: try self.user(userName, user),
                                  namespace: options.namespace ?? context.json["namespace"]?.stringValue ?? "default", files: files)
    }

    static func files(_ options: Options) throws(KubeconfigError) -> [String] {
        if let explicit = options.kubeconfigPath {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw .unreadableFile(path: explicit, purpose: "kubeconfig", reason: "no such file")
            }
            return [explicit]
        }
        var candidates: [String] = []
        if let list = options.environment["KUBECONFIG"], !list.isEmpty {
            for path in list.split(separator: ":").map(String.init) where !path.isEmpty && !candidates.contains(path) { candidates.append(path) }
        } else {
            candidates = ["\(options.environment["HOME"] ?? NSHomeDirectory())/.kube/config"]
        }
        let existing = candidates.filter { FileManager.default.fileExists(atPath: $0) }
        guard !existing.isEmpty else { throw .noConfiguration(searched: candidates) }
        return existing
    }

    static func read(_ path: String, purpose: String) throws(KubeconfigError) -> String {
        do {
            return try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw .unreadableFile(path: path, purpose: purpose, reason: error.localizedDescription)
        }
    }

    struct Entry {
        var json: JSONValue
        var file: String
        var directory: String { (self.file as NSString).deletingLastPathComponent }
        func path(_ key: String) -> String? {
            guard let value = self.json[key]?.stringValue, !value.isEmpty else { return nil }
            return value.hasPrefix("/") ? value : (self.directory as NSString).appendingPathComponent(value)
        }
    }

    /// The first file that sets a name (or current-context) wins, whole entry included.
    struct Merged {
        var clusters: [String: Entry] = [:]
        var users: [String: Entry] = [:]
        var contexts: [String: Entry] = [:]
        var currentContext: String?

        mutating func add(file: String, text: String) throws(KubeconfigError) {
            let json: JSONValue
            do { json = try YAML.parse(text, file: file) } catch { throw .malformed(error) }
            if json == .null { return }
            guard json.objectValue != nil else { throw .invalidField(file: file, field: "document", message: "is not a mapping") }
            if self.currentContext == nil, let current = json["current-context"]?.stringValue, !current.isEmpty { self.currentContext = current }
            try Self.merge(json["clusters"], key: "cluster", into: &self.clusters, file: file)
            try Self.merge(json["users"], key: "user", into: &self.users, file: file)
            try Self.merge(json["contexts"], key: "context", into: &self.contexts, file: file)
        }

        static func merge(_ list: JSONValue?, key: String, into map: inout [String: Entry], file: String) throws(KubeconfigError) {
            guard let list, list != .null else { return }
            guard let items = list.arrayValue else { throw .invalidField(file: file, field: "\(key)s", message: "is not a list") }
            for item in items {
                guard let name = item["name"]?.stringValue else { throw .invalidField(file: file, field: "\(key)s[].name", message: "is missing") }
                if map[name] == nil { map[name] = Entry(json: item[key] ?? [:], file: file) }
            }
        }
    }

    static func cluster(_ name: String, _ entry: Entry) throws(KubeconfigError) -> ResolvedKubeconfig.Cluster {
        guard let serverText = entry.json["server"]?.stringValue, !serverText.isEmpty else { throw .noServer(cluster: name) }
        guard let server = URL(string: serverText), server.scheme == "https" || server.scheme == "http", server.host != nil else {
            throw .invalidField(file: entry.file, field: "clusters[\(name)].cluster.server", message: "\"\(serverText)\" is not an http(s) URL")
        }
        if entry.json["certificate-authority-data"] != nil && entry.json["certificate-authority"] != nil {
            throw .bothDataAndPath(field: "certificate-authority", entry: name)
        }
        var cluster = ResolvedKubeconfig.Cluster(name: name, server: server)
        cluster.certificateAuthorityData = try self.base64(entry, "certificate-authority-data", owner: name)
        cluster.certificateAuthorityFile = entry.path("certificate-authority")
        cluster.insecureSkipTLSVerify = entry.json["insecure-skip-tls-verify"]?.boolValue ?? false
        cluster.tlsServerName = entry.json["tls-server-name"]?.stringValue
        cluster.proxyURL = entry.json["proxy-url"]?.stringValue
        cluster.execExtension = (entry.json["extensions"]?.arrayValue ?? [])
            .first { $0["name"]?.stringValue == "client.authentication.k8s.io/exec" }?["extension"]
        return cluster
    }

    static func user(_ name: String, _ entry: Entry) throws(KubeconfigError) -> ResolvedKubeconfig.User {
        let json = entry.json
        for field in ["client-certificate", "client-key"] where json["\(field)-data"] != nil && json[field] != nil {
            throw .bothDataAndPath(field: field, entry: name)
        }
        var user = ResolvedKubeconfig.User(name: name)
        user.token = json["token"]?.stringValue
        user.tokenFile = entry.path("tokenFile")
        user.username = json["username"]?.stringValue
        user.password = json["password"]?.stringValue
        if (user.token != nil || user.tokenFile != nil) && (user.username != nil || user.password != nil) { throw .multipleAuthMethods(user: name) }
        user.clientCertificateData = try self.base64(entry, "client-certificate-data", owner: name)
        user.clientCertificateFile = entry.path("client-certificate")
        user.clientKeyData = try self.base64(entry, "client-key-data", owner: name)
        user.clientKeyFile = entry.path("client-key")
        if (user.clientCertificateData != nil || user.clientCertificateFile != nil) && user.clientKeyData == nil && user.clientKeyFile == nil {
            throw .invalidField(file: entry.file, field: "users[\(name)]", message: "client-key-data or client-key must be specified to use the clientCert authentication method")
        }
        if let provider = json["auth-provider"], provider != .null {
            if json["exec"] != nil { throw .execInvalid(user: name, message: "authProvider cannot be provided in combination with an exec plugin") }
            throw .unsupportedAuthProvider(user: name, name: provider["name"]?.stringValue ?? "?")
        }
        if let exec = json["exec"], exec != .null { user.exec = try self.exec(exec, user: name, entry: entry) }
        return user
    }

    static func exec(_ json: JSONValue, user: String, entry: Entry) throws(KubeconfigError) -> ExecPlugin.Configuration {
        guard let command = json["command"]?.stringValue, !command.isEmpty else { throw .execInvalid(user: user, message: "command must be specified") }
        guard let version = json["apiVersion"]?.stringValue, !version.isEmpty else { throw .execInvalid(user: user, message: "apiVersion must be specified") }
        guard ExecPlugin.supportedVersions.contains(version) else { throw .unsupportedExecVersion(user: user, version: version) }
        let mode = json["interactiveMode"]?.stringValue
        if version.hasSuffix("/v1") && mode == nil { throw .execInvalid(user: user, message: "interactiveMode must be specified for \(version)") }
        if let mode, !["Never", "IfAvailable", "Always"].contains(mode) {
            throw .execInvalid(user: user, message: "invalid interactiveMode \"\(mode)\" (Never, IfAvailable or Always)")
        }
        var configuration = ExecPlugin.Configuration(command: command, apiVersion: version)
        configuration.args = json["args"]?.arrayValue?.compactMap(\.stringValue) ?? []
        for item in json["env"]?.arrayValue ?? [] {
            guard let name = item["name"]?.stringValue, let value = item["value"]?.stringValue else {
                throw .execInvalid(user: user, message: "env entries need name and value")
            }
            configuration.env[name] = value
        }
        configuration.interactiveMode = mode ?? "IfAvailable"
        configuration.provideClusterInfo = json["provideClusterInfo"]?.boolValue ?? false
        configuration.baseDirectory = entry.directory
        configuration.installHint = json["installHint"]?.stringValue
        return configuration
    }

    static func base64(_ entry: Entry, _ key: String, owner: String) throws(KubeconfigError) -> Data? {
        guard let text = entry.json[key]?.stringValue, !text.isEmpty else { return nil }
        guard let data = Data(base64Encoded: text.filter { !$0.isWhitespace }) else { throw .badBase64(field: key, entry: owner) }
        return data
    }
}
