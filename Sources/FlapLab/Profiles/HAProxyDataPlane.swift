import FlapSystem
import Foundation

/// Each backend's server slots, as HAProxy's controllers keep them: `SRV_1...SRV_n`, a multiple of
/// ``slotIncrement``, the unused ones disabled. A change that only moves servers in and out of slots or changes
/// their weights is a list of runtime API commands; one that needs more slots, or changes anything else, a reload.
struct HAProxySlots: Equatable, Sendable {
    /// haproxytech's `scale-server-slots` default.
    static let slotIncrement = 42
    private(set) var slots: [String: [HAProxyConfiguration.Server?]] = [:]

    enum Change: Equatable {
        case runtime([String])
        case reload
    }

    /// Fits `configuration`'s servers into the slots: the commands that make a running HAProxy match, or `.reload`
    /// when it cannot (the slots are then laid out afresh for the new configuration).
    mutating func fit(_ configuration: HAProxyConfiguration, previous: HAProxyConfiguration?) -> Change {
        var commands: [String] = []
        var next: [String: [HAProxyConfiguration.Server?]] = [:]
        var reload = previous?.skeleton != configuration.skeleton
        for backend in configuration.backends {
            var slots = self.slots[backend.name] ?? []
            let wanted = backend.servers
            let place = { (index: Int) in "\(backend.name)/SRV_\(index + 1)" }
            // Servers that stay keep their slot (a weight change is a command); the others leave theirs.
            for (index, current) in slots.enumerated() {
                guard let current else { continue }
                if let kept = wanted.first(where: { $0.address == current.address && $0.service == current.service }) {
                    if kept.weight != current.weight { commands.append("set server \(place(index)) weight \(kept.weight)") }
                    slots[index] = kept
                } else {
                    commands.append("set server \(place(index)) state maint")
                    slots[index] = nil
                }
            }
            for server in wanted where !slots.contains(where: { $0?.address == server.address && $0?.service == server.service }) {
                guard let free = slots.firstIndex(where: { $0 == nil }) else { reload = true; break }
                let (host, port) = Self.split(server.address)
                commands += ["set server \(place(free)) addr \(host) port \(port)", "set server \(place(free)) weight \(server.weight)",
                             "set server \(place(free)) state ready"]
                slots[free] = server
            }
            next[backend.name] = slots
        }
        if reload {
            self.slots = Dictionary(uniqueKeysWithValues: configuration.backends.map { backend in
                let count = backend.servers.isEmpty ? Self.slotIncrement
                    : (backend.servers.count + Self.slotIncrement - 1) / Self.slotIncrement * Self.slotIncrement
                return (backend.name, backend.servers.map { Optional($0) } + Array(repeating: nil, count: count - backend.servers.count))
            })
            return .reload
        }
        self.slots = next
        return .runtime(commands)
    }

    static func split(_ address: String) -> (host: String, port: String) {
        guard let colon = address.lastIndex(of: ":") else { return (address, "0") }
        return (String(address[..<colon]), String(address[address.index(after: colon)...]))
    }

    /// haproxy.cfg: the head, then each backend with its slots (the fixed ones have none).
    func render(_ configuration: HAProxyConfiguration) -> String {
        var text = configuration.head
        for backend in configuration.backends {
            text += "backend \(backend.name)\n" + backend.directives.map { "    \($0)\n" }.joined()
            for (index, slot) in (self.slots[backend.name] ?? []).enumerated() where !backend.directives.contains(where: { $0.hasPrefix("http-request return") }) {
                if let slot {
                    text += "    server SRV_\(index + 1) \(slot.address) weight \(slot.weight) enabled\n"
                } else {
                    text += "    server SRV_\(index + 1) 127.0.0.1:1 disabled\n"
                }
            }
        }
        return text
    }

    /// The lab's `X-Flap-Backend` map: `<backend>/SRV_<n>` -> the Service of the server in that slot.
    func services() -> [String: String] {
        var out: [String: String] = [:]
        for (name, slots) in self.slots {
            for (index, slot) in slots.enumerated() { if let slot { out["\(name)/SRV_\(index + 1)"] = slot.service } }
        }
        return out
    }

    /// ``services()`` as a map file.
    func serviceMap() -> String {
        let services = self.services()
        return services.keys.sorted().map { "\($0) \(services[$0]!)\n" }.joined()
    }
}

/// HAProxy as its Kubernetes controllers run it: master-worker (`-W`), a master CLI for reloads (`-S`), listeners
/// passed to the new worker on reload (`expose-fd listeners`: no connection refused), old workers finishing their
/// connections until `hard-stop-after`; servers and weights changed through the runtime API without a reload.
final class HAProxyDataPlane: @unchecked Sendable {
    let binary: String
    let directory: String
    let port: Int
    let translator: HAProxyTranslator
    private var process: SupervisedProcess?
    private let state = Locked<(slots: HAProxySlots, last: HAProxyConfiguration?, stamps: Int, reloads: [ContinuousClock.Instant], runtimeUpdates: Int)>(
        (HAProxySlots(), nil, 0, [], 0))

    init(binary: String, directory: String, port: Int) throws {
        self.binary = binary
        self.directory = directory
        self.port = port
        self.translator = HAProxyTranslator(directory: directory, port: port)
        for sub in ["run", "logs", "conf"] {
            try FileManager.default.createDirectory(atPath: "\(directory)/\(sub)", withIntermediateDirectories: true)
        }
    }

    var configPath: String { "\(self.directory)/conf/haproxy.cfg" }
    var masterSocket: String { "\(self.directory)/run/master.sock" }

