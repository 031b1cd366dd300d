// swift-tools-version:6.0
import PackageDescription

// Foundation only: this package has no package dependencies, so any team can embed it.
let strictness: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "flap",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "TrinoClient", targets: ["TrinoClient"]),
        .library(name: "KubeClient", targets: ["KubeClient"]),
        .library(name: "FlapCore", targets: ["FlapCore"]),
        .library(name: "FlapFakes", targets: ["FlapFakes"]),
        .library(name: "FlapTesting", targets: ["FlapTesting"]),
        .library(name: "FlapLab", targets: ["FlapLab"]),
        .library(name: "FlapCommandLine", targets: ["FlapCommandLine"]),
        .executable(name: "flap-cli", targets: ["flap-cli"]),
    ],
    targets: [
        // The module graph (scripts/check-imports enforces it): HTTPWire/FlapJSON/FlapSystem -> TrinoClient/KubeClient
        // -> FlapFakes and FlapCore -> FlapTesting and FlapLab -> FlapCommandLine -> flap-cli. In the base tier,
        // FlapSystem (durations, files, processes, the lock box) is below HTTPWire.
        .target(name: "FlapJSON", swiftSettings: strictness),
        .target(name: "FlapSystem", dependencies: ["CSystemCalls"], swiftSettings: strictness),
        // Kernel interfaces the Glibc module does not export: epoll/eventfd and sched_setattr (Linux), kqueue (macOS).
        .target(name: "CSystemCalls"),
        .target(name: "HTTPWire", dependencies: ["FlapSystem", "CSystemCalls"], swiftSettings: strictness),
        .target(name: "TrinoClient", dependencies: ["HTTPWire", "FlapJSON", "FlapSystem"], swiftSettings: strictness),
        .target(name: "KubeClient", dependencies: ["HTTPWire", "FlapJSON", "FlapSystem"], swiftSettings: strictness),
        .target(name: "FlapFakes", dependencies: ["HTTPWire", "FlapJSON", "FlapSystem", "TrinoClient", "KubeClient"], swiftSettings: strictness),
        .target(name: "FlapCore", dependencies: ["HTTPWire", "FlapJSON", "FlapSystem", "TrinoClient", "KubeClient", "CSystemCalls"], swiftSettings: strictness),
        .target(name: "FlapTesting", dependencies: ["FlapCore", "FlapFakes", "FlapJSON", "KubeClient", "TrinoClient"], swiftSettings: strictness),
        .target(name: "FlapLab", dependencies: ["FlapCore", "FlapFakes", "FlapJSON", "FlapSystem", "HTTPWire", "KubeClient", "TrinoClient"], swiftSettings: strictness),
        .target(name: "FlapCommandLine", dependencies: ["FlapLab", "FlapCore", "FlapFakes", "FlapJSON", "FlapSystem", "HTTPWire", "KubeClient", "TrinoClient"],
                swiftSettings: strictness),
        .executableTarget(name: "flap-cli", dependencies: ["FlapCommandLine"], swiftSettings: strictness),
        // Examples built and tested with the package (Examples/README.md).
        .target(name: "CustomMutatorExample", dependencies: ["FlapCore", "KubeClient"], path: "Examples/custom-mutator/Sources", swiftSettings: strictness),
        .testTarget(name: "CustomMutatorExampleTests", dependencies: ["CustomMutatorExample", "FlapCore", "FlapTesting"],
                    path: "Examples/custom-mutator/Tests", swiftSettings: strictness),
        .target(name: "CustomWorkloadExample", dependencies: ["FlapCore", "HTTPWire"], path: "Examples/custom-workload/Sources", swiftSettings: strictness),
        .testTarget(name: "CustomWorkloadExampleTests", dependencies: ["CustomWorkloadExample", "FlapCore", "FlapFakes", "FlapTesting", "KubeClient", "HTTPWire"],
                    path: "Examples/custom-workload/Tests", swiftSettings: strictness),
        .testTarget(name: "EmbeddingExampleTests", dependencies: ["FlapCore", "FlapTesting"], path: "Examples/embedding/Tests", swiftSettings: strictness),
        .executableTarget(name: "team-flap", dependencies: ["CustomMutatorExample", "FlapCommandLine", "FlapCore"], path: "Examples/team-cli/Sources",
                          swiftSettings: strictness),
        .testTarget(name: "TeamCLIExampleTests", dependencies: ["team-flap", "flap-cli", "FlapCore", "FlapFakes", "FlapSystem", "FlapTesting", "KubeClient"],
                    path: "Examples/team-cli/Tests", swiftSettings: strictness),
        .testTarget(name: "HTTPWireTests", dependencies: ["HTTPWire"], swiftSettings: strictness),
        .testTarget(name: "TrinoClientTests", dependencies: ["TrinoClient", "FlapFakes", "FlapJSON", "HTTPWire"],
                    resources: [.copy("Fixtures")], swiftSettings: strictness),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "FlapFakes", "FlapJSON", "HTTPWire", "FlapSystem"],
                    resources: [.copy("Fixtures")], swiftSettings: strictness),
        .testTarget(name: "FlapCoreTests", dependencies: ["FlapCore", "FlapFakes", "FlapTesting", "KubeClient", "TrinoClient", "HTTPWire", "FlapJSON", "FlapSystem"], swiftSettings: strictness),
        .testTarget(name: "FlapLabTests", dependencies: ["FlapLab", "FlapCore", "FlapFakes", "FlapTesting", "KubeClient", "flap-cli", "FlapSystem", "FlapJSON", "HTTPWire"],
                    exclude: ["Golden"], swiftSettings: strictness),
        .testTarget(name: "FlapCLITests", dependencies: ["flap-cli", "FlapCommandLine", "FlapJSON", "FlapFakes", "FlapLab", "FlapTesting", "FlapCore", "KubeClient", "FlapSystem"], swiftSettings: strictness),
        .testTarget(name: "FlapFakesTests", dependencies: ["FlapFakes", "FlapJSON", "KubeClient", "TrinoClient", "HTTPWire", "FlapSystem"], swiftSettings: strictness),
        .testTarget(name: "FlapTestingTests", dependencies: ["FlapTesting", "FlapCore", "KubeClient"], swiftSettings: strictness),
    ],
    swiftLanguageModes: [.v6]
)
