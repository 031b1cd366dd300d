import Foundation

/// Writing results where the user asked, with errors that say which path and why (not a raw Foundation error).
struct OutputFileError: Error, CustomStringConvertible {
    let path: String
    let reason: String
    var description: String { "cannot write \(self.path): \(self.reason)" }
}

enum OutputFiles {
    /// Creates the output directory and proves it is writable, before a run touches the cluster.
    static func prepare(directory: String) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw OutputFileError(path: directory, reason: self.reason(error))
        }
        let probe = "\(directory)/.flap-write-test"
        guard FileManager.default.createFile(atPath: probe, contents: Data()) else {
            throw OutputFileError(path: directory, reason: "the directory is not writable")
        }
        try? FileManager.default.removeItem(atPath: probe)
    }

    static func write(_ data: Data, to path: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path))
        } catch {
            throw OutputFileError(path: path, reason: self.reason(error))
        }
    }

    /// The POSIX reason behind a Foundation file error, when there is one.
    static func reason(_ error: any Error) -> String {
        let nsError = error as NSError
        if let underlying = nsError.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(underlying.code)))
        }
        switch CocoaError.Code(rawValue: nsError.code) {
        case .fileWriteNoPermission, .fileReadNoPermission: return "permission denied"
        case .fileWriteVolumeReadOnly: return "read-only file system"
        case .fileWriteOutOfSpace: return "no space left on device"
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such directory"
        default: return "the file system refused (\(nsError.localizedDescription))"
        }
    }
}
