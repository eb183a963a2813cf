// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "DeepLenseSwift",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Core", targets: ["Core"]),
        .library(name: "Lensing", targets: ["Lensing"]),
        .library(name: "Equivariant", targets: ["Equivariant"]),
        .library(name: "Backbones", targets: ["Backbones"]),
        .library(name: "DomainAdaptation", targets: ["DomainAdaptation"]),
        .executable(name: "deeplense", targets: ["deeplense"]),
        .executable(name: "Bench", targets: ["Bench"]),
    ],
    traits: [
        .trait(name: "MPI", description: "Data-parallel training over Open MPI (`deeplense train --distributed`); needs libopenmpi-dev."),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CFFTW", path: "Sources/CFFTW", pkgConfig: "fftw3f",
            providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(
            name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CMPI", path: "Sources/CMPI", pkgConfig: "ompi-c",
            providers: [.apt(["libopenmpi-dev"])]),
        .target(name: "CKernels"),
        .target(name: "Core", dependencies: ["CFFTW", "CBLAS", "CKernels"]),
        .target(name: "Lensing", dependencies: ["Core"]),
        .target(name: "Equivariant", dependencies: ["Core"]),
        .target(name: "Backbones", dependencies: ["Core", "Equivariant"]),
        .target(name: "DomainAdaptation", dependencies: ["Core", "Lensing", "Backbones"]),
        // compiled empty unless the MPI trait is enabled, so the default build needs no MPI installation
        .target(name: "MPIBackend", dependencies: ["Core", .target(name: "CMPI", condition: .when(traits: ["MPI"]))]),
        .target(
            name: "DeepLenseCLI",
            dependencies: [
                "Core", "Lensing", "Equivariant", "Backbones", "DomainAdaptation",
                .target(name: "MPIBackend", condition: .when(traits: ["MPI"])),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]),
        .executableTarget(name: "deeplense", dependencies: ["DeepLenseCLI", "Core"]),
        .executableTarget(
            name: "Bench",
            dependencies: ["Core", "Lensing", "Equivariant", "Backbones", "DomainAdaptation",
                           .target(name: "MPIBackend", condition: .when(traits: ["MPI"]))]),
        .target(name: "TestSupport", dependencies: ["Core"], path: "Sources/TestSupport"),
        .testTarget(name: "CoreTests", dependencies: ["Core", "TestSupport"]),
        .testTarget(name: "LensingTests", dependencies: ["TestSupport", "Lensing", "Core"]),
        .testTarget(name: "EquivariantTests", dependencies: ["TestSupport", "Equivariant", "Core"]),
        .testTarget(name: "BackbonesTests", dependencies: ["TestSupport", "Backbones", "Core"]),
        .testTarget(name: "DomainAdaptationTests", dependencies: ["TestSupport", "DomainAdaptation", "Core", "Backbones"]),
        .testTarget(name: "DeepLenseCLITests", dependencies: ["DeepLenseCLI"]),
    ],
    swiftLanguageModes: [.v5]
)
