// The patch engines the fake API server applies: merge patch, JSON patch and strategic merge patch. The input
// is two JSON documents separated by a NUL byte: the object, then the patch.
@testable import FlapFakes
import FlapJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let split = bytes.firstIndex(of: 0),
          let target = try? JSONValue.parse(Array(bytes[..<split])),
          let patch = try? JSONValue.parse(Array(bytes[(split + 1)...])) else { return 0 }
    _ = JSONMergePatch.apply(patch, to: target)
    _ = try? JSONPatch.apply(patch, to: target)
    _ = try? StrategicMergePatch.apply(patch, to: target)
    return 0
}
