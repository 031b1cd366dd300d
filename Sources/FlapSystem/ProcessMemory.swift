#if os(Linux)
import CSystemCalls
#endif
import Foundation

/// This process's resident memory as the kernel counts it (Linux), for benchmarks that report memory per phase.
public enum ProcessMemory {
    /// Whether `peakMegabytes()` can start again (`startNewPeak()`); elsewhere it is the process's peak so far.
    public static var peakCanRestart: Bool {
        #if os(Linux)
        true
        #else
        false
        #endif
    }

    /// Returns freed heap memory to the system (glibc keeps it for reuse, so an earlier phase's memory would stay
    /// resident) and restarts the peak the kernel reports (VmHWM; "5" to clear_refs, proc(5)).
    public static func startNewPeak() {
        #if os(Linux)
        _ = flap_return_free_heap()
        try? "5".write(toFile: "/proc/self/clear_refs", atomically: false, encoding: .utf8)
        #endif
    }

    /// Peak resident memory since the last `startNewPeak()` (Linux) or since the process started; 0 if unknown.
    public static func peakMegabytes() -> Double {
        #if os(Linux)
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return kilobytes / 1024
        #else
        var usage = rusage()
        getrusage(RUSAGE_SELF, &usage)
        return Double(usage.ru_maxrss) / (1024 * 1024)  // bytes on macOS
        #endif
    }
}
