import FlapJSON
import FlapSystem
import Foundation
import KubeClient
import TrinoClient

/// Why a run could not run, or could not put everything back. Match on `code`.
public struct ExperimentError: CodedError, Equatable {
    public typealias Code = ErrorCode<ExperimentError>
    public var code: Code
    public var message: String
    /// The run's report, when the run itself finished (`.notRestored`).
    public var report: ExperimentReport?

    init(_ code: Code, _ message: String, report: ExperimentReport? = nil) {
        self.code = code
        self.message = message
        self.report = report
    }

    static let alreadyRunning = ExperimentError(.alreadyRunning, "the experiment is already running")
    static let alreadyFinished = ExperimentError(.alreadyFinished, "the experiment has finished; make a new runner")
    static let noArms = ExperimentError(.noArms, "the experiment has no arms")
    static func invalidConfiguration(_ why: String) -> ExperimentError { ExperimentError(.invalidConfiguration, "invalid configuration: \(why)") }
    static func checkFailed(_ problems: [String]) -> ExperimentError {
        ExperimentError(.checkFailed, "nothing was written: \(problems.joined(separator: "; "))")
    }
    static func notRestored(_ why: String, report: ExperimentReport) -> ExperimentError {
        ExperimentError(.notRestored, "restore failed: \(why); the journal is kept, run `flap-cli restore`", report: report)
    }
}

extension ErrorCode where Owner == ExperimentError {
    public static let alreadyRunning = Self("alreadyRunning")
    public static let alreadyFinished = Self("alreadyFinished")
    public static let noArms = Self("noArms")
    /// A setting the run cannot use (checked before anything is written).
    public static let invalidConfiguration = Self("invalidConfiguration")
    /// A mutator cannot work on a live object (a missing route or backend); found before any write.
    public static let checkFailed = Self("checkFailed")
    /// The run finished but its end-of-run restore failed; `report` is the run's report, marked `notRestored`.
    public static let notRestored = Self("notRestored")
}

