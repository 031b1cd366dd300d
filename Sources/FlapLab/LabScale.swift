import FlapCore
import FlapJSON
import Foundation
import HTTPWire
import KubeClient

/// `flap-cli lab scale`: per profile and route count, the time from an API write to the new route being
/// served, and an unrelated host's request latency during updates versus outside them.
public enum LabScale {
    public struct Row: Sendable, Codable {
        public var routes: Int
        public var dataPlane: String
        /// Write of a new route -> first 200 through the data plane, per update (seconds).
        public var writeToServed: [Double]
        public var steadyDuring: LatencySummary?
        public var steadyOutside: LatencySummary?
        /// Requests to the unrelated host that failed even after the keep-alive race's one retry.
        public var steadyFailures: Int
        /// Requests sent on an idle keep-alive connection just as the proxy closed it (nginx does on every reload),
        /// answered by one retry on a new connection, as HTTP clients retry idempotent requests. Not a routing failure.
        public var steadyKeepAliveRaces: Int
        /// Why the lost requests failed, by description.
        public var steadyFailureReasons: [String: Int]
    }

    /// `progress` hears what is being measured now (for a terminal's progress line).
    public static func run(lab: Lab, counts: [Int], updates: Int = 3, progress: (@Sendable (String) -> Void)? = nil) async throws -> [Row] {
        var rows: [Row] = []
        var created = 0
        for count in counts.sorted() {
            progress?("creating \(count) routes per data plane (\(created) exist)")
            try await self.addFillers(lab: lab, from: created, to: count)
            created = max(created, count)
            for profile in lab.profiles {
                guard let target = lab.target(profile) else { continue }
                progress?("\(count) routes: measuring \(profile.rawValue), \(updates) updates")
                rows.append(try await self.measure(lab: lab, profile: profile, target: target, routes: count, updates: updates))
            }
        }
        return rows
    }

    /// Filler Ingresses and HTTPRoutes on their own hosts, then waits until every profile serves the last one.
    static func addFillers(lab: Lab, from: Int, to: Int) async throws {
        guard to > from else { return }
        for index in from..<to {
            try await self.createRoutes(lab: lab, name: "filler-\(index)")
        }
        try await self.waitServed(lab: lab, name: "filler-\(to - 1)", timeout: .seconds(120))
    }

    static func createRoutes(lab: Lab, name: String) async throws {
        if lab.profiles.contains(where: { $0.api == .ingress }) { try await lab.kube.create(self.ingress(name, host: "\(name).ingress.lab", lab: lab)) }
        if lab.profiles.contains(where: { $0.api == .httpRoute }) { try await lab.kube.create(self.httpRoute(name, host: "\(name).gateway.lab", lab: lab)) }
    }

    /// A class-less Ingress (every Ingress profile serves it) to Service trino.
    static func ingress(_ name: String, host: String, lab: Lab) -> Ingress {
        var ingress = Ingress(name: name, namespace: lab.configuration.namespace)
        ingress.spec.rules = [Ingress.Rule(host: host, paths: [Ingress.Path(backend: Ingress.Backend(service: "trino", port: 8080))])]
        return ingress
    }

    /// An HTTPRoute attached to every Gateway API profile's Gateway, to Service trino.
    static func httpRoute(_ name: String, host: String, lab: Lab) -> HTTPRoute {
        var route = HTTPRoute(name: name, namespace: lab.configuration.namespace)
        route.spec.parentRefs = lab.profiles.filter { $0.api == .httpRoute }.map { ParentReference(name: $0.gatewayName) }
        route.spec.hostnames = [host]
        route.spec.rules = [HTTPRoute.Rule(backendRefs: [HTTPRoute.BackendRef(name: "trino", port: 8080)])]
        return route
    }

    static func waitServed(lab: Lab, name: String, timeout: Duration) async throws {
        let probe = HTTPDataPlaneProbe()
        for profile in lab.profiles {
            guard var target = lab.target(profile) else { continue }
            target.url = URL(string: "http://\(name).\(profile.api == .ingress ? "ingress" : "gateway").lab")!
            guard await probe.awaitProof(.status(200), target: target, timeout: timeout, required: 1) != nil else {
                throw LabError.setup("\(name) was not served through \(profile.rawValue) within \(timeout): "
                                     + (await Self.whyNotServed(lab: lab, profile: profile, target: target, probe: probe)))
            }
        }
    }

    /// What the data plane answers now and what its controller last reported, so a setup failure says where it stopped.
    static func whyNotServed(lab: Lab, profile: LabProfile, target: RouteTarget, probe: HTTPDataPlaneProbe) async -> String {
        let answer = await probe.observe(target)
        var why = "it answers " + (answer.status.map { "HTTP \($0)" } ?? answer.error ?? "nothing")
        if let plane = lab.planes[profile] {
            let errors = await plane.loop.failures.suffix(3)
            why += errors.isEmpty ? "; its controller reported no error" : "; its controller's last errors: " + errors.joined(separator: "; ")
            why += "; configurations served: \(await plane.loop.servedConfigurations.count)"
            if plane.exitedUnexpectedly { why += "; its data plane exited: \(plane.logTail)" }
        }
        return why
    }

