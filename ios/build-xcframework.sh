#!/usr/bin/env bash
# Builds XiangyingFFIC.xcframework (the Rust library for iOS devices, the iOS simulator and
# macOS, with the generated C header and module map) beside Package.swift, then packs it for
# distribution: a versioned zip, its SHA-256 checksum (what SwiftPM checks), and the
# `.binaryTarget(url:checksum:)` line a distributed Package.swift uses. The version is the
# workspace's `[workspace.package] version` in Cargo.toml.
#
#   ios/build-xcframework.sh                     build, zip, checksum; print the binary target
#   ios/build-xcframework.sh --url-base URL      … with the zip's URL under URL (where the
#                                                release's files will be downloadable)
#   ios/build-xcframework.sh --url-base URL --write-package
#                                                … and set the release URL and checksum in
#                                                ios/Package.swift (for a release commit)
#   ios/build-xcframework.sh --package-from ZIP --url-base URL [--write-package]
#                                                no build: checksum an existing zip and
#                                                print (or write) the binary target
#   ios/build-xcframework.sh --dry-run [...]     print the version and every step, run nothing
#   ios/build-xcframework.sh --version           print the version only
#   PROFILE=debug ios/build-xcframework.sh       a debug build
#
# Outputs: ios/XiangyingFFIC.xcframework (what Package.swift uses by default, for development),
# target/xcframework/XiangyingFFIC-<version>.xcframework.zip and its .sha256 file.
#
# The build runs on a Mac with Xcode and rustup only; it cannot run on the project's Linux
# machines (see ios/README.md, "Packaging"). The Swift sources it goes with are generated and
# committed by scripts/bindings (from the host library, unstripped); run that first when the
# Rust API changed.
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0 write=0 version_only=0 url_base="" from_zip=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dry-run) dry=1 ;;
    --write-package) write=1 ;;
    --version) version_only=1 ;;
    --url-base) url_base="${2:?--url-base needs a URL}"; shift ;;
    --package-from) from_zip="${2:?--package-from needs a zip}"; shift ;;
    *) echo "usage: ios/build-xcframework.sh [--dry-run] [--version] [--url-base URL] [--write-package] [--package-from ZIP]" >&2
       exit 2 ;;
  esac
  shift
done

version="$(scripts/workspace-version)"
if [ "$version_only" = 1 ]; then
  echo "$version"
  exit 0
fi
if [ "$write" = 1 ] && [ -z "$url_base" ]; then
  echo "--write-package needs --url-base (where the zip will be downloadable)" >&2
  exit 2
fi

# run CMD...: prints the step; runs it unless --dry-run.
run() {
  printf '+ %s\n' "$*"
  if [ "$dry" = 0 ]; then "$@"; fi
}

profile="${PROFILE:-release}"
flag=(); [ "$profile" = release ] && flag=(--release)
targets=(aarch64-apple-ios aarch64-apple-ios-sim x86_64-apple-ios aarch64-apple-darwin x86_64-apple-darwin)
out=target/xcframework
name="XiangyingFFIC-$version.xcframework.zip"
zip="${from_zip:-$out/$name}"
echo "XiangyingFFIC $version ($profile)"

