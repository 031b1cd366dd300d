import Foundation
import TrinoClient

/// One query's state inside the fake coordinator. Guarded by the coordinator's lock.
final class FakeTrinoQuery {
    enum Phase { case queued, executing }

    struct QueryFailure {
        var name: String
        var code: Int
        var type: String
        var message: String
    }

    let id: String
    let slug: String
    let statement: FakeStatement
    let duration: Duration
    let queuedTime: Duration
    let rowsPerPage: Int
    let failure: QueryFailure?
    let spooling: Bool
    var record: FakeQueryRecord

    var phase: Phase = .queued
    /// Highest token answered in the current phase (-1 before the first executing GET).
    var lastToken = 0
    var cachedBody: [UInt8]?
    var cachedHeaders: [(String, String)] = []
    var nextPage = 0
    var lastContact: ContinuousClock.Instant
    var terminalError: QueryFailure?
    var finalServed = false
    /// The queued-phase token and response that moved the query to executing, kept for replays.
    var queuedTokenAtDispatch = -1
    var queuedCacheAtDispatch: [UInt8]?

    init(id: String, slug: String, statement: FakeStatement, record: FakeQueryRecord, duration: Duration, queuedTime: Duration,
         rowsPerPage: Int, failure: QueryFailure?, spooling: Bool) {
        self.id = id
        self.slug = slug
        self.statement = statement
        self.record = record
        self.duration = duration
        self.queuedTime = queuedTime
        self.rowsPerPage = max(1, rowsPerPage)
        self.failure = failure
        self.spooling = spooling
        self.lastContact = record.submittedAt
    }

    var shape: FakeResultShape { self.statement.shape }
    var pageCount: Int { (self.shape.rowCount + self.rowsPerPage - 1) / self.rowsPerPage }
    var isTerminal: Bool {
        switch self.record.outcome {
        case .queued, .running: false
        default: true
        }
    }

    /// When page `index` is ready (pages spread evenly over the query's duration).
    func readyTime(ofPage index: Int) -> ContinuousClock.Instant {
        let start = (self.record.dispatchedAt ?? self.record.submittedAt) + self.queuedTime
        let pages = max(1, self.pageCount)
        return start + self.duration * (Double(min(index + 1, pages)) / Double(pages))
    }

    var finishTime: ContinuousClock.Instant { self.readyTime(ofPage: max(0, self.pageCount - 1)) }

    func rows(ofPage index: Int) -> Range<Int> {
        let start = index * self.rowsPerPage
        return start..<min(self.shape.rowCount, start + self.rowsPerPage)
    }

    func end(_ outcome: FakeQueryRecord.Outcome, failure: QueryFailure?, at time: ContinuousClock.Instant = .now) {
        guard !self.isTerminal else { return }
        self.record.outcome = outcome
        self.record.endedAt = time
        self.terminalError = failure
    }
}

extension FakeTrinoQuery.QueryFailure {
    static let userCanceled = Self(name: "USER_CANCELED", code: 3, type: "USER_ERROR", message: "Query was canceled")
    static let abandoned = Self(name: "ABANDONED_QUERY", code: 2, type: "USER_ERROR",
                                message: "Query was abandoned by the client, as it may have exited or stopped checking for query results")

    /// Known error names with their codes and types; anything else becomes a GENERIC_USER_ERROR-coded USER_ERROR.
    static func named(_ name: String) -> Self {
        switch name {
        case "SYNTAX_ERROR": Self(name: name, code: 1, type: "USER_ERROR", message: "line 1:1: mismatched input")
        case "GENERIC_INTERNAL_ERROR": Self(name: name, code: 65536, type: "INTERNAL_ERROR", message: "internal error")
        case "SERVER_SHUTTING_DOWN": Self(name: name, code: 65545, type: "INTERNAL_ERROR", message: "Server is shutting down")
        case "EXCEEDED_TIME_LIMIT": Self(name: name, code: 131075, type: "INSUFFICIENT_RESOURCES", message: "Query exceeded maximum time limit")
        default: Self(name: name, code: 0, type: "USER_ERROR", message: "fake failure \(name)")
        }
    }
}
