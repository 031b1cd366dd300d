// Trino's QueryResults page decoder: any body gives a page or a TrinoProtocolError, never a trap.
@testable import TrinoClient

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? QueryResults.decode(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}