    /// When a change reloaded HAProxy, and how many changes went through the runtime API alone.
    var updates: (reloads: [ContinuousClock.Instant], runtimeUpdates: Int) { self.state.withLock { ($0.reloads, $0.runtimeUpdates) } }

    func start(_ configuration: HAProxyConfiguration, labDirectory: String) throws {
        self.adopt(configuration)
        try self.write(configuration, check: true)
        self.process = try SupervisedProcess(name: "haproxy", executable: self.binary,
                                             arguments: ["-W", "-db", "-f", self.configPath, "-S", self.masterSocket],
                                             log: "\(self.directory)/logs/stderr.log", cleanup: labDirectory)
        guard FreePort.waitUntilListening(self.port) else {
            throw LabError.dataPlane("haproxy", "did not start listening on 127.0.0.1:\(self.port): \(self.process?.logTail ?? "")")
        }
    }

    /// Takes `configuration` as what HAProxy runs, its slots laid out afresh (as loading it does).
    func adopt(_ configuration: HAProxyConfiguration) {
        var slots = HAProxySlots()
        _ = slots.fit(configuration, previous: nil)
        self.state.withLock { $0.slots = slots; $0.last = configuration }
    }

    /// Applies a new configuration the way the controllers do. Returns the stamp to wait for after a reload, or nil
    /// when the runtime API applied it (served when the commands returned). When it fails, what HAProxy runs is
    /// unknown: the next change reloads the whole configuration rather than trusting slots it may not have.
    func apply(_ configuration: HAProxyConfiguration) throws -> String? {
        do {
            return try self.applyOrThrow(configuration)
        } catch {
            self.state.withLock { $0.last = nil }
            throw error
        }
    }

    private func applyOrThrow(_ configuration: HAProxyConfiguration) throws -> String? {
        let (previous, before) = self.state.withLock { ($0.last, $0.slots) }
        var slots = before
        switch slots.fit(configuration, previous: previous) {
        case .runtime(let commands):
            self.state.withLock { $0.slots = slots; $0.last = configuration }
            // The file follows, so the next reload starts from what runs now.
            try self.write(configuration, check: false)
            guard !commands.isEmpty else { return nil }
            let answer = try HAProxyRuntime(socketPath: self.translator.runtimeSocket).send(commands + self.mapCommands(from: before, to: slots))
            // Each command answers nothing (or a notice) on success, and says what it refused otherwise.
            let refusals = ["no such", "unknown", "error", "invalid", "require", "not found", "cannot"]
            let errors = answer.split(separator: "\n").filter { line in refusals.contains { line.localizedCaseInsensitiveContains($0) } }
            guard errors.isEmpty else { throw LabError.dataPlane("haproxy", "runtime API refused: \(errors.joined(separator: "; "))") }
            self.state.withLock { $0.runtimeUpdates += 1 }
            return nil
        case .reload:
            self.state.withLock { $0.slots = slots; $0.last = configuration }
            let stamp = try self.write(configuration, check: true)
            // The master re-executes itself with the new file and passes the listeners on; the old worker drains.
            try HAProxyRuntime(socketPath: self.masterSocket).send(["reload"])
            self.state.withLock { $0.reloads.append(.now) }
            return stamp
        }
    }

    /// `add map` for slots the running HAProxy has not mapped yet, `set map` for a slot now serving another Service.
    private func mapCommands(from before: HAProxySlots, to after: HAProxySlots) -> [String] {
        let old = before.services(), new = after.services()
        return new.keys.sorted().compactMap { slot in
            switch old[slot] {
            case nil: "add map \(self.translator.serviceMap) \(slot) \(new[slot]!)"
            case new[slot]: nil
            default: "set map \(self.translator.serviceMap) \(slot) \(new[slot]!)"
            }
        }
    }

    /// Writes haproxy.cfg for the current slots (and the service map) with a new stamp, checked by `haproxy -c`
    /// first when it is to be loaded.
    @discardableResult
    private func write(_ configuration: HAProxyConfiguration, check: Bool) throws -> String {
        let (slots, stamp) = self.state.withLock { state -> (HAProxySlots, String) in
            state.stamps += 1
            return (state.slots, "config-\(state.stamps)")
        }
        let text = slots.render(configuration).replacingOccurrences(of: NginxDataPlane.stampPlaceholder, with: stamp)
        try slots.serviceMap().write(toFile: self.translator.serviceMap, atomically: true, encoding: .utf8)
        let temporary = self.configPath + ".new"
        try text.write(toFile: temporary, atomically: true, encoding: .utf8)
        if check {
            let result = try ProcessLauncher.run(self.binary, ["-c", "-f", temporary])
            guard result.status == 0 else {
                throw LabError.dataPlane("haproxy", "configuration rejected, previous one kept: \((result.stderr + result.stdout).split(separator: "\n").filter { !$0.contains("[NOTICE]") }.joined(separator: "\n").suffix(600))")
            }
        }
        guard rename(temporary, self.configPath) == 0 else { throw LabError.dataPlane("haproxy", "cannot replace \(self.configPath)") }
        return stamp
    }

    /// Waits until a new connection is answered with `stamp`: the new worker serves the configuration.
    func awaitServing(_ stamp: String) async -> Bool { await NginxDataPlane.awaitStamp(stamp, port: self.port) }

    var exitedUnexpectedly: Bool { self.process?.exitedUnexpectedly ?? false }
    var logTail: String { self.process?.logTail ?? "" }

    func stop() { self.process?.stop() }
}
