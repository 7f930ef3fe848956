#!/usr/bin/env bash
# Builds XiangyingFFIC.xcframework (the Rust library for iOS devices, the iOS simulator and
# macOS, with the generated C header and module map) beside Package.swift. Run on a Mac with
# Xcode and rustup; it cannot run on the project's Linux machines.
#
#   ios/build-xcframework.sh            release build
#   PROFILE=debug ios/build-xcframework.sh
#
# The Swift sources it goes with are generated and committed by scripts/bindings (from the
# host library, unstripped); run that first when the Rust API changed.
set -euo pipefail
cd "$(dirname "$0")/.."

profile="${PROFILE:-release}"
flag=(); [ "$profile" = release ] && flag=(--release)
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)

rustup target add "${targets[@]}"
for t in "${targets[@]}"; do
  # -p only: the uniffi-bindgen binary's `cli` feature must not reach the shipped library.
  IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=12.0 \
    cargo build -p xiangying-ffi --lib "${flag[@]}" --target "$t"
done

out=target/xcframework
rm -rf "$out" ios/XiangyingFFIC.xcframework
mkdir -p "$out/ios-sim" "$out/macos" "$out/headers"
cp ios/Generated/XiangyingFFIC/XiangyingFFIC.h ios/Generated/XiangyingFFIC/module.modulemap "$out/headers/"
lib=libxiangying_ffi.a
lipo -create "target/aarch64-apple-ios-sim/$profile/$lib" "target/x86_64-apple-ios/$profile/$lib" \
  -output "$out/ios-sim/$lib"
lipo -create "target/aarch64-apple-darwin/$profile/$lib" "target/x86_64-apple-darwin/$profile/$lib" \
  -output "$out/macos/$lib"
# Static libraries keep their symbols; the app's link step strips what it does not use.
xcodebuild -create-xcframework \
  -library "target/aarch64-apple-ios/$profile/$lib" -headers "$out/headers" \
  -library "$out/ios-sim/$lib" -headers "$out/headers" \
  -library "$out/macos/$lib" -headers "$out/headers" \
  -output ios/XiangyingFFIC.xcframework
echo "built ios/XiangyingFFIC.xcframework"
