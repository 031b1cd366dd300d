// The protobuf request bodies the fake API server decodes (what `kubectl create` sends): the k8s envelope, the
// wire format, and the schemas of the kinds it knows.
@testable import FlapFakes

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    _ = try? KubeProtobuf.decode(KubeProtobuf.magic + Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}
