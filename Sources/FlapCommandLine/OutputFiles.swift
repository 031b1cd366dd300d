import FlapCore
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

/// A run's results directory: report.json (naming its event log relative to itself, so the directory can move),
/// report.html, queries.csv and mutations.csv.
enum ResultFiles {
    static let names = ["report.json", "report.html", "queries.csv", "mutations.csv"]

    @discardableResult
    static func write(_ report: ExperimentReport, to directory: String, htmlSections: [(title: String, html: String)] = []) throws -> ExperimentReport {
        var report = report
        report.eventLog = report.eventLog.map { self.relative($0, to: directory) }
        try OutputFiles.write(try report.encoded(), to: "\(directory)/report.json")
        try OutputFiles.write(Data(HTMLRenderer.render(report, sections: htmlSections).utf8), to: "\(directory)/report.html")
        try OutputFiles.write(Data(CSVRenderer.render(report).utf8), to: "\(directory)/queries.csv")
        try OutputFiles.write(Data(CSVRenderer.mutations(report).utf8), to: "\(directory)/mutations.csv")
        return report
    }

    /// `path` relative to `directory` when it lies inside it, else absolute.
    static func relative(_ path: String, to directory: String) -> String {
        let file = URL(fileURLWithPath: path).standardizedFileURL.path
        let base = URL(fileURLWithPath: directory).standardizedFileURL.path
        return file.hasPrefix(base + "/") ? String(file.dropFirst(base.count + 1)) : file
    }

    /// "report: DIR/report.json, DIR/report.html, ..." for the summary's last line.
    static func line(_ directory: String, events: Bool) -> String {
        "report: " + (self.names + (events ? ["events.jsonl"] : [])).map { "\(directory)/\($0)" }.joined(separator: ", ")
    }
}
