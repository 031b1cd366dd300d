import FlapJSON
/// RFC 7386 JSON merge patch: objects merge, `null` deletes, everything else (lists included) replaces.
public enum JSONMergePatch {
    public static func apply(_ patch: JSONValue, to target: JSONValue) -> JSONValue {
        guard case .object(let changes) = patch else { return patch }
        var result = target.objectValue ?? [:]
        for (key, change) in changes {
            if change == .null {
                result[key] = nil
            } else {
                result[key] = self.apply(change, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `old` into `new`.
    public static func diff(from old: JSONValue, to new: JSONValue) -> JSONValue? {
        guard case .object(let a) = old, case .object(let b) = new else { return old == new ? nil : new }
        var patch: [String: JSONValue] = [:]
        for (key, value) in b {
            if let previous = a[key] {
                if let change = self.diff(from: previous, to: value) { patch[key] = change }
            } else {
                patch[key] = value
            }
        }
        for key in a.keys where b[key] == nil { patch[key] = .null }
        return patch.isEmpty ? nil : .object(patch)
    }
}

/// Why a JSON patch could not be applied.
public struct JSONPatchError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { self.message }
}

/// RFC 6902 JSON patch: a list of add/remove/replace/move/copy/test operations on JSON pointers.
public enum JSONPatch {
    public static func apply(_ operations: JSONValue, to target: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let list = operations.arrayValue else { throw JSONPatchError("a JSON patch must be an array of operations") }
        var document = target
        for (index, operation) in list.enumerated() {
            guard let op = operation["op"]?.stringValue, let path = operation["path"]?.stringValue else {
                throw JSONPatchError("operation \(index) needs \"op\" and \"path\"")
            }
            let pointer = try self.pointer(path)
            switch op {
            case "add":
                guard let value = operation["value"] else { throw JSONPatchError("operation \(index) (add) needs a value") }
                document = try self.add(value, at: pointer[...], in: document)
            case "remove":
                document = try self.remove(at: pointer[...], in: document)
            case "replace":
                guard let value = operation["value"] else { throw JSONPatchError("operation \(index) (replace) needs a value") }
                _ = try self.get(pointer[...], in: document)
                document = try self.add(value, at: pointer[...], in: try self.remove(at: pointer[...], in: document))
            case "move", "copy":
                guard let from = operation["from"]?.stringValue else { throw JSONPatchError("operation \(index) (\(op)) needs from") }
                let source = try self.pointer(from)
                let value = try self.get(source[...], in: document)
                if op == "move" { document = try self.remove(at: source[...], in: document) }
                document = try self.add(value, at: pointer[...], in: document)
            case "test":
                guard try self.get(pointer[...], in: document) == operation["value"] else {
                    throw JSONPatchError("test operation \(index) failed at \(path)")
                }
            default:
                throw JSONPatchError("unknown JSON patch operation \"\(op)\"")
            }
        }
        return document
    }

    static func pointer(_ text: String) throws(JSONPatchError) -> [String] {
        if text.isEmpty { return [] }
        guard text.hasPrefix("/") else { throw JSONPatchError("JSON pointer \"\(text)\" must start with /") }
        return text.dropFirst().split(separator: "/", omittingEmptySubsequences: false)
            .map { $0.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~") }
    }

    static func get(_ pointer: ArraySlice<String>, in document: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let first = pointer.first else { return document }
        switch document {
        case .object(let fields):
            guard let child = fields[first] else { throw JSONPatchError("path element \"\(first)\" does not exist") }
            return try self.get(pointer.dropFirst(), in: child)
        case .array(let items):
            guard let index = Int(first), items.indices.contains(index) else { throw JSONPatchError("array index \"\(first)\" is out of range") }
            return try self.get(pointer.dropFirst(), in: items[index])
        default:
            throw JSONPatchError("cannot descend into a scalar at \"\(first)\"")
        }
    }

    static func add(_ value: JSONValue, at pointer: ArraySlice<String>, in document: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let first = pointer.first else { return value }
        let last = pointer.count == 1
        switch document {
        case .object(var fields):
            if last {
                fields[first] = value
            } else {
                guard let child = fields[first] else { throw JSONPatchError("path element \"\(first)\" does not exist") }
                fields[first] = try self.add(value, at: pointer.dropFirst(), in: child)
            }
            return .object(fields)
        case .array(var items):
            if last {
                if first == "-" { items.append(value); return .array(items) }
                guard let index = Int(first), index >= 0, index <= items.count else { throw JSONPatchError("array index \"\(first)\" is out of range") }
                items.insert(value, at: index)
            } else {
                guard let index = Int(first), items.indices.contains(index) else { throw JSONPatchError("array index \"\(first)\" is out of range") }
                items[index] = try self.add(value, at: pointer.dropFirst(), in: items[index])
            }
            return .array(items)
        default:
            throw JSONPatchError("cannot add into a scalar at \"\(first)\"")
        }
    }

    static func remove(at pointer: ArraySlice<String>, in document: JSONValue) throws(JSONPatchError) -> JSONValue {
        guard let first = pointer.first else { throw JSONPatchError("cannot remove the whole document") }
        let last = pointer.count == 1
        switch document {
        case .object(var fields):
            guard let child = fields[first] else { throw JSONPatchError("path element \"\(first)\" does not exist") }
            fields[first] = last ? nil : try self.remove(at: pointer.dropFirst(), in: child)
            return .object(fields)
        case .array(var items):
            guard let index = Int(first), items.indices.contains(index) else { throw JSONPatchError("array index \"\(first)\" is out of range") }
            if last { items.remove(at: index) } else { items[index] = try self.remove(at: pointer.dropFirst(), in: items[index]) }
            return .array(items)
        default:
            throw JSONPatchError("cannot remove from a scalar at \"\(first)\"")
        }
    }
}

import Foundation
