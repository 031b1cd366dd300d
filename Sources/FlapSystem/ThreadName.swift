import Foundation

/// A thread's name as the kernel knows it (/proc's `comm`, at most 15 bytes): what ps, perf and the tests that count
/// threads by name read. A new thread otherwise carries its creator's, often a pool thread's.
public enum KernelThreadName {
    /// Names the calling thread (Linux; elsewhere `Thread.name` is all there is).
    public static func set(_ name: String) {
        #if os(Linux)
        try? name.write(toFile: "/proc/thread-self/comm", atomically: false, encoding: .utf8)
        #endif
    }
}
