import FlapSystem
import Foundation

enum Executables {
    /// This executable's absolute path.
    static var current: String {
        Bundle.main.executablePath ?? URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
    }

    static func find(_ name: String) -> String? { ProcessLauncher.which(name) }
}