/// Runs one experiment: arms interleaved in seeded order, open-loop queries, scheduled mutations, one clock,
/// an event log, and a restore of every touched object at the end — on success, error, stop or cancellation.
///
/// `run()` may be called once. `requestStop()` finishes the current slot, restores and returns a partial report.
public actor ExperimentRunner {
    private enum State { case initial, running, finished }

    public nonisolated let runID: String
    private nonisolated let configuration: ExperimentConfiguration
    /// The run's clock: every time in the report is seconds since its origin.
    package nonisolated let clock: RunClock
    private var state = State.initial
    private var stopRequested = false
    private var aborted: String?
    private let collector = RunCollector()
    private let arrivalClock: ArrivalClock
    private var upcoming: [ArmID: ContinuousClock.Instant] = [:]
    /// The run's restore journal, once written.
    private var journal: RestoreJournal?
    /// Each arm's mutator state, for the whole run (journal, flaps and restore see the same).
    private nonisolated let armStates: [MutatorState]

    public init(configuration: ExperimentConfiguration, runID: String = ExperimentRunner.makeRunID()) {
        self.configuration = configuration
        self.arrivalClock = ArrivalClock(realTime: configuration.load.realTimeArrivals)
        self.runID = runID
        self.clock = RunClock()
        self.armStates = configuration.arms.map { _ in MutatorState() }
    }

    public static func makeRunID() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        return "flap-\(formatter.string(from: Date()))-\(UUID().uuidString.prefix(6).lowercased())"
    }

    /// Stops after the current slot; the run then restores and returns a partial report. Remembered if called before `run()`.
    public func requestStop() {
        self.stopRequested = true
        self.arrivalClock.stop()
    }

    /// The slot running now: its arm, round, number (from 1) and start.
    private var currentSlot: (arm: ArmID, round: Int, index: Int, start: ContinuousClock.Instant)?

    /// A snapshot for live progress (elapsed, the slot, in flight, failures per arm, next mutation, time left).
    public func progress() -> RunProgress {
        let failures = Dictionary(grouping: self.collector.queries.filter { !$0.outcome.succeeded }, by: \.arm).mapValues(\.count)
        let next = self.upcoming.min { $0.value < $1.value }
        let total = self.configuration.schedule.rounds * self.configuration.arms.count
        let slot = self.configuration.schedule.slot.components
        let slotSeconds = Double(slot.seconds) + Double(slot.attoseconds) / 1e18
        var progress = RunProgress(elapsed: self.clock.now, inFlight: self.collector.inFlight, completed: self.collector.queries.count,
                                   failuresByArm: failures, nextMutation: next.map { ($0.key, max(0, self.clock.seconds($0.value) - self.clock.now)) })
        if let current = self.currentSlot {
            progress.slot = RunProgress.Slot(arm: current.arm, round: current.round + 1, number: current.index, of: total)
            let inSlot = max(0, self.clock.now - self.clock.seconds(current.start))
            progress.remaining = max(0, Double(total - current.index) * slotSeconds + slotSeconds - inSlot)
        }
        return progress
    }

    private func setUpcoming(_ arm: ArmID, _ time: ContinuousClock.Instant?) { self.upcoming[arm] = time }

    func abort(_ reason: String) {
        if self.aborted == nil { self.aborted = reason }
        self.requestStop()
    }

    public func run() async throws -> ExperimentReport {
        switch self.state {
        case .running: throw ExperimentError.alreadyRunning
        case .finished: throw ExperimentError.alreadyFinished
        case .initial: self.state = .running
        }
        defer { self.state = .finished }
        guard !self.configuration.arms.isEmpty else { throw ExperimentError.noArms }
        if let problem = self.configuration.problem { throw ExperimentError.invalidConfiguration(problem) }
        let journals = JournalStore(directory: self.configuration.journalDirectory)
        let journal = try await self.writeJournal(journals)
        self.journal = journal
        let log = try EventLog(path: self.configuration.eventLogPath)
        log.write("run-start", at: 0, ["runID": .string(self.runID), "arms": .array(self.configuration.arms.map { .string($0.id.rawValue) })])
        let collector = self.collector
        let monitor = StallMonitor.start(clock: self.clock, bound: self.configuration.scheduleBounds.stall)
        var runError: (any Error)?
        do {
            try await self.execute(collector: collector, log: log)
        } catch {
            runError = error
        }
        let stalls = await monitor.finish()
        for stall in stalls { log.write("stall", at: stall.start, ["seconds": .number(String(format: "%.3f", stall.duration))]) }
        let restoreError = await self.restore(journal, journals: journals, log: log)
        log.write("run-end", at: self.clock.now, ["aborted": .string(self.aborted ?? "")])
        log.close()
        if let runError, !(runError is CancellationError) { throw runError }
        var report = ReportBuilder(configuration: self.configuration, clock: self.clock, runID: self.runID).build(
            queries: collector.queries, mutations: collector.mutations, dropped: collector.dropped,
            partial: self.stopRequested, aborted: self.aborted, eventLog: log.path, stalls: stalls)
        if let restoreError {
            report.notRestored = restoreError
            report.judge()
            throw ExperimentError.notRestored(restoreError, report: report)
        }
        if runError is CancellationError { throw CancellationError() }
        return report
    }

    /// Each arm's mutator checked against the live objects, before anything is written: what cannot work.
    package static func check(_ contexts: [(ExperimentConfiguration.Arm, MutationContext)]) async -> [String] {
        var problems: [String] = []
        for (arm, context) in contexts {
            if let problem = await context.problem(with: arm.mutator) { problems.append("arm \(arm.id): \(problem)") }
        }
        return problems
    }

    // MARK: - Journal and restore

    private func contexts() -> [(ExperimentConfiguration.Arm, MutationContext)] {
        self.configuration.arms.enumerated().map { index, arm in
            (arm, MutationContext(kube: self.configuration.kube, target: arm.target, runID: self.runID, marker: "\(self.runID)-\(index)",
                                  state: self.armStates[index]))
        }
    }

    /// Snapshots every object any mutator may touch, refuses objects another run has not restored, and writes
    /// the journal durably before the first write.
    private func writeJournal(_ journals: JournalStore) async throws -> RestoreJournal {
        var references: [ObjectReference] = []
        for (arm, context) in self.contexts() {
            for reference in try await arm.mutator.touchedObjects(in: context) where !references.contains(reference) { references.append(reference) }
        }
        for pending in try journals.pending() {
            let overlap = pending.references.intersection(references)
            if !overlap.isEmpty {
                throw RestoreError.unrestoredJournal(runID: pending.runID, objects: overlap.sorted { $0.description < $1.description },
                                                     path: journals.path(for: pending.runID))
            }
        }
        // After the unrestored-journal refusal (a crashed run's half-done flap is why an object may be missing).
        let problems = await Self.check(self.contexts())
        if !problems.isEmpty { throw ExperimentError.checkFailed(problems) }
        let journal = try await RestoreJournal.capture(references, runID: self.runID, kube: self.configuration.kube)
        try journals.save(journal)
        return journal
    }

    /// Restores in a task of its own, so cancellation of the run cannot stop it. Returns an error text on failure.
    private func restore(_ journal: RestoreJournal, journals: JournalStore, log: EventLog) async -> String? {
        let restorer = Restorer(kube: self.configuration.kube)
        let timeout = self.configuration.timeouts.restore
        let outcome = await Task.detached { () -> Result<[String], any Error> in
            await withTaskGroup(of: Result<[String], any Error>?.self) { group in
                group.addTask {
                    do { return .success(try await restorer.restore(journal)) } catch { return .failure(error) }
                }
                group.addTask { try? await Task.sleep(for: timeout); return nil }
                let first = await group.next() ?? nil
                group.cancelAll()
                return first ?? .failure(MutationError("the restore timed out after \(timeout)"))
            }
        }.value
        switch outcome {
        case .success(let actions):
            log.write("restored", at: self.clock.now, ["actions": .array(actions.map { .string($0) })])
            try? journals.remove(runID: journal.runID)
            return nil
        case .failure(let error):
            log.write("restore-failed", at: self.clock.now, ["error": .string("\(error)")])
            return "\(error)"
        }
    }

    // MARK: - Slots

    private func execute(collector: RunCollector, log: EventLog) async throws {
        let configuration = self.configuration
        let contexts = self.contexts()
        var generator = SplitMix(seed: configuration.seed)
        var queryIndex = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (arm, _) in contexts where configuration.schedule.warmupQueries > 0 {
                for _ in 0..<configuration.schedule.warmupQueries {
                    _ = await configuration.workload.run(-1, through: arm.target, deadline: .now + configuration.load.queryTimeout)
                }
            }
            var loopError: (any Error)?
            do {
            for round in 0..<configuration.schedule.rounds {
                var order = contexts
                order.shuffle(using: &generator)
                for (arm, context) in order {
                    if self.stopRequested || Task.isCancelled { break }
                    let slotStart = ContinuousClock.now
                    self.currentSlot = (arm.id, round, (self.currentSlot?.index ?? 0) + 1, slotStart)
                    log.write("slot", at: self.clock.seconds(slotStart), ["arm": .string(arm.id.rawValue), "round": .int(round)])
                    let mutations = self.mutationTimes(arm: arm, slotStart: slotStart, generator: &generator)
                    let slotEnd = slotStart + configuration.schedule.slot
                    collector.mutationStarted()
                    group.addTask {
                        defer { collector.mutationFinished() }
                        await self.runMutations(arm: arm, context: context, round: round, at: mutations, slotEnd: slotEnd, collector: collector, log: log)
                    }
                    let arrivals = self.arrivals(slotStart: slotStart, generator: &generator)
                    let firstIndex = queryIndex
                    queryIndex += arrivals.count
                    let counter = Locked(firstIndex)
                    let clock = self.arrivalClock
                    await withTaskCancellationHandler {
                    await clock.run(arrivals) { intended in
                        let index = counter.next()
                        guard collector.inFlight < configuration.load.maxInFlight else {
                            collector.drop()
                            return nil
                        }
                        collector.started()
                        let dispatched = ContinuousClock.now
                        // Queries run below the clock (QueryWork); their own delays are measured from the intended start.
                        return Task(executorPreference: QueryWork.executor, priority: QueryWork.priority) {
                            await self.runQuery(index, arm: arm, round: round, intended: intended, dispatched: dispatched, collector: collector, log: log)
                        }
                    }
                    } onCancel: {
                        clock.stop()
                    }
                    if self.stopRequested { break }
                    try await Task.sleep(until: slotStart + configuration.schedule.slot, clock: .continuous)
                }
            }
            } catch {
                loopError = error
            }
            // Every query must end before the run restores and closes its log, whatever ended the slots; so must the
            // last slot's steps (a stop mid-slot still un-flaps in the slot instead of cancelling the write).
            let drainDeadline = ContinuousClock.now + configuration.timeouts.drain
            while loopError == nil, collector.inFlight > 0 || collector.mutationsRunning > 0, ContinuousClock.now < drainDeadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(20))
            }
            self.arrivalClock.cancelAll()
            while collector.inFlight > 0 { try? await Task.sleep(for: .milliseconds(5)) }
            group.cancelAll()
            try? await group.waitForAll()
            if let loopError { throw loopError }
            try Task.checkCancellation()
        }
    }

    /// Intended starts in a slot: the cohort at its beginning, then fixed-rate or Poisson arrivals.
    private func arrivals(slotStart: ContinuousClock.Instant, generator: inout SplitMix) -> [ContinuousClock.Instant] {
        let load = self.configuration.load
        var times = Array(repeating: slotStart, count: load.cohort)
        let slot = self.configuration.schedule.slot
        let end = slotStart + slot * min(1, max(0, self.configuration.schedule.arrivalWindow))
        var t = slotStart
        let rate = load.arrival.rate
        guard rate > 0 else { return times }
        while true {
            switch load.arrival {
            case .fixed: t = t + .seconds(1 / rate)
            case .poisson: t = t + .seconds(-log(1 - Double.random(in: 0..<1, using: &generator)) / rate)
            }
            if t >= end { break }
            times.append(t)
        }
        return times
    }

    private func mutationTimes(arm: ExperimentConfiguration.Arm, slotStart: ContinuousClock.Instant, generator: inout SplitMix) -> [ContinuousClock.Instant] {
        let schedule = self.configuration.schedule
        let steps = arm.mutator.stepsPerFlap * max(1, schedule.burst)
        let slot = schedule.slot
        let jitterSeconds = Double(schedule.jitter.components.seconds) + Double(schedule.jitter.components.attoseconds) / 1e18
        return (0..<steps).map { step in
            let fraction = steps == 1 ? schedule.flapAt : schedule.flapAt + (schedule.unflapAt - schedule.flapAt) * Double(step) / Double(steps - 1)
            let jitter = jitterSeconds > 0 ? Double.random(in: -jitterSeconds...jitterSeconds, using: &generator) : 0
            return slotStart + slot * fraction + .seconds(jitter)
        }
    }

    /// Writes the slot's steps at their times. A step whose slot has ended before it could start is skipped, a
    /// write still running when the slot ends is cancelled, and after a failed step the slot's other steps are
    /// skipped — each recorded as an error (the arm is then invalid), never replayed into another arm's slot —
    /// and then the arm's objects are put back from the journal so the next slot starts clean.
    private func runMutations(arm: ExperimentConfiguration.Arm, context: MutationContext, round: Int, at times: [ContinuousClock.Instant],
                              slotEnd: ContinuousClock.Instant, collector: RunCollector, log: EventLog) async {
        let configuration = self.configuration
        var missed = false
        var failedStep: Int?
        var records: [MutationRecord] = []
        // Accepted and the probe's proof are watched until the next step is due, never holding that write back; what
        // was not seen by then is not recorded (a later proof could be the next step's state). After an unproven
        // step, the next one's proof is not looked for: "header absent" would be true before the header ever came.
        var observing: (index: Int, task: Task<(Double?, Double?), Never>)?
        var previousProven = true
        for (step, time) in times.enumerated() {
            self.setUpcoming(arm.id, time)
            if step == 0, let threshold = configuration.schedule.whenInFlight {
                let latest = times.last ?? time
                while collector.inFlight < threshold, ContinuousClock.now < latest { try? await Task.sleep(for: .milliseconds(5)) }
            } else {
                try? await Task.sleep(until: time, clock: .continuous)
            }
            if let (index, task) = observing {
                task.cancel()
                (records[index].acceptedAt, records[index].propagatedAt) = await task.value
                previousProven = records[index].expectation == .none || records[index].propagatedAt != nil
                observing = nil
            }
            let writeStart = ContinuousClock.now
            var record = MutationRecord(arm: arm.id, mutator: arm.mutator.name, round: round, step: step, description: "",
                                        writeStart: self.clock.seconds(writeStart), writeEnd: 0, expectation: .none)
            // Waiting for the in-flight threshold is the schedule, not lateness.
            record.intendedAt = step == 0 && configuration.schedule.whenInFlight != nil ? record.writeStart : self.clock.seconds(time)
            record.slotEnd = self.clock.seconds(slotEnd)
            if let failedStep {
                record.writeEnd = record.writeStart
                record.error = "skipped: step \(failedStep) of this slot failed"
                records.append(record)
                continue
            }
            guard writeStart < slotEnd else {
                record.writeEnd = record.writeStart
                record.error = "skipped: the slot ended before this step could be written (an earlier write was late)"
                missed = true
                records.append(record)
                continue
            }
            do {
                let mutator = arm.mutator
                let outcome = try await withDeadline(slotEnd, "the write did not finish within its slot and was cancelled") {
                    try await mutator.apply(step: step % mutator.stepsPerFlap, in: context)
                }
                record.writeEnd = self.clock.now
                record.description = outcome.description
                record.resourceVersion = outcome.resourceVersion
                record.generation = outcome.generation
                record.expectation = outcome.expectation
                record.uid = outcome.uid
                let expectation = previousProven ? outcome.expectation : .none
                observing = (records.count, Task {
                    async let accepted = self.awaitAccepted(arm.target, generation: outcome.generation)
                    async let propagated = self.awaitPropagation(expectation, target: arm.target)
                    return (await accepted.map(self.clock.seconds), await propagated.map(self.clock.seconds))
                })
            } catch {
                record.writeEnd = self.clock.now
                record.error = "\(error)"
                failedStep = step
                missed = true
            }
            records.append(record)
        }
        self.setUpcoming(arm.id, nil)
        if let (index, task) = observing {
            (records[index].acceptedAt, records[index].propagatedAt) = await withTaskCancellationHandler { await task.value } onCancel: { task.cancel() }
        }
        for record in records {
            log.write("mutation", at: record.writeStart, record: record)
            collector.add(record)
        }
        if missed { await self.restoreArm(arm, context: context, log: log) }
    }

    /// Puts one arm's objects back from the run's journal (after a step it could not finish in its slot).
    private func restoreArm(_ arm: ExperimentConfiguration.Arm, context: MutationContext, log: EventLog) async {
        guard let journal = self.journal, let touched = try? await arm.mutator.touchedObjects(in: context) else { return }
        var part = journal
        part.entries = journal.entries.filter { touched.contains($0.reference) }
        do {
            let actions = try await Restorer(kube: self.configuration.kube).restore(part)
            log.write("arm-restored", at: self.clock.now, ["arm": .string(arm.id.rawValue), "actions": .array(actions.map { .string($0) })])
        } catch {
            log.write("arm-restore-failed", at: self.clock.now, ["arm": .string(arm.id.rawValue), "error": .string("\(error)")])
        }
    }

    /// When the route's API first reported the generation accepted, as its kind's adapter reads the status.
    private func awaitAccepted(_ target: RouteTarget, generation: Int64?) async -> ContinuousClock.Instant? {
        guard let isAccepted = target.kind.adapter.isAccepted, let generation else { return nil }
        let end = ContinuousClock.now + self.configuration.timeouts.accepted
        while ContinuousClock.now < end, !Task.isCancelled {
            if (try? await isAccepted(self.configuration.kube, target, generation)) == true { return .now }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return nil
    }

    private func awaitPropagation(_ expectation: ProbeExpectation, target: RouteTarget) async -> ContinuousClock.Instant? {
        guard expectation != .none, let probe = self.configuration.probe else { return nil }
        return await probe.awaitProof(expectation, target: target, timeout: self.configuration.timeouts.propagation)
    }

    /// Runs off the actor: thousands of these are in flight, and the dispatcher must not wait behind them.
    private nonisolated func runQuery(_ index: Int, arm: ExperimentConfiguration.Arm, round: Int, intended: ContinuousClock.Instant,
                                      dispatched: ContinuousClock.Instant, collector: RunCollector, log: EventLog) async {
        let actualStart = dispatched
        let execution = await self.configuration.workload.run(index, through: arm.target, deadline: intended + self.configuration.load.queryTimeout)
        let end = ContinuousClock.now
        let trace = execution.trace
        let hops = trace.hops.map { HopRecord($0, clock: self.clock) }
        let opened = trace.connectionsOpened
        let record = QueryObservation(id: index, arm: arm.id, round: round, label: execution.label, intendedStart: self.clock.seconds(intended),
                                      actualStart: self.clock.seconds(actualStart), end: self.clock.seconds(end), queryID: trace.queryID,
                                      outcome: execution.outcome, rows: execution.rows, hops: hops, connectionsOpened: opened,
                                      reconnects: trace.reconnects, transport: trace.transport)
        log.write("query", at: record.end, record: record)
        collector.finished(record)
        if !record.outcome.succeeded, !arm.isControl, let budget = self.configuration.failureBudget, collector.failures(excludingControl: self.controlArms) > budget {
            await self.abort("failure budget of \(budget) exceeded")
        }
    }

    private nonisolated var controlArms: Set<ArmID> { Set(self.configuration.arms.filter(\.isControl).map(\.id)) }
}

