#!/usr/bin/env python3
"""Checks that the Kotlin and the Swift layers expose the same actions and queries.

The hand-written layers (android/xiangying/src/main/kotlin/cn/xiangying/*.kt and
ios/Sources/Xiangying/*.swift) wrap the generated bindings for app developers. This check
reads the public members of their two main types, `Xiangying` (one device's store) and
`SyncEngine`, including extensions in any file of the layer, and the free functions, and:

1. every member or free function of one layer has its counterpart in the other, under the
   naming rules below;
2. every method the Rust crate exports on `XiangyingDevice` and `XiangyingSyncEngine`
   (bindings/src/*.rs) is wrapped by both layers, or is listed in NOT_WRAPPED with the reason;
3. every JUnit `@Test` of the Kotlin test classes (android/xiangying/src/test/kotlin/cn/xiangying/,
   but for the files in TEST_FILES_EXCLUDED) has its XCTest mirror in
   ios/Tests/XiangyingTests/<Name>Tests.swift for Kotlin `<Name>Test`, named by the rule in
   `swift_test_name` (the Kotlin test `a forbidden action is NotAllowed, and nothing is
   written` is `testAForbiddenActionIsNotAllowedAndNothingIsWritten`), or is listed in
   NOT_MIRRORED with the reason. The Swift files may hold more tests (Swift-only ones).

Naming rules: Swift names are the Kotlin ones, except a Kotlin `xxxFlow` (a Flow) is a Swift
`xxxUpdates` (an AsyncStream), and the few platform idioms in RENAMES and ONE_SIDED.
Exit status 0 when both hold; otherwise the differences are printed and the status is 1.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
KOTLIN = sorted((ROOT / "android/xiangying/src/main/kotlin/cn/xiangying").glob("*.kt"))
SWIFT = sorted((ROOT / "ios/Sources/Xiangying").glob("*.swift"))
RUST = sorted((ROOT / "bindings/src").glob("*.rs"))
KOTLIN_TESTS = ROOT / "android/xiangying/src/test/kotlin/cn/xiangying"
SWIFT_TESTS = ROOT / "ios/Tests/XiangyingTests"
TYPES = ("Xiangying", "SyncEngine")

# Kotlin name -> Swift name, per type, where the platforms' idioms differ.
RENAMES = {
    # `case` is a Swift keyword.
    ("Xiangying", "case"): "detail",
    # A Kotlin StateFlow property; Swift has a `status` snapshot and a `statusUpdates()` stream.
    ("SyncEngine", "status"): "status",
    # Kotlin's AutoCloseable `close()` stops the engine; Swift says `stop()`.
    ("SyncEngine", "close"): "stop",
}

# Members that exist on one side only, on purpose: (layer, type, name) -> why.
ONE_SIDED = {
    ("kotlin", "Xiangying", "collectors"): "the SharedFlow's subscriber count; Swift streams have none",
    ("swift", "SyncEngine", "statusUpdates"): "Kotlin's `status` StateFlow is both the value and the stream",
}

# Exported Rust methods the layers do not wrap one to one: name -> why.
NOT_WRAPPED = {
    "open": "the layers' `open` wraps it (and passes the app's version)",
    "set_app_version": "given to the layers' `open`",
    "add_case_listener": "the layers' change streams (Kotlin `changes`, Swift `changes()`) use it",
    "remove_case_listener": "the layers' close/deinit use it",
    "sync_now": "wrapped as `syncNow` with a closure and the caller's cancellation",
    "stop": "Kotlin `SyncEngine.close()`, Swift `SyncEngine.stop()`",
}


# Kotlin test files that hold no tests to mirror: file name -> why.
TEST_FILES_EXCLUDED = {
    "BoundaryBench.kt": "a benchmark of the JVM boundary (JNA), off by default; it times, it asserts no behaviour",
    "SyncServer.kt": "the fixture that runs a real server; Swift's is TestServer in Fixtures.swift",
    "Fixtures.kt": "fixtures; Swift's are in Fixtures.swift",
}

# Kotlin tests without a Swift mirror, on purpose: (Kotlin class, test name) -> why. Keep it
# short: a test belongs here only when Swift cannot express the scenario at all.
NOT_MIRRORED: dict = {}


def camel(snake: str) -> str:
    head, *rest = snake.split("_")
    return head + "".join(w[:1].upper() + w[1:] for w in rest)


def kotlin_members():
    """(type or None for free functions) -> set of public names."""
    out = {t: set() for t in TYPES}
    out[None] = set()
    member = re.compile(r"^(\s*)((?:(?:suspend|override|private|internal|public|inline|operator)\s+)*)"
                        r"(fun|val|var)\s+(?:<[^>]*>\s*)?(?:(\w+)\.)?(\w+)")
    for path in KOTLIN:
        if path.parent.name == "ffi":
            continue
        current = None  # the top-level class we are in
        companion = False
        for line in path.read_text().splitlines():
            top = re.match(r"^(?:data |enum |abstract |sealed )?class (\w+)", line)
            if top:
                current = top.group(1)
                continue
            if line.startswith("}"):
                current, companion = None, False
                continue
            if current in TYPES and re.match(r"^    companion object", line):
                companion = True
                continue
            if companion and line.startswith("    }"):
                companion = False
                continue
            m = member.match(line)
            if not m:
                continue
            indent, mods, _, receiver, name = m.groups()
            if "private" in mods or "internal" in mods:
                continue
            if current is None and indent == "":
                if receiver in TYPES:
                    out[receiver].add(name)
                elif receiver is None:
                    out[None].add(name)
            elif current in TYPES and (indent == "    " or (companion and indent == " " * 8)):
                # Overrides are the platform's interfaces (Xiangying's AutoCloseable `close()`
                # frees the native object; Swift does it in deinit), except the engine's
                # `close()`, which is its `stop`.
                if "override" in mods and not (current == "SyncEngine" and name == "close"):
                    continue
                out[current].add(name)
    return out


def swift_members():
    out = {t: set() for t in TYPES}
    out[None] = set()
    member = re.compile(r"^(\s*)public\s+(?:static\s+|nonisolated\s+)*(func|var|let)\s+`?(\w+)")
    for path in SWIFT:
        current = None
        for line in path.read_text().splitlines():
            top = re.match(r"^(?:public\s+)?(?:final\s+)?(?:class|extension|actor|struct|enum)\s+(\w+)", line)
            if top:
                current = top.group(1)
                continue
            if line.startswith("}"):
                current = None
                continue
            m = member.match(line)
            if not m:
                continue
            indent, _, name = m.groups()
            if current is None and indent == "":
                out[None].add(name)
            elif current in TYPES and indent == "    ":
                out[current].add(name)
    return out


def rust_exports():
    """Exported methods of the two objects, by object."""
    out = {"XiangyingDevice": set(), "XiangyingSyncEngine": set()}
    for path in RUST:
        if path.name == "tests.rs":
            continue
        lines = path.read_text().splitlines()
        exported, current = False, None
        for line in lines:
            if line.startswith("#[uniffi::export"):
                exported = True
                continue
            m = re.match(r"^impl (\w+) \{", line)
            if m:
                current = m.group(1) if exported and m.group(1) in out else None
                exported = False
                continue
            if line.startswith("}"):
                current = None
                continue
            f = re.match(r"^    pub (?:async )?fn (\w+)", line)
            if f and current:
                out[current].add(f.group(1))
    return out


def swift_name(kind, kotlin_name):
    if (kind, kotlin_name) in RENAMES:
        return RENAMES[(kind, kotlin_name)]
    if kotlin_name.endswith("Flow"):
        return kotlin_name[: -len("Flow")] + "Updates"
    return kotlin_name


def swift_test_name(kotlin_name: str) -> str:
    """The XCTest name of a Kotlin test: "test" and every word of the Kotlin name (split at
    white space) with everything but ASCII letters and digits dropped (punctuation,
    apostrophes, CJK characters) and its first letter upper-cased: `the chief's set-up, again`
    is `testTheChiefsSetupAgain`."""
    out = "test"
    for word in kotlin_name.split():
        kept = re.sub(r"[^A-Za-z0-9]", "", word)
        out += kept[:1].upper() + kept[1:]
    return out


def kotlin_tests():
    """Kotlin test class -> the names of its @Test functions, in file order."""
    test = re.compile(r"@Test\b(?:\s*@\w+(?:\([^)]*\))?)*\s+fun\s+(?:`([^`]+)`|(\w+))\s*\(")
    out = {}
    for path in sorted(KOTLIN_TESTS.glob("*.kt")):
        if path.name in TEST_FILES_EXCLUDED:
            continue
        src = path.read_text()
        m = re.search(r"^class (\w+)", src, re.M)
        name = m.group(1) if m else path.stem
        out[name] = [a or b for a, b in test.findall(src)]
    return out


def swift_tests():
    """Swift test file name -> the names of its XCTest methods."""
    method = re.compile(r"^\s*func\s+(test\w*)\s*\(", re.M)
    return {path.name: set(method.findall(path.read_text())) for path in sorted(SWIFT_TESTS.glob("*.swift"))}


def mirror_problems():
    """What is missing from the Swift tests; and the count of Kotlin tests and of mirrors."""
    problems, mirrored, total = [], 0, 0
    kotlin, swift = kotlin_tests(), swift_tests()
    for cls, names in kotlin.items():
        if not cls.endswith("Test"):
            problems.append(f"{cls}: a Kotlin test class whose name does not end in Test; rename it or exclude its file")
            continue
        file = f"{cls}s.swift"
        have = swift.get(file, set())
        for name in names:
            total += 1
            if (cls, name) in NOT_MIRRORED:
                continue
            want = swift_test_name(name)
            if want in have:
                mirrored += 1
                continue
            elsewhere = sorted(f for f, tests in swift.items() if want in tests)
            where = f" (it is in {', '.join(elsewhere)}: move it)" if elsewhere else ""
            problems.append(f"{cls}.`{name}` has no Swift mirror `{want}` in ios/Tests/XiangyingTests/{file}{where}")
    for (cls, name) in sorted(NOT_MIRRORED):
        if name not in kotlin.get(cls, []):
            problems.append(f"NOT_MIRRORED lists {cls}.`{name}`, which is no Kotlin test (any more)")
        elif swift_test_name(name) in swift.get(f"{cls}s.swift", set()):
            problems.append(f"NOT_MIRRORED lists {cls}.`{name}`, which has its Swift mirror: drop the entry")
    if not kotlin or not swift:
        problems.append("no Kotlin or no Swift tests read: the layout of the tests changed; fix this check")
    return problems, mirrored, total


def main() -> int:
    k, s = kotlin_members(), swift_members()
    problems = []
    for kind in list(TYPES) + [None]:
        label = kind or "(free functions)"
        expected_swift = {swift_name(kind, n) for n in k[kind] if ("kotlin", kind, n) not in ONE_SIDED}
        have_swift = {n for n in s[kind] if ("swift", kind, n) not in ONE_SIDED}
        for n in sorted(expected_swift - have_swift):
            problems.append(f"{label}: Kotlin has it, Swift lacks `{n}`")
        for n in sorted(have_swift - expected_swift):
            problems.append(f"{label}: Swift has `{n}`, Kotlin lacks its counterpart")
    rust = rust_exports()
    for obj, kind in (("XiangyingDevice", "Xiangying"), ("XiangyingSyncEngine", "SyncEngine")):
        for fn in sorted(rust[obj]):
            if fn in NOT_WRAPPED:
                continue
            name = camel(fn)
            # Free functions over the object (e.g. Kotlin `fun Xiangying.x`) count as wrapping.
            if name not in k[kind] and name not in k[None]:
                problems.append(f"{obj}.{fn} is exported but the Kotlin layer does not wrap it")
            if swift_name(kind, name) not in s[kind] and name not in s[None]:
                problems.append(f"{obj}.{fn} is exported but the Swift layer does not wrap it")
    if not rust["XiangyingDevice"] or not k["Xiangying"] or not s["Xiangying"]:
        problems.append("nothing read: the layout of the sources changed; fix this check")
    tests, mirrored, kotlin_total = mirror_problems()
    problems += tests
    for p in problems:
        print(p)
    total = sum(len(v) for v in k.values())
    print(f"layer parity: {total} Kotlin members and free functions, "
          f"{sum(len(v) for v in s.values())} Swift; {mirrored} of {kotlin_total} Kotlin tests mirrored in Swift, "
          f"{len(NOT_MIRRORED)} not on purpose; {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
