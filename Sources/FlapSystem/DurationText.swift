import Foundation

/// Duration text as flags, scenario files and Trino's `maxWait` write it: `250ms`, `2s`, `1.5s`, `2m`, `1h` (and
/// `us`, `ns`, `d`). The one parser every module uses, bounded so no input can overflow the arithmetic after it.
package enum DurationText {
    /// The longest duration accepted: far beyond any experiment, far below what clock arithmetic can overflow.
    package static let maximum = Duration.seconds(Int64(maximumSeconds))
    package static let maximumText = "30 days"
    private static let maximumSeconds: Double = 30 * 24 * 3600
    private static let units: [(suffix: String, seconds: Double)] = [
        ("ms", 0.001), ("us", 0.000_001), ("ns", 0.000_000_001), ("s", 1), ("m", 60), ("h", 3600), ("d", 86400),
    ]

    /// The duration, or nil when `text` is not a non-negative number with a unit, or is longer than `maximum`.
    package static func parse(_ text: String) -> Duration? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        for (suffix, scale) in self.units where trimmed.hasSuffix(suffix) {
            let number = trimmed.dropLast(suffix.count)
            guard let value = Double(number), value.isFinite, value >= 0, number.first?.isNumber == true || number.first == "." else { return nil }
            let seconds = value * scale
            guard seconds <= self.maximumSeconds else { return nil }
            return .nanoseconds(Int64((seconds * 1e9).rounded()))
        }
        return nil
    }

    /// Why `text` is not a duration, for error messages.
    package static func problem(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = self.units.first(where: { trimmed.hasSuffix($0.suffix) }), let value = Double(trimmed.dropLast(unit.suffix.count)),
           value.isFinite, value * unit.seconds > self.maximumSeconds {
            return "\"\(text)\" is longer than \(self.maximumText)"
        }
        return "\"\(text)\" is not a duration such as 500ms, 6s or 2m"
    }

    /// A duration as this parser reads it back: `6s`, `1.5s`, `250ms`.
    /// `duration` in seconds, as a Double.
    package static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    package static func format(_ duration: Duration) -> String {
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        if seconds >= 1 || seconds == 0 { return "\(Self.trimmed(seconds))s" }
        return "\(Self.trimmed(seconds * 1000))ms"
    }

    private static func trimmed(_ value: Double) -> String {
        value == value.rounded() ? String(Int64(value)) : String(format: "%.3f", value).replacingOccurrences(of: #"\.?0+$"#, with: "", options: .regularExpression)
    }
}