/// Results as they arrive from concurrent tasks.
final class RunCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [QueryObservation] = []
    private var mutationRecords: [MutationRecord] = []
    private var running = 0
    private var droppedCount = 0
    private var mutationTasks = 0

    var queries: [QueryObservation] { self.lock.withLock { self.records.sorted { $0.id < $1.id } } }
    var mutations: [MutationRecord] { self.lock.withLock { self.mutationRecords.sorted { $0.writeStart < $1.writeStart } } }
    var inFlight: Int { self.lock.withLock { self.running } }
    var dropped: Int { self.lock.withLock { self.droppedCount } }
    var mutationsRunning: Int { self.lock.withLock { self.mutationTasks } }
    func mutationStarted() { self.lock.withLock { self.mutationTasks += 1 } }
    func mutationFinished() { self.lock.withLock { self.mutationTasks -= 1 } }

    func started() { self.lock.withLock { self.running += 1 } }
    func drop() { self.lock.withLock { self.droppedCount += 1 } }
    func finished(_ record: QueryObservation) {
        self.lock.withLock {
            self.records.append(record)
            self.running -= 1
        }
    }
    func add(_ record: MutationRecord) { self.lock.withLock { self.mutationRecords.append(record) } }
    func failures(excludingControl control: Set<ArmID>) -> Int {
        self.lock.withLock { self.records.filter { !$0.outcome.succeeded && !control.contains($0.arm) }.count }
    }
}

