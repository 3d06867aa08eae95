// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "claude-guard",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "claude-guard", targets: ["claude-guard"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // OTLP's protobuf and JSON encodings (runtime only: the few OTLP messages are written by hand, no protoc).
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        // Thin CLI: parse, wire, print.
        .executableTarget(
            name: "claude-guard",
            dependencies: [
                "GuardCore",
                "GuardKernel",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Policy language, shell parser, evaluator, event model and formatting. Never imports libbpf.
        .target(
            name: "GuardCore",
            dependencies: [
                "CZlib", "CGlibc", .product(name: "Yams", package: "Yams"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            resources: [.embedInCode("Resources/default.yaml")]
        ),
        // zlib (gzip and deflate HTTP bodies of the HTTPS capture), the system's library.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib"),
        // glibc's GNU extensions (errno names), declared for Swift.
        .systemLibrary(name: "CGlibc", path: "Sources/CGlibc"),
        // libbpf, the generated skeleton and the header shared with the kernel programs.
        .target(
            name: "CBPF",
            linkerSettings: [.linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z")]
        ),
        // Kernel side of user space: load, attach, ring buffer, tracked set, held processes.
        .target(name: "GuardKernel", dependencies: ["CBPF", "GuardCore"]),
        .testTarget(
            name: "GuardCoreTests",
            dependencies: ["GuardCore", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        // bench/engine/decide.sh: the evaluator's decision time per exec on Claude-Code-shaped payloads.
        .executableTarget(name: "decision-bench", dependencies: ["GuardCore"], path: "bench/engine/decide"),
        // Root-only: loads the real programs and runs real commands under the built binary.
        .testTarget(name: "IntegrationTests", dependencies: ["GuardCore", "GuardKernel"]),
    ]
)
