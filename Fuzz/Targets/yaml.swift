// The YAML subset parser (kubeconfigs, manifests): any text gives documents or a YAMLError with a position.
@testable import KubeClient

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: count), as: UTF8.self)
    _ = try? YAML.parseDocuments(text)
    return 0
}