/// Live progress of a run.
public struct RunProgress: Sendable {
    public var elapsed: Double
    public var inFlight: Int
    public var completed: Int
    public var failuresByArm: [ArmID: Int]
    /// The arm whose mutation comes next, and in how many seconds.
    public var nextMutation: (arm: ArmID, inSeconds: Double)?
    public struct Slot: Sendable, Equatable {
        public var arm: ArmID
        public var round: Int
        public var number: Int
        public var of: Int
    }
    /// The slot running now (numbers from 1), once the first has started.
    public var slot: Slot?
    /// Seconds until the last slot ends (the drain after it is not counted).
    public var remaining: Double?

    public init(elapsed: Double, inFlight: Int, completed: Int, failuresByArm: [ArmID: Int], nextMutation: (arm: ArmID, inSeconds: Double)?) {
        self.elapsed = elapsed
        self.inFlight = inFlight
        self.completed = completed
        self.failuresByArm = failuresByArm
        self.nextMutation = nextMutation
    }

    /// One line for a terminal: `12.3s  slot 5/18 envoy-gateway-delete-recreate round 1  done 40, 3 failed  in flight 4  ~52s left`.
    public var line: String {
        var text = String(format: "%6.1fs", self.elapsed)
        if let slot = self.slot { text += "  slot \(slot.number)/\(slot.of) \(slot.arm.rawValue) round \(slot.round)" }
        let failed = self.failuresByArm.values.reduce(0, +)
        text += "  done \(self.completed)\(failed > 0 ? ", \(failed) failed" : "")  in flight \(self.inFlight)"
        if let next = self.nextMutation { text += String(format: "  next write %@ in %.1fs", next.arm.rawValue, next.inSeconds) }
        if let remaining = self.remaining { text += String(format: "  ~%.0fs left", remaining) }
        return text
    }
}
