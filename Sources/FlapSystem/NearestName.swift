/// The known name a misspelt one most likely meant, for "did you mean" hints.
package enum NearestName {
    /// The closest candidate, or nil when none is close enough to be a typo (at most half its letters differ).
    package static func to(_ name: String, among candidates: some Sequence<String>) -> String? {
        let best = candidates.min { (self.distance(name, $0), $0) < (self.distance(name, $1), $1) }
        guard let best, self.distance(name, best) <= max(2, best.count / 2) else { return nil }
        return best
    }

    /// Edit distance, ignoring case.
    package static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased()), b = Array(b.lowercased())
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1]
            for (j, y) in b.enumerated() { current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))) }
            previous = current
        }
        return previous[b.count]
    }
}
