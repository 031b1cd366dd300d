import FlapJSON
import FlapSystem
import Foundation
import KubeClient

/// The original state of every object a run may change, on disk (written and fsync'd) before the first write,
/// so a crash — even `kill -9` — loses nothing: `flap-cli restore` finishes the job from the file.
package struct RestoreJournal: Sendable, Codable, Equatable {
    package struct Entry: Sendable, Codable, Equatable {
        package var reference: ObjectReference
        /// Nil when the object did not exist (restore deletes it).
        package var original: JSONValue?

        package init(reference: ObjectReference, original: JSONValue?) {
            self.reference = reference
            self.original = original
        }
    }

    package var runID: String
    package var createdAt: Date
    package var server: String
    package var entries: [Entry]

    package init(runID: String, server: String, entries: [Entry] = []) {
        self.runID = runID
        self.createdAt = Date()
        self.server = server
        self.entries = entries
    }

    package var references: Set<ObjectReference> { Set(self.entries.map(\.reference)) }

    /// Reads the current state of each object (absent ones are journalled as absent).
    package static func capture(_ references: [ObjectReference], runID: String, kube: KubeClient) async throws -> RestoreJournal {
        var journal = RestoreJournal(runID: runID, server: kube.configuration.clusterIdentity)
        for reference in references {
            guard let resource = reference.resourceType else { throw MutationError("unknown kind \(reference.kind)") }
            do {
                let object = try await kube.get(resource, name: reference.name, namespace: reference.namespace)
                journal.entries.append(.init(reference: reference, original: object.json))
            } catch let error as KubeStatusError where error.isNotFound {
                journal.entries.append(.init(reference: reference, original: nil))
            }
        }
        return journal
    }
}

/// Journal files in a directory: one per run, removed once the run has restored everything.
package struct JournalStore: Sendable {
    package let directory: String

    package init(directory: String) { self.directory = directory }

    /// `$FLAP_STATE_DIR` or `~/.local/state/flap/journals`.
    package static var defaultDirectory: String {
        if let custom = ProcessInfo.processInfo.environment["FLAP_STATE_DIR"], !custom.isEmpty { return "\(custom)/journals" }
        return NSHomeDirectory() + "/.local/state/flap/journals"
    }

    package func path(for runID: String) -> String { "\(self.directory)/\(runID).json" }

    /// Writes the journal durably: temporary file, fsync, rename, fsync of the directory.
    package func save(_ journal: RestoreJournal) throws {
        // Journals hold whole route objects: owner-only, like kubeconfigs.
        do { try PrivateFile.createDirectory(self.directory) } catch { throw RestoreError.journalNotWritable(self.directory) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let data = try encoder.encode(journal)
        let final = self.path(for: journal.runID)
        let temporary = final + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw RestoreError.journalNotWritable(temporary)
        }
        try Self.fsync(path: temporary)
        guard rename(temporary, final) == 0 else { throw RestoreError.journalNotWritable(final) }
        try Self.fsync(path: self.directory)
    }

    package func load(runID: String) throws -> RestoreJournal { try self.load(path: self.path(for: runID)) }

    package func load(path: String) throws -> RestoreJournal {
        guard let data = FileManager.default.contents(atPath: path) else { throw RestoreError.noJournal(path) }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let journal: RestoreJournal
        do {
            journal = try decoder.decode(RestoreJournal.self, from: data)
        } catch {
            throw RestoreError.corruptJournal(path, "\(error)")
        }
        if let defect = journal.defect { throw RestoreError.invalidJournal(path, defect) }
        return journal
    }

    /// Journals of runs that have not finished restoring.
    package func pending() throws -> [RestoreJournal] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: self.directory) else { return [] }
        return try names.filter { $0.hasSuffix(".json") }.sorted().map { try self.load(path: "\(self.directory)/\($0)") }
    }

    package func remove(runID: String) throws {
        let path = self.path(for: runID)
        if FileManager.default.fileExists(atPath: path) { try FileManager.default.removeItem(atPath: path) }
        try? Self.fsync(path: self.directory)
    }

    static func fsync(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw RestoreError.journalNotWritable(path) }
        defer { close(fd) }
        _ = Foundation.fsync(fd)
    }
}

/// A journal that cannot be written, read or trusted, or an object that could not be put back. Match on `code`.
public struct RestoreError: CodedError, Equatable {
    public typealias Code = ErrorCode<RestoreError>
    public var code: Code
    public var message: String
    /// The objects concerned, when the error is about objects.
    public var objects: [ObjectReference]

    init(_ code: Code, _ message: String, objects: [ObjectReference] = []) {
        self.code = code
        self.message = message
        self.objects = objects
    }

    static func noJournal(_ path: String) -> RestoreError { RestoreError(.noJournal, "no restore journal at \(path)") }
    static func corruptJournal(_ path: String, _ why: String) -> RestoreError { RestoreError(.corruptJournal, "restore journal \(path) cannot be read: \(why)") }
    static func journalNotWritable(_ path: String) -> RestoreError { RestoreError(.journalNotWritable, "cannot write the restore journal \(path)") }
    static func unrestoredJournal(runID: String, objects: [ObjectReference], path: String) -> RestoreError {
        RestoreError(.unrestoredJournal, "run \(runID) did not finish restoring \(objects.map(\.description).joined(separator: ", ")); run `flap-cli restore --journal \(path)` first",
                     objects: objects)
    }
    static func restoreFailed(_ reference: ObjectReference, _ why: String) -> RestoreError {
        RestoreError(.restoreFailed, "could not restore \(reference): \(why)", objects: [reference])
    }
    static func invalidJournal(_ path: String, _ why: String) -> RestoreError {
        RestoreError(.invalidJournal, "restore journal \(path) is not valid, nothing was restored: \(why)")
    }
    static func differentCluster(runID: String, journalServer: String, currentServer: String) -> RestoreError {
        RestoreError(.differentCluster, "journal \(runID) was written against \(journalServer), but the kubeconfig points at \(currentServer); nothing was restored. "
            + "Switch to that cluster's context, or, if you are sure, name the journal and force it: `flap-cli restore --journal FILE --force`")
    }
    static func differentObject(_ reference: ObjectReference, _ why: String) -> RestoreError {
        RestoreError(.differentObject, "\(reference) is not the object the run changed (\(why)); nothing was restored. If you are sure, `flap-cli restore --journal FILE --force`",
                     objects: [reference])
    }
}

extension ErrorCode where Owner == RestoreError {
    public static let noJournal = Self("noJournal")
    public static let corruptJournal = Self("corruptJournal")
    public static let journalNotWritable = Self("journalNotWritable")
    /// Another run's journal still holds these objects: restore it first.
    public static let unrestoredJournal = Self("unrestoredJournal")
    public static let restoreFailed = Self("restoreFailed")
    /// An entry (or the journal itself) is not what a run writes; nothing was restored.
    public static let invalidJournal = Self("invalidJournal")
    /// The journal was written against another API server than the one the kubeconfig points at.
    public static let differentCluster = Self("differentCluster")
    /// The object by that name is not the one the run changed (another uid, and not recreated by the run).
    public static let differentObject = Self("differentObject")
}
