import FlapSystem
import Foundation
import HTTPWire
import TrinoClient

/// `flap-cli bench trino-client`: rows/s and peak RSS of the client fetching a large result over loopback,
/// side by side with the official Python client against the same server in the same run.
enum TrinoClientBenchmark {
    static func run(rows: Int, python: Bool) async throws {
        #if DEBUG
        Output.note("warning: this is a debug build; run `swift run -c release flap-cli bench trino-client` for real figures")
        #endif
        let server = try FakeTrinoChild(rows: rows)
        defer { server.stop() }
        print("result: \(rows) rows of (varchar, bigint, double, date), ~1 MB pages, FakeTrinoServer in a child process at \(server.url)")
        let swift = try await self.fetchWithSwift(server.url)
        print(String(format: "flap TrinoClient (socket transport): %d rows in %.2f s = %.0f rows/s, peak RSS %.1f MB",
                     swift.rows, swift.seconds, Double(swift.rows) / swift.seconds, Self.peakRSSMegabytes()))
        guard swift.rows == rows else { throw BenchmarkError("the client fetched \(swift.rows) rows, expected \(rows)") }
        guard python else { return }
        guard let py = try self.fetchWithPython(server.url) else {
            print("official Trino Python client: not installed (pip install trino) - skipped")
            return
        }
        print(String(format: "official Trino Python client %@: %d rows in %.2f s = %.0f rows/s, peak RSS %.1f MB",
                     py.version, py.rows, py.seconds, Double(py.rows) / py.seconds, py.rssMB))
        print(String(format: "ratio: flap is %.1fx the Python client's rows/s", (Double(swift.rows) / swift.seconds) / (Double(py.rows) / py.seconds)))
    }

    static func fetchWithSwift(_ url: URL) async throws -> (rows: Int, seconds: Double) {
        var configuration = TrinoClient.Configuration(server: url, session: TrinoSession(user: "bench", catalog: "tpch", schema: "sf1"))
        configuration.retryPolicy = .none
        let client = TrinoClient(configuration: configuration, transport: SocketTransport())
        let start = ContinuousClock.now
        var count = 0
        for try await page in client.pages(TrinoQuery("SELECT * FROM fake_bench")) {
            count += page.rows.count
        }
        let elapsed = ContinuousClock.now - start
        return (count, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func fetchWithPython(_ url: URL) throws -> (rows: Int, seconds: Double, rssMB: Double, version: String)? {
        guard let python = Executables.find("python3") else { return nil }
        let script = """
        import sys, time, resource
        try:
            import trino
        except ImportError:
            print("missing"); sys.exit(0)
        from trino.dbapi import connect
        conn = connect(host="\(url.host!)", port=\(url.port!), user="bench", catalog="tpch", schema="sf1", http_scheme="http")
        cur = conn.cursor()
        start = time.monotonic()
        cur.execute("SELECT * FROM fake_bench")
        n = 0
        while True:
            batch = cur.fetchmany(10000)
            if not batch: break
            n += len(batch)
        elapsed = time.monotonic() - start
        print(n, elapsed, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, trino.__version__)
        """
        let output = try ProcessLauncher.run(python, ["-c", script]).stdout
        let fields = output.split(separator: " ").map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) }
        if fields.first == "missing" { return nil }
        guard fields.count == 4, let rows = Int(fields[0]), let seconds = Double(fields[1]), let rss = Double(fields[2]) else {
            throw BenchmarkError("the Python client printed \"\(output.prefix(300))\"")
        }
        return (rows, seconds, rss, fields[3])
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

    convenience init(rows: Int) throws {
        try self.init(arguments: ["--shape", "bench", "--rows", String(rows), "--duration", "0s"])
    }

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
