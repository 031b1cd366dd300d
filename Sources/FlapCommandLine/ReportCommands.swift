import FlapCore
import Foundation
import KubeClient

enum ReportCommands {
    static let reportUsage = """
    usage: flap-cli report REPORT.json [--format text|markdown|csv|mutations-csv|junit|html|json] [--output FILE] [--require GATE]...

    Renders a run's report. With --require, evaluates gates and exits 3 when one fails.
    """

    /// compare's exit for a bad command line (sysexits' EX_USAGE): its 2 means "regressions".
    static let compareUsageExit: Int32 = 64

    static let compareUsage = """
    usage: flap-cli compare OLD.json NEW.json [--survival \(ComparisonThresholds().survival)] [--latency \(ComparisonThresholds().latency)] \
    [--propagation \(ComparisonThresholds().propagation)]

    Lists regressions and improvements per metric, and every arm that is in only one of the reports.
    Exit codes: 0 equal, 1 error (a report cannot be read), 2 regressions or an arm in only one report,
    4 only improvements, \(compareUsageExit) usage. Thresholds: absolute survival change, relative latency and
    propagation change.
    """

    static func load(_ path: String) throws -> ExperimentReport {
        guard let data = FileManager.default.contents(atPath: path) else { throw CommandFailure(message: "cannot read report \(path)") }
        do {
            return try ExperimentReport.decode(data)
        } catch let error as ReportDecodingError {
            throw CommandFailure(message: "\(path): \(error)")
        } catch {
            throw CommandFailure(message: "\(path) is not a flap report: \(error)")
        }
    }

    static func report(path: String, format: ReportFormat, output: String?, gates: [String]) throws -> Int32 {
        var report = try self.load(path)
        if !gates.isEmpty { report.evaluate(try gates.map(Gate.parse)) }
        let text = try format.render(report)
        if let output {
            try OutputFiles.write(Data(text.utf8), to: output)
        } else {
            print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
        }
        var judged = report
        (judged.notRestored, judged.partial) = (nil, false)  // how the run ended is `run`'s exit code; this is what it says
        return ExitCode.of(judged)
    }

    static func compare(old: String, new: String, thresholds: ComparisonThresholds) throws -> Int32 {
        let comparison = ReportComparison(old: try self.load(old), new: try self.load(new), thresholds: thresholds)
        print(comparison.summary, terminator: "")
        return comparison.exitCode
    }
}

enum RestoreCommand {
    static let usage = """
    usage: flap-cli restore [--journal FILE [--force]] [--kubeconfig PATH] [--context NAME]

    Finishes restoring what a run changed, from its journal (after a crash or kill -9). Idempotent.
    Without --journal, restores every journal in \(JournalStore.defaultDirectory) ($FLAP_STATE_DIR).
    Nothing is written unless the journal is sound, was written against the kubeconfig's cluster, and each
    object is the one the run changed (same uid, or recreated by the run); a journal that fails a check is kept.
    --force skips the cluster and identity checks for the one journal --journal names.
    """

    static func execute(journal path: String?, force: Bool, kubeconfig: String?, context: String?) async throws -> Int32 {
        let store = JournalStore(directory: path.map { ($0 as NSString).deletingLastPathComponent } ?? JournalStore.defaultDirectory)
        let journals = try path.map { [try store.load(path: $0)] } ?? store.pending()
        guard !journals.isEmpty else {
            print("nothing to restore: no journal in \(store.directory)")
            return ExitCode.ok
        }
        let kube = try await KubeClient.connect(Kubeconfig.Options(kubeconfigPath: kubeconfig, context: context))
        defer { kube.shutdown() }
        var refused = 0
        for journal in journals {
            do {
                let actions = try await Restorer(kube: kube).restore(journal, force: force)
                try store.remove(runID: journal.runID)
                print("run \(journal.runID): " + (actions.isEmpty ? "already restored" : actions.joined(separator: "; ")))
            } catch let error as RestoreError {
                Output.note("flap: \(error); the journal is kept at \(store.path(for: journal.runID))")
                refused += 1
            }
        }
        return refused == 0 ? ExitCode.ok : ExitCode.error
    }
}
