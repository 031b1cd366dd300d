import FlapJSON
import Foundation

/// The run's events as JSON lines, written as they happen (each line flushed), so a crash loses nothing already
/// measured. Every line carries `t`, seconds on the run's clock.
package final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var handle: FileHandle?
    package let path: String?

    /// - Parameter path: nil keeps no log.
    package init(path: String?) throws {
        self.path = path
        guard let path else {
            self.handle = nil
            return
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty { try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true) }
        guard FileManager.default.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw EventLogError(.cannotOpen, path: path)
        }
        self.handle = handle
    }

    deinit { try? self.handle?.close() }

    /// Writes one line; after `close` (or a write error) lines are dropped rather than crashing.
    package func write(_ type: String, at seconds: Double, _ fields: [String: JSONValue] = [:]) {
        guard self.lock.withLock({ self.handle != nil }) else { return }
        var line = fields
        line["type"] = .string(type)
        line["t"] = .number(String(format: "%.6f", seconds))
        let bytes = Data((JSONValue.object(line).serialized + "\n").utf8)
        self.lock.withLock {
            do { try self.handle?.write(contentsOf: bytes) } catch { self.handle = nil }
        }
    }

    package func write<T: Encodable>(_ type: String, at seconds: Double, record: T) {
        guard self.lock.withLock({ self.handle != nil }), let data = try? JSONEncoder().encode(record), let json = try? JSONValue.parse([UInt8](data)) else { return }
        self.write(type, at: seconds, ["record": json])
    }

    package func close() {
        self.lock.withLock {
            try? self.handle?.synchronize()
            try? self.handle?.close()
            self.handle = nil
        }
    }
}