    static func measure(lab: Lab, profile: LabProfile, target: RouteTarget, routes: Int, updates: Int) async throws -> Row {
        let dataPlane = profile.rawValue
        var steady = target
        steady.url = URL(string: "http://neighbour.\(profile.api == .ingress ? "ingress" : "gateway").lab")!
        let samples = SteadyLoad.start(target: steady)
        try await Task.sleep(for: .seconds(1))
        var windows: [(Double, Double)] = []
        var times: [Double] = []
        let probe = HTTPDataPlaneProbe()
        for update in 0..<updates {
            let name = "scale-\(dataPlane)-\(routes)-\(update)"
            let start = ContinuousClock.now
            if profile.api == .ingress {
                try await lab.kube.create(self.ingress(name, host: "\(name).lab", lab: lab))
            } else {
                try await lab.kube.create(self.httpRoute(name, host: "\(name).lab", lab: lab))
            }
            var probeTarget = target
            probeTarget.url = URL(string: "http://\(name).lab")!
            let served = await probe.awaitProof(.status(200), target: probeTarget, timeout: .seconds(60), interval: .milliseconds(2), required: 1)
            let end = ContinuousClock.now
            if let served { times.append(Double((served - start).components.attoseconds) / 1e18 + Double((served - start).components.seconds)) }
            windows.append((samples.seconds(start) - 0.05, samples.seconds(end) + 2))
            try await Task.sleep(for: .seconds(2))
        }
        let recorded = samples.stop()
        let during = recorded.filter { sample in windows.contains { sample.at >= $0.0 && sample.at <= $0.1 } }
        let outside = recorded.filter { sample in !windows.contains { sample.at >= $0.0 && sample.at <= $0.1 } }
        return Row(routes: routes, dataPlane: dataPlane, writeToServed: times,
                   steadyDuring: LatencySummary(seconds: during.compactMap(\.latency)), steadyOutside: LatencySummary(seconds: outside.compactMap(\.latency)),
                   steadyFailures: recorded.filter { $0.latency == nil }.count, steadyKeepAliveRaces: recorded.filter(\.raced).count,
                   steadyFailureReasons: Dictionary(grouping: recorded.compactMap(\.failure), by: { $0 }).mapValues(\.count))
    }

    public static func table(_ rows: [Row]) -> String {
        let header = ["routes", "profile", "write->served (ms, each update)", "unrelated host p99/max during updates", "outside",
                      "failures", "keep-alive races"]
        var cells = [header]
        for row in rows {
            func latency(_ summary: LatencySummary?) -> String { summary.map { String(format: "%.1f/%.1f ms", $0.p99 * 1000, $0.max * 1000) } ?? "-" }
            cells.append([String(row.routes), row.dataPlane, row.writeToServed.map { String(format: "%.0f", $0 * 1000) }.joined(separator: ", "),
                          latency(row.steadyDuring), latency(row.steadyOutside), String(row.steadyFailures),
                          "\(row.steadyKeepAliveRaces)" + (row.steadyFailureReasons.isEmpty ? "" : "  \(row.steadyFailureReasons)")])
        }
        // Columns as wide as their widest cell, so no figure is ever cut.
        let widths = header.indices.map { column in cells.map { $0[column].count }.max() ?? 0 }
        return cells.map { line in
            line.enumerated().map { index, cell in
                index == 0 ? String(repeating: " ", count: widths[0] - cell.count) + cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
            }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression) + "\n"
        }.joined()
    }
}

/// ~50 requests/s over 4 keep-alive connections to an unrelated host, recording each request's latency. A request
/// that meets the keep-alive race (sent on a reused connection the proxy closed, nothing received) is retried once
/// on a new connection and marked `raced`; its latency covers both attempts.
final class SteadyLoad: @unchecked Sendable {
    struct Sample { var at: Double; var latency: Double?; var raced = false; var failure: String? }
    private let lock = NSLock()
    private var samples: [Sample] = []
    private var tasks: [Task<Void, Never>] = []
    let origin = ContinuousClock.now

    static func start(target: RouteTarget) -> SteadyLoad {
        let load = SteadyLoad()
        let client = SocketHTTPClient()
        let url = URL(string: target.url.absoluteString + "/v1/info")!
        for _ in 0..<4 {
            load.tasks.append(Task {
                while !Task.isCancelled {
                    let start = ContinuousClock.now
                    var request = HTTPClientRequest(url: url)
                    request.connectTo = target.connectTo
                    var raced = false
                    var response: HTTPClientResponse?
                    var failure: String?
                    do {
                        response = try await client.execute(request, deadline: .now + .seconds(5))
                    } catch where Self.isKeepAliveRace(error) {
                        // The pool's other idle connections were closed by the same reload: retry on a new one.
                        raced = true
                        do { response = try await SocketHTTPClient().execute(request, deadline: .now + .seconds(5)) } catch { failure = "\(error)" }
                    } catch {
                        failure = "\(error)"
                    }
                    // Stopping the load cancels a request in flight: that is the instrument ending, not a failure.
                    if Task.isCancelled || failure == "\(CancellationError())" { break }
                    if let response, response.status != 200 { failure = "HTTP \(response.status)" }
                    let latency = failure == nil ? load.seconds(.now) - load.seconds(start) : nil
                    load.lock.withLock { load.samples.append(Sample(at: load.seconds(start), latency: latency, raced: raced, failure: failure)) }
                    try? await Task.sleep(for: .milliseconds(80))
                }
            })
        }
        return load
    }

    /// The proxy closed an idle keep-alive connection as the request went out: nothing of a response arrived.
    /// (The socket client throws `HTTPRequestFailure`, which carries the wire error and the connection.)
    static func isKeepAliveRace(_ error: any Error) -> Bool {
        guard let wire = (error as? HTTPRequestFailure)?.error ?? (error as? HTTPWireError) else { return false }
        return switch wire {
        case .connectionReset(reusedConnection: true), .closedBeforeComplete(received: 0, reusedConnection: true): true
        default: false
        }
    }

    func seconds(_ instant: ContinuousClock.Instant) -> Double {
        let d = instant - self.origin
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    func stop() -> [Sample] {
        for task in self.tasks { task.cancel() }
        return self.lock.withLock { self.samples }
    }
}
