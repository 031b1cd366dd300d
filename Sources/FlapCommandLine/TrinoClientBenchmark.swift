import FlapFakes
import FlapSystem
import Foundation
import HTTPWire
import TrinoClient

/// `flap-cli bench trino-client`: rows/s and peak RSS of the client fetching a large result over loopback,
/// side by side with the official Python client against the same server in the same run.
enum TrinoClientBenchmark {
    struct Figure {
        var rows: Int
        var seconds: Double
        var checksum: String
        /// CPU seconds this process used while timed (nil for the Python client, which is another process).
        var cpu: Double? = nil
        var rowsPerSecond: Double { Double(self.rows) / self.seconds }
    }

    static func run(rows: Int, python: Bool) async throws {
        #if DEBUG
        Output.note("warning: this is a debug build; run `swift run -c release flap-cli bench trino-client` for real figures")
        #endif
        let server = try FakeTrinoChild(arguments: ["--shape", "realistic", "--rows", String(rows), "--duration", "0s"])
        defer { server.stop() }
        print("result: \(rows) rows like a real table's: (varchar, bigint, double, date, timestamp(3) with time zone, decimal(18,4)),")
        print("  long non-ASCII names with escapes, bigints past 2^53, 17-digit doubles, nulls in every column; ~1 MB pages")
        print("  from FakeTrinoServer in a child process at \(server.url); load: \(Self.loadAverage())")
        let streamed = try await self.streamWithSwift(server.url)
        let streamedRSS = Self.peakRSSMegabytes()
        let executed = try await self.executeWithSwift(server.url)
        let executedRSS = Self.peakRSSMegabytes()
        // Generated after the clients ran, so its memory is not in their peak.
        let expected = ResultChecksum.expected(realisticRows: 0..<rows).description
        print("expected checksum: \(expected)")
        Self.report("flap TrinoClient pages() (streaming)", streamed, rss: streamedRSS, expected: expected, rows: rows)
        Self.report("flap TrinoClient execute()", executed, rss: executedRSS, expected: expected, rows: rows)
        var mismatch = streamed.checksum != expected || executed.checksum != expected
        if python {
            if let py = try self.fetchWithPython(server.url) {
                Self.report("official Trino Python client \(py.version) (DB-API fetchall)", py.figure, rss: py.rssMB, expected: expected, rows: rows)
                mismatch = mismatch || py.figure.checksum != expected
                print(String(format: "ratio to the Python client's rows/s: pages() %.1fx, execute() %.1fx",
                             streamed.rowsPerSecond / py.figure.rowsPerSecond, executed.rowsPerSecond / py.figure.rowsPerSecond))
            } else {
                print("official Trino Python client: not installed (pip install trino) - skipped")
            }
        }
        if mismatch { throw BenchmarkError("a client's decoded values do not match what the server sent (checksums above)") }
    }

    private static func report(_ who: String, _ figure: Figure, rss: Double, expected: String, rows: Int) {
        let verdict = figure.checksum == expected && figure.rows == rows ? "checksum ok" : "CHECKSUM MISMATCH: \(figure.checksum)"
        let cpu = figure.cpu.map { String(format: " (%.2f CPU s)", $0) } ?? ""
        print(String(format: "%@: %d rows in %.2f s%@ = %.0f rows/s, peak RSS %.1f MB, %@", who, figure.rows, figure.seconds, cpu,
                     figure.rowsPerSecond, rss, verdict))
    }

    private static func client(_ url: URL) -> TrinoClient {
        var configuration = TrinoClient.Configuration(server: url, session: TrinoSession(user: "bench", catalog: "tpch", schema: "sf1"))
        configuration.retryPolicy = .none
        return TrinoClient(configuration: configuration, transport: SocketTransport())
    }

