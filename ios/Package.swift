// swift-tools-version:5.9
// The Xiangying Swift package: the generated bindings (XiangyingFFI) over the Rust library, a
// small async/await layer (Xiangying) with the sync engine's iOS wiring, and its XCTest tests.
// On Apple platforms the library is the XCFramework that build-xcframework.sh makes. On Linux
// (to build and run the tests with a Swift toolchain) XiangyingFFIC is the generated C header
// and module map over the host-built library: `cargo build -p xiangying-ffi --lib`, then
// `swift test --package-path ios`; XIANGYING_FFI_LIB_DIR (an absolute path) names the folder
// holding libxiangying_ffi.so when it is not ../target/debug. For distribution, the Apple
// branch takes the versioned XCFramework zip from releaseBinaryURL instead. Not built on the
// project's machines (no Swift toolchain there): see README.md.
import PackageDescription

// The distributed XCFramework (see ios/README.md, "Packaging"): nil and empty for development;
// build-xcframework.sh --write-package sets both on a release commit.
let releaseBinaryURL: String? = nil
let releaseBinaryChecksum = ""

#if os(Linux)
let ffiLibDir = Context.environment["XIANGYING_FFI_LIB_DIR"] ?? (Context.packageDirectory + "/../target/debug")
let ffiTarget: Target = .systemLibrary(name: "XiangyingFFIC", path: "Generated/XiangyingFFIC")
let ffiLinking: [LinkerSetting] = [
    .unsafeFlags(["-L\(ffiLibDir)", "-Xlinker", "-rpath", "-Xlinker", ffiLibDir]),
    .linkedLibrary("xiangying_ffi"),
]
#else
// On Apple platforms: the local XCFramework that build-xcframework.sh makes (development), or,
// on a release commit, the zip at releaseBinaryURL with its SHA-256 (set by
// `build-xcframework.sh --url-base URL --write-package`; nil here on main).
let ffiTarget: Target = releaseBinaryURL.map {
    Target.binaryTarget(name: "XiangyingFFIC", url: $0, checksum: releaseBinaryChecksum)
} ?? .binaryTarget(name: "XiangyingFFIC", path: "XiangyingFFIC.xcframework")
let ffiLinking: [LinkerSetting] = []
#endif

let package = Package(
    name: "Xiangying",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Xiangying", targets: ["Xiangying"]),
    ],
    targets: [
        ffiTarget,
        .target(
            name: "XiangyingFFI",
            dependencies: ["XiangyingFFIC"],
            path: "Sources/XiangyingFFI",
            linkerSettings: ffiLinking
        ),
        .target(
            name: "Xiangying",
            dependencies: ["XiangyingFFI"],
            path: "Sources/Xiangying",
            swiftSettings: [.enableUpcomingFeature("StrictConcurrency")]
        ),
        .testTarget(
            name: "XiangyingTests",
            dependencies: ["Xiangying"],
            path: "Tests/XiangyingTests"
        ),
    ]
)
