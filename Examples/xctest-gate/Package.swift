// swift-tools-version:6.0
// A team's own test package: it depends on flap by path (a real project would use its git URL) and fails the
// build when the gateway's query survival during route changes drops below a threshold.
import PackageDescription

let package = Package(
    name: "xctest-gate",
    platforms: [.macOS(.v14)],
    dependencies: [.package(name: "flap", path: "../..")],
    targets: [
        .testTarget(name: "GateTests", dependencies: [
            .product(name: "FlapCore", package: "flap"),
            .product(name: "FlapLab", package: "flap"),
        ]),
    ]
)
