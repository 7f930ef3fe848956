// swift-tools-version:5.9
// The Xiangying Swift package: the generated bindings (XiangyingFFI) over the Rust library
// packed as an XCFramework (XiangyingFFIC, built by build-xcframework.sh), and a small
// async/await layer (Xiangying). Not built on the project's Linux machines: see README.md.
import PackageDescription

let package = Package(
    name: "Xiangying",
    platforms: [.iOS(.v15), .macOS(.v12)],
    products: [
        .library(name: "Xiangying", targets: ["Xiangying"]),
    ],
    targets: [
        .binaryTarget(name: "XiangyingFFIC", path: "XiangyingFFIC.xcframework"),
        .target(name: "XiangyingFFI", dependencies: ["XiangyingFFIC"], path: "Sources/XiangyingFFI"),
        .target(name: "Xiangying", dependencies: ["XiangyingFFI"], path: "Sources/Xiangying"),
    ]
)
