import FlapSystem
import Foundation

/// A usage error: exit code 2 with the message and the subcommand's help.
struct UsageError: Error, CustomStringConvertible {
    var message: String
    /// 2 for most commands; `compare` uses 64, since its 2 means "regressions".
    var exitCode: Int32 = 2
    var description: String { self.message }
}

/// A command that could not do its work (an unreadable file, a report that is not one): exit 1.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { self.message }
}

/// Flags after the subcommand words: `--name value`, `--name=value`, boolean `--flag`; valued flags may repeat.
struct ParsedFlags {
    private var values: [String: [String]] = [:]
    private var seen: Set<String> = []

    init(_ arguments: ArraySlice<String>, valued: Set<String>, boolean: Set<String>) throws {
        var iterator = arguments.makeIterator()
        while let argument = iterator.next() {
            guard argument.hasPrefix("--") else { throw UsageError(message: "unexpected argument \"\(argument)\"") }
            var name = String(argument.dropFirst(2))
            var value: String?
            if let eq = name.firstIndex(of: "=") {
                value = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            if boolean.contains(name) {
                guard value == nil else { throw UsageError(message: "--\(name) takes no value") }
                self.seen.insert(name)
            } else if valued.contains(name) {
                guard let v = value ?? iterator.next(), !v.hasPrefix("--") else { throw UsageError(message: "--\(name) needs a value") }
                self.values[name, default: []].append(v)
            } else {
                throw UsageError(message: "unknown option --\(name)")
            }
        }
    }

    func flag(_ name: String) -> Bool { self.seen.contains(name) }
    func string(_ name: String) -> String? { self.values[name]?.last }
    func all(_ name: String) -> [String] { self.values[name] ?? [] }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = self.string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw UsageError(message: "--\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound), not \"\(text)\"")
        }
        return value
    }

    func duration(_ name: String) throws -> Duration? {
        guard let text = self.string(name) else { return nil }
        guard let value = DurationText.parse(text) else {
            throw UsageError(message: "--\(name): \(DurationText.problem(text))")
        }
        return value
    }
}
