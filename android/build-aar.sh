#!/usr/bin/env bash
# Builds the Android library as a versioned AAR and publishes it, with its POM, to a Maven
# repository folder:
#   1. libxiangying_ffi.so for arm64-v8a, armeabi-v7a and x86_64 with cargo-ndk (the NDK's
#      clang), into android/xiangying/src/main/jniLibs, stripped of debug information;
#   2. a check that the committed Kotlin bindings match the Rust API (scripts/bindings --check;
#      the bindings are generated from the unstripped host library, never from these);
#   3. Gradle: the Kotlin layer, the generated bindings, the Android-only wiring and the
#      libraries, as cn.xiangying:xiangying-android:<version>, where <version> is the
#      workspace's `[workspace.package] version` in Cargo.toml.
#
#   android/build-aar.sh              build and publish to android/xiangying/build/repo
#   android/build-aar.sh --dry-run    print the version and every step, run nothing
#   android/build-aar.sh --version    print the version only
#
# Needs: rustup with the three Android targets (`rustup target add aarch64-linux-android
# armv7-linux-androideabi x86_64-linux-android`), `cargo install cargo-ndk` (3.x), the Android
# NDK r26 or later (ANDROID_NDK_HOME, or ANDROID_HOME/ndk/<version>), the Android SDK
# (ANDROID_HOME, platform 35), a JDK 17 and Gradle 8.9 or later on PATH (`gradle`; there is no
# wrapper; GRADLE=/path/to/gradle overrides). If the TLS stack compiles C (aws-lc), cmake too.
# Environment: ANDROID_API (minimum API level for the NDK build, default 24), PROFILE (release
# or debug, default release), SKIP_BINDINGS_CHECK=1 to skip step 2.
#
# Written for a developer machine or CI with the NDK; not run on the project's machines, which
# have neither the NDK nor Gradle (see android/README.md, "Packaging").
set -euo pipefail
cd "$(dirname "$0")/.."

dry=0
case "${1:-}" in
  --dry-run) dry=1 ;;
  --version) ;;
  "") ;;
  *) echo "usage: android/build-aar.sh [--dry-run|--version]" >&2; exit 2 ;;
esac

version="$(scripts/workspace-version)"
if [ "${1:-}" = --version ]; then
  echo "$version"
  exit 0
fi

abis=(arm64-v8a armeabi-v7a x86_64)
targets=(aarch64-linux-android armv7-linux-androideabi x86_64-linux-android)
api="${ANDROID_API:-24}"
profile="${PROFILE:-release}"
jnilibs=android/xiangying/src/main/jniLibs
repo=android/xiangying/build/repo
gradle_cmd="${GRADLE:-gradle}"
profile_flag=(); [ "$profile" = release ] && profile_flag=(--release)

# run CMD...: prints the step; runs it unless --dry-run.
run() {
  printf '+ %s\n' "$*"
  if [ "$dry" = 0 ]; then "$@"; fi
}

# The NDK: ANDROID_NDK_HOME, else the newest under ANDROID_HOME/ndk.
ndk="${ANDROID_NDK_HOME:-}"
if [ -z "$ndk" ] && [ -d "${ANDROID_HOME:-/nonexistent}/ndk" ]; then
  ndk="$(find "$ANDROID_HOME/ndk" -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n 1)"
fi

echo "xiangying-android $version ($profile; ABIs ${abis[*]}; minimum API $api)"
if [ "$dry" = 0 ]; then
  missing=0
  if [ -z "$ndk" ] || [ ! -d "$ndk" ]; then
    echo "no NDK: set ANDROID_NDK_HOME (r26 or later)" >&2
    missing=1
  fi
  command -v cargo-ndk >/dev/null || { echo "no cargo-ndk: cargo install cargo-ndk" >&2; missing=1; }
  command -v "$gradle_cmd" >/dev/null || { echo "no Gradle: install 8.9+ or set GRADLE" >&2; missing=1; }
  [ -n "${ANDROID_HOME:-}" ] || { echo "no Android SDK: set ANDROID_HOME" >&2; missing=1; }
  installed="$(rustup target list --installed)"
  for t in "${targets[@]}"; do
    grep -qx "$t" <<<"$installed" || { echo "missing Rust target: rustup target add $t" >&2; missing=1; }
  done
  [ "$missing" = 0 ] || exit 1
  if [ -f "$ndk/source.properties" ]; then
    rev="$(sed -n 's/^Pkg.Revision *= *\([0-9]*\).*/\1/p' "$ndk/source.properties")"
    if [ -n "$rev" ] && [ "$rev" -lt 26 ]; then
      echo "NDK $rev found at $ndk; r26 or later is needed" >&2
      exit 1
    fi
  fi
  export ANDROID_NDK_HOME="$ndk"
fi

# 1. The Rust library per ABI. `-p xiangying-ffi --lib` only: the uniffi-bindgen binary's
#    `cli` feature must never reach the shipped library (docs/ARCHITECTURE.md, "Sharp edges").
ndk_args=()
for abi in "${abis[@]}"; do ndk_args+=(-t "$abi"); done
run rm -rf "$jnilibs"
run cargo ndk "${ndk_args[@]}" -P "$api" -o "$jnilibs" \
  build "${profile_flag[@]}" -p xiangying-ffi --lib

# The release profile keeps line tables (debug = 1, for the benchmarks' profiles): strip
# them from what ships. --strip-debug keeps the dynamic symbols JNA binds to.
strip_tool="${ndk:-\$ANDROID_NDK_HOME}/toolchains/llvm/prebuilt/*/bin/llvm-strip"
for abi in "${abis[@]}"; do
  so="$jnilibs/$abi/libxiangying_ffi.so"
  if [ "$dry" = 0 ]; then
    # shellcheck disable=SC2086 # the glob picks the NDK's host folder
    run $strip_tool --strip-debug "$so"
  else
    printf '+ %s --strip-debug %s\n' "$strip_tool" "$so"
  fi
done

# 2. The committed bindings must match the library's API (a host build, unstripped).
if [ "${SKIP_BINDINGS_CHECK:-0}" != 1 ]; then
  run scripts/bindings --check
fi

# 3. The AAR and its POM (coordinates and version in android/xiangying/build.gradle.kts, which
#    reads the same Cargo.toml; -PxiangyingVersion makes sure both agree).
run "$gradle_cmd" -p android --no-daemon -PxiangyingVersion="$version" \
  :xiangying:assembleRelease :xiangying:publishReleasePublicationToLocalRepository

aar="$repo/cn/xiangying/xiangying-android/$version/xiangying-android-$version.aar"
if [ "$dry" = 0 ]; then
  [ -f "$aar" ] || { echo "expected $aar, not found" >&2; exit 1; }
  for abi in "${abis[@]}"; do
    unzip -l "$aar" "jni/$abi/libxiangying_ffi.so" >/dev/null \
      || { echo "$aar lacks jni/$abi/libxiangying_ffi.so" >&2; exit 1; }
  done
fi
echo "AAR: $aar"
echo "Maven repository folder: $repo (cn.xiangying:xiangying-android:$version)"
