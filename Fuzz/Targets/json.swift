// The JSON scanner and value parser: any bytes give a value or a JSONError, never a trap; a parsed value
// serializes to text that parses back to the same value.
@testable import FlapJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: count))
    guard let value = try? JSONValue.parse(bytes) else { return 0 }
    guard let again = try? JSONValue.parse(value.serialized), again == value else { fatalError("round trip changed \(value)") }
    return 0
}
