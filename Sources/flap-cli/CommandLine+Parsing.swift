import Foundation

/// A usage error: exit code 2 with the message and the subcommand's help.
struct UsageError: Error, CustomStringConvertible {
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
            throw UsageError(message: "--\(name) must be a duration such as 500ms, 2s or 1m, not \"\(text)\"")
        }
        return value
    }
}

enum DurationText {
    /// `250ms`, `2s`, `1.5s`, `1m`, `1h`.
    static func parse(_ text: String) -> Duration? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600)]
        for (unit, scale) in units where text.hasSuffix(unit) {
            guard let value = Double(text.dropLast(unit.count)), value >= 0, value.isFinite else { return nil }
            return .milliseconds(Int64((value * scale * 1000).rounded()))
        }
        return nil
    }
}
