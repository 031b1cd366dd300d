import Foundation

/// The one clock of a run: every event is stamped in seconds since the run started (continuous clock), and
/// the wall-clock start labels the report.
package struct RunClock: Sendable {
    package let origin: ContinuousClock.Instant
    package let wallStart: Date

    package init(origin: ContinuousClock.Instant = .now, wallStart: Date = Date()) {
        self.origin = origin
        self.wallStart = wallStart
    }

    package func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let d = instant - self.origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    package var now: Double { self.seconds(.now) }

    package func instant(_ seconds: Double) -> ContinuousClock.Instant {
        self.origin + .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