if [ -z "$from_zip" ]; then
  if [ "$dry" = 0 ] && [ "$(uname -s)" != Darwin ]; then
    echo "the XCFramework builds on macOS with Xcode only (--dry-run shows the steps)" >&2
    exit 1
  fi
  run rustup target add "${targets[@]}"
  for t in "${targets[@]}"; do
    # -p only: the uniffi-bindgen binary's `cli` feature must not reach the shipped library.
    run env IPHONEOS_DEPLOYMENT_TARGET=15.0 MACOSX_DEPLOYMENT_TARGET=12.0 \
      cargo build -p xiangying-ffi --lib "${flag[@]}" --target "$t"
  done

  run rm -rf "$out" ios/XiangyingFFIC.xcframework
  run mkdir -p "$out/ios-sim" "$out/macos" "$out/headers"
  run cp ios/Generated/XiangyingFFIC/XiangyingFFIC.h ios/Generated/XiangyingFFIC/module.modulemap "$out/headers/"
  lib=libxiangying_ffi.a
  run lipo -create "target/aarch64-apple-ios-sim/$profile/$lib" "target/x86_64-apple-ios/$profile/$lib" \
    -output "$out/ios-sim/$lib"
  run lipo -create "target/aarch64-apple-darwin/$profile/$lib" "target/x86_64-apple-darwin/$profile/$lib" \
    -output "$out/macos/$lib"
  # Static libraries keep their symbols; the app's link step strips what it does not use.
  run xcodebuild -create-xcframework \
    -library "target/aarch64-apple-ios/$profile/$lib" -headers "$out/headers" \
    -library "$out/ios-sim/$lib" -headers "$out/headers" \
    -library "$out/macos/$lib" -headers "$out/headers" \
    -output ios/XiangyingFFIC.xcframework
  [ "$dry" = 1 ] || echo "built ios/XiangyingFFIC.xcframework"

  # The zip SwiftPM downloads: the .xcframework folder at its top level (--keepParent),
  # symbolic links kept, no resource forks.
  run ditto -c -k --sequesterRsrc --keepParent ios/XiangyingFFIC.xcframework "$zip"
fi

# SwiftPM's checksum of a binary target is the SHA-256 of the zip
# (`swift package compute-checksum` prints the same).
checksum_of() {
  if command -v swift >/dev/null 2>&1; then
    swift package compute-checksum "$1"
  elif command -v shasum >/dev/null 2>&1; then
    shasum -a 256 "$1" | cut -d' ' -f1
  else
    sha256sum "$1" | cut -d' ' -f1
  fi
}

if [ "$dry" = 1 ]; then
  checksum="<sha256 of $zip>"
  echo "+ checksum_of $zip > $zip.sha256"
else
  [ -f "$zip" ] || { echo "no zip at $zip" >&2; exit 1; }
  checksum="$(checksum_of "$zip")"
  printf '%s  %s\n' "$checksum" "$(basename "$zip")" > "$zip.sha256"
  echo "zip: $zip"
  echo "checksum: $checksum (also in $zip.sha256)"
fi

url="${url_base%/}/$name"
[ -n "$url_base" ] || url="https://<where the release is downloadable>/$name"
echo "binary target for a distributed Package.swift:"
printf '    .binaryTarget(name: "XiangyingFFIC", url: "%s", checksum: "%s")\n' "$url" "$checksum"

# --write-package: sets the two release constants of ios/Package.swift; its Apple branch then
# takes the binary target from the URL instead of the local XCFramework. The Linux branch is
# untouched.
if [ "$write" = 1 ]; then
  manifest=ios/Package.swift
  if ! grep -q '^let releaseBinaryURL: String? = ' "$manifest" \
    || ! grep -q '^let releaseBinaryChecksum = ' "$manifest"; then
    echo "$manifest lacks the releaseBinaryURL / releaseBinaryChecksum lines" >&2
    exit 1
  fi
  if [ "$dry" = 1 ]; then
    echo "+ set in $manifest: releaseBinaryURL = \"$url\", releaseBinaryChecksum = \"$checksum\""
  else
    tmp="$(mktemp)"
    awk -v url="$url" -v sum="$checksum" '
      /^let releaseBinaryURL: String\? = / { print "let releaseBinaryURL: String? = \"" url "\""; next }
      /^let releaseBinaryChecksum = / { print "let releaseBinaryChecksum = \"" sum "\""; next }
      { print }
    ' "$manifest" > "$tmp"
    cat "$tmp" > "$manifest"
    rm -f "$tmp"
    echo "updated $manifest (commit it on the release's commit, not on main)"
  fi
fi
