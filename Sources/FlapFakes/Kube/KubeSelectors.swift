import FlapJSON
import KubeClient

/// Label selectors (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`) and the field selectors the
/// real server supports for these types (`metadata.name`, `metadata.namespace`).
struct KubeSelector: Sendable {
    private var labelTests: [@Sendable (String, [String: String]) -> Bool] = []
    private var fieldTests: [@Sendable (JSONValue) -> Bool] = []

    init(labels: String?, fields: String?) throws(KubeFailure) {
        for term in Self.terms(labels ?? "") { self.labelTests.append(try Self.labelTest(term)) }
        for term in Self.terms(fields ?? "") {
            let negate = term.contains("!=")
            let parts = term.components(separatedBy: negate ? "!=" : (term.contains("==") ? "==" : "="))
            guard parts.count == 2 else { throw KubeFailure.badRequest("invalid field selector \"\(term)\"") }
            let field = parts[0].trimmingCharacters(in: .whitespaces)
            let value = parts[1].trimmingCharacters(in: .whitespaces)
            guard field == "metadata.name" || field == "metadata.namespace" else {
                throw KubeFailure.badRequest("\"\(field)\" is not a known field selector: only \"metadata.name\", \"metadata.namespace\"")
            }
            self.fieldTests.append { object in (object.value(at: field)?.stringValue == value) != negate }
        }
    }

    func matches(_ object: JSONValue) -> Bool {
        let labels = (object["metadata"]?["labels"]?.objectValue ?? [:]).compactMapValues(\.stringValue)
        return self.labelTests.allSatisfy { $0("", labels) } && self.fieldTests.allSatisfy { $0(object) }
    }

    /// Splits on commas outside parentheses.
    static func terms(_ text: String) -> [String] {
        var terms: [String] = []
        var current = ""
        var depth = 0
        for ch in text {
            if ch == "(" { depth += 1 } else if ch == ")" { depth -= 1 }
            if ch == "," && depth == 0 { terms.append(current); current = ""; continue }
            current.append(ch)
        }
        terms.append(current)
        return terms.map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }

    static func labelTest(_ term: String) throws(KubeFailure) -> @Sendable (String, [String: String]) -> Bool {
        let words = term.split(separator: " ", maxSplits: 1).map(String.init)
        if words.count == 2, words[1].hasPrefix("in ") || words[1].hasPrefix("notin ") {
            let negate = words[1].hasPrefix("notin")
            let list = words[1].drop { $0 != "(" }.dropFirst().prefix { $0 != ")" }
            let values = Set(list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) })
            let key = words[0]
            return { _, labels in negate ? !values.contains(labels[key] ?? "\u{0}") : labels[key].map(values.contains) ?? false }
        }
        if let range = term.range(of: "!=") {
            let key = String(term[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
            let value = String(term[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            return { _, labels in labels[key] != value }
        }
        if let range = term.range(of: "==") ?? term.range(of: "=") {
            let key = String(term[..<range.lowerBound]).trimmingCharacters(in: .whitespaces)
            let value = String(term[range.upperBound...]).trimmingCharacters(in: .whitespaces)
            return { _, labels in labels[key] == value }
        }
        if term.hasPrefix("!") {
            let key = String(term.dropFirst())
            return { _, labels in labels[key] == nil }
        }
        guard term.allSatisfy({ $0.isLetter || $0.isNumber || "-_./".contains($0) }) else {
            throw KubeFailure.badRequest("unable to parse requirement: \"\(term)\"")
        }
        return { _, labels in labels[term] != nil }
    }
}
