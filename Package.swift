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
        .library(name: "FlapLab", targets: ["FlapLab"]),
        .library(name: "FlapTesting", targets: ["FlapTesting"]),
        .executable(name: "flap-cli", targets: ["flap-cli"]),
    ],
    targets: [
        .target(name: "FlapJSON", swiftSettings: strictness),
        .target(name: "FlapSystem", swiftSettings: strictness),
        .target(name: "HTTPWire", swiftSettings: strictness),
        .target(name: "TrinoClient", dependencies: ["HTTPWire", "FlapJSON"], swiftSettings: strictness),
        .target(name: "KubeClient", dependencies: ["HTTPWire", "FlapJSON", "FlapSystem"], swiftSettings: strictness),
        .target(name: "FlapCore", dependencies: ["HTTPWire", "FlapJSON", "TrinoClient", "KubeClient", "FlapSystem"], swiftSettings: strictness),
        .target(name: "FlapTesting", dependencies: ["FlapCore", "HTTPWire", "TrinoClient", "KubeClient", "FlapJSON", "FlapSystem"], swiftSettings: strictness),
        .target(name: "FlapLab", dependencies: ["FlapCore", "FlapTesting", "KubeClient", "FlapJSON", "FlapSystem", "HTTPWire"], swiftSettings: strictness),
        .executableTarget(name: "flap-cli", dependencies: ["FlapLab", "FlapCore", "KubeClient", "TrinoClient", "FlapTesting", "HTTPWire", "FlapSystem", "FlapJSON"], swiftSettings: strictness),
        // Examples built and tested with the package (Examples/README.md).
        .target(name: "CustomMutatorExample", dependencies: ["FlapCore", "KubeClient"], path: "Examples/custom-mutator/Sources", swiftSettings: strictness),
        .testTarget(name: "CustomMutatorExampleTests", dependencies: ["CustomMutatorExample", "FlapCore", "FlapTesting"],
                    path: "Examples/custom-mutator/Tests", swiftSettings: strictness),
        .target(name: "CustomWorkloadExample", dependencies: ["FlapCore", "TrinoClient"], path: "Examples/custom-workload/Sources", swiftSettings: strictness),
        .testTarget(name: "CustomWorkloadExampleTests", dependencies: ["CustomWorkloadExample", "FlapCore", "FlapTesting", "KubeClient", "HTTPWire"],
                    path: "Examples/custom-workload/Tests", swiftSettings: strictness),
        .testTarget(name: "HTTPWireTests", dependencies: ["HTTPWire"], swiftSettings: strictness),
        .testTarget(name: "TrinoClientTests", dependencies: ["TrinoClient", "FlapTesting", "HTTPWire"],
                    resources: [.copy("Fixtures")], swiftSettings: strictness),
        .testTarget(name: "KubeClientTests", dependencies: ["KubeClient", "FlapTesting", "HTTPWire", "FlapSystem"],
                    resources: [.copy("Fixtures")], swiftSettings: strictness),
        .testTarget(name: "FlapCoreTests", dependencies: ["FlapCore", "FlapTesting", "KubeClient", "TrinoClient", "HTTPWire", "FlapJSON"], swiftSettings: strictness),
        .testTarget(name: "FlapLabTests", dependencies: ["FlapLab", "FlapCore", "FlapTesting", "KubeClient", "flap-cli", "FlapSystem", "FlapJSON", "HTTPWire"], swiftSettings: strictness),
        .testTarget(name: "FlapCLITests", dependencies: ["flap-cli", "FlapTesting", "FlapCore", "KubeClient", "FlapSystem"], swiftSettings: strictness),
        .testTarget(name: "FlapTestingTests", dependencies: ["FlapTesting", "FlapCore", "KubeClient", "TrinoClient", "HTTPWire", "FlapSystem"], swiftSettings: strictness),
    ],
    swiftLanguageModes: [.v6]
)
