import Foundation

/// The one clock of a run: every event is stamped in seconds since the run started (continuous clock), and
/// the wall-clock start labels the report.
public struct RunClock: Sendable {
    public let origin: ContinuousClock.Instant
    public let wallStart: Date

    public init(origin: ContinuousClock.Instant = .now, wallStart: Date = Date()) {
        self.origin = origin
        self.wallStart = wallStart
    }

    public func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let d = instant - self.origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    public var now: Double { self.seconds(.now) }

    public func instant(_ seconds: Double) -> ContinuousClock.Instant {
        self.origin + .nanoseconds(Int64((seconds * 1e9).rounded()))
    }
}