    /// Rows/s of `pages()` (every page decoded, nothing kept), then a second, untimed pass over the same pages
    /// that checks their values: computing a checksum while streaming would be timed with the decoding, and pages
    /// arrive while it runs, so its time could not be taken back out.
    static func streamWithSwift(_ url: URL) async throws -> Figure {
        let start = ContinuousClock.now
        let cpuStart = ProcessCPU.seconds()
        var count = 0
        for try await page in self.client(url).pages(TrinoQuery("SELECT * FROM fake_realistic")) { count += page.rows.count }
        let seconds = DurationText.seconds(ContinuousClock.now - start)
        let cpu = ProcessCPU.seconds() - cpuStart
        var checksum = ResultChecksum(columns: 6)
        for try await page in self.client(url).pages(TrinoQuery("SELECT * FROM fake_realistic")) {
            for row in page.rows { checksum.add(row) }
        }
        return Figure(rows: count, seconds: seconds, checksum: checksum.description, cpu: cpu)
    }

    /// Rows/s of `execute()` (every row kept), then the checksum of what it kept.
    static func executeWithSwift(_ url: URL) async throws -> Figure {
        let start = ContinuousClock.now
        let cpuStart = ProcessCPU.seconds()
        let result = try await self.client(url).execute(TrinoQuery("SELECT * FROM fake_realistic"))
        let seconds = DurationText.seconds(ContinuousClock.now - start)
        let cpu = ProcessCPU.seconds() - cpuStart
        var checksum = ResultChecksum(columns: 6)
        for row in result.rows { checksum.add(row) }
        return Figure(rows: result.rows.count, seconds: seconds, checksum: checksum.description, cpu: cpu)
    }

    static func fetchWithPython(_ url: URL) throws -> (figure: Figure, rssMB: Double, version: String)? {
        guard let python = Executables.find("python3") else { return nil }
        let script = """
        import sys, time
        try:
            import trino
        except ImportError:
            print("missing"); sys.exit(0)
        from trino.dbapi import connect
        \(ResultChecksum.python)
        conn = connect(host="\(url.host!)", port=\(url.port!), user="bench", catalog="tpch", schema="sf1", http_scheme="http")
        cur = conn.cursor()
        start = time.monotonic()
        cur.execute("SELECT * FROM fake_realistic")
        rows = cur.fetchall()
        elapsed = time.monotonic() - start
        # VmHWM, not ru_maxrss: a child's ru_maxrss starts at its parent's peak, which is this benchmark's own.
        rss = [int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:")][0] / 1024.0
        c = Checksum(6)
        for row in rows:
            c.add(row)
        print(len(rows), elapsed, rss, trino.__version__)
        print(c.text())
        """
        let output = try ProcessLauncher.run(python, ["-c", script]).stdout
        let lines = output.split(separator: "\n").map(String.init)
        if lines.first == "missing" { return nil }
        let fields = lines.first?.split(separator: " ").map(String.init) ?? []
        guard lines.count >= 2, fields.count == 4, let rows = Int(fields[0]), let seconds = Double(fields[1]), let rss = Double(fields[2]) else {
            throw BenchmarkError("the Python client printed \"\(output.prefix(300))\"")
        }
        return (Figure(rows: rows, seconds: seconds, checksum: lines[1]), rss, fields[3])
    }

    /// The 1-minute load average, so a figure says how busy the machine was.
    static func loadAverage() -> String {
        (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)).map { "\($0.split(separator: " ").prefix(3).joined(separator: " ")) (1, 5, 15 min)" }
            ?? "unknown"
    }

    static func peakRSSMegabytes() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// `flap-cli fake trino` as a child process, so its memory is not counted as the client's.
final class FakeTrinoChild {
    let process = Process()
    let url: URL

    init(arguments: [String]) throws {
        let output = Pipe()
        self.process.executableURL = URL(fileURLWithPath: Executables.current)
        self.process.arguments = ["fake", "trino"] + arguments
        self.process.standardOutput = output
        try ProcessLauncher.start(self.process)
        guard let line = ProcessLauncher.readLine(output.fileHandleForReading), let url = URL(string: line), url.port != nil else {
            self.process.terminate()
            throw BenchmarkError("the fake Trino child did not print its URL")
        }
        self.url = url
    }

    func stop() {
        if self.process.isRunning {
            self.process.terminate()
            self.process.waitUntilExit()
        }
    }
}
