// Scenario files and restore journals, as flap-cli reads them: decode, schema and validation, or a clear error.
import Foundation
@testable import FlapCommandLine
@testable import FlapCore
import FlapJSON

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: count))
    if let json = try? JSONValue.parse([UInt8](bytes)), (try? ScenarioSchema.check(json)) != nil,
       let scenario = try? JSONDecoder().decode(Scenario.self, from: bytes) {
        try? scenario.validate()
    }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    if let journal = try? decoder.decode(RestoreJournal.self, from: bytes) { _ = journal.defect }
    return 0
}
