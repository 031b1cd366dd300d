import FlapJSON
import FlapSystem
import Foundation

/// How requests authenticate. Secrets never appear in descriptions or errors.
public final class KubeCredentials: Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        case none
        case bearer(String)
        /// Re-read every minute, as client-go does (projected service-account tokens rotate).
        case tokenFile(String)
        case basic(user: String, password: String)
        case exec(ExecPlugin)
    }

    public let kind: Kind
    private let tokenFileCache = Locked<(token: String, readAt: ContinuousClock.Instant)?>(nil)

    public init(_ kind: Kind) { self.kind = kind }
    public static let none = KubeCredentials(.none)

    public var description: String {
        switch self.kind {
        case .none: "none"
        case .bearer: "bearer token (redacted)"
        case .tokenFile(let path): "token file \(path)"
        case .basic(let user, _): "basic auth for \(user) (password redacted)"
        case .exec(let plugin): "exec plugin \(plugin.configuration.command)"
        }
    }

    /// The `Authorization` header value, if any.
    public func authorizationHeader() async throws -> String? {
        switch self.kind {
        case .none: return nil
        case .bearer(let token): return "Bearer \(token)"
        case .basic(let user, let password): return "Basic " + Data("\(user):\(password)".utf8).base64EncodedString()
        case .tokenFile(let path):
            if let cached = self.tokenFileCache.value, ContinuousClock.now - cached.readAt < .seconds(60) { return "Bearer \(cached.token)" }
            do {
                let token = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
                self.tokenFileCache.value = (token, .now)
                return "Bearer \(token)"
            } catch {
                if let cached = self.tokenFileCache.value { return "Bearer \(cached.token)" }   // the last good read wins
                throw KubeconfigError.unreadableFile(path: path, purpose: "tokenFile", reason: "\(error.localizedDescription)")
            }
        case .exec(let plugin):
            return try await plugin.credential().token.map { "Bearer \($0)" }
        }
    }

    /// After a 401: re-run an exec plugin (once) or re-read a token file. Returns true if a retry makes sense.
    public func refreshAfterUnauthorized() async throws -> Bool {
        switch self.kind {
        case .exec(let plugin):
            _ = try await plugin.credential(forceRefresh: true)
            return true
        case .tokenFile:
            self.tokenFileCache.value = nil
            return true
        default:
            return false
        }
    }
}
