"""Checks the generated Swift bindings without a Swift compiler (none runs on Linux here).

1. Syntax: tree-sitter-swift parses ios/Sources/XiangyingFFI/XiangyingFFI.swift, the
   hand-written Swift layer, the sample, the XCTest tests (ios/Tests) and the package manifest
   (ios/Package.swift), and the trees must hold no ERROR or MISSING node. Two constructs
   that are valid Swift but unknown to tree-sitter-swift 0.7 are masked first (replaced by
   spaces of the same length, so positions stay right): the attribute
   `@_documentation(visibility: private)` and the empty-tuple closure `{ () }`.
2. API: every item the Rust crate exports (read from bindings/src: objects' methods and
   constructors, foreign traits' methods, records' fields, enums' and errors' variants) has its
   Swift declaration, under uniffi's Swift naming (lowerCamelCase members, UpperCamelCase types).

Exit status 0 when both hold; otherwise the problems are printed and the status is 1.
"""

import pathlib
import re
import sys

import tree_sitter_swift
from tree_sitter import Language, Parser

ROOT = pathlib.Path(__file__).resolve().parents[2]
GENERATED = ROOT / "ios/Sources/XiangyingFFI/XiangyingFFI.swift"
HAND_WRITTEN = (
    sorted((ROOT / "ios").glob("Sources/Xiangying/**/*.swift"))
    + sorted((ROOT / "ios").glob("Sample/**/*.swift"))
    + sorted((ROOT / "ios").glob("Tests/**/*.swift"))
    + [ROOT / "ios/Package.swift"]
)
RUST = sorted((ROOT / "bindings/src").glob("*.rs"))

MASKS = [rb"@_documentation\(visibility: private\)", rb"\{ \(\) \}"]

parser = Parser(Language(tree_sitter_swift.language()))


def mask(src: bytes) -> bytes:
    for pat in MASKS:
        src = re.sub(pat, lambda m: b" " * len(m.group(0)), src)
    return src


def syntax_errors(path: pathlib.Path):
    src = mask(path.read_bytes())
    tree = parser.parse(src)
    out = []

    def walk(n):
        if n.type == "ERROR" or n.is_missing:
            line = src.splitlines()[n.start_point[0]].decode(errors="replace").strip()
            out.append(f"{path.relative_to(ROOT)}:{n.start_point[0] + 1}: {n.type}: {line[:100]}")
            return
        for c in n.children:
            walk(c)

    walk(tree.root_node)
    return tree, out


def camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def upper_camel(name: str) -> str:
    c = camel(name)
    return c[:1].upper() + c[1:]


def swift_members(tree):
    """Type name -> set of member names (functions, initialisers, properties, enum cases)."""
    members = {}

    def name_of(n):
        f = n.child_by_field_name("name")
        return f.text.decode() if f is not None else None

    def walk(n, owner):
        t = n.type
        if t in ("class_declaration", "protocol_declaration"):
            nm = name_of(n)
            if nm is None:  # `extension X`: the name is a user_type child
                for c in n.children:
                    if c.type == "user_type":
                        nm = c.text.decode()
            owner = nm
            members.setdefault(owner, set())
        elif owner is not None:
            if t in ("function_declaration", "protocol_function_declaration"):
                nm = name_of(n)
                if nm:
                    members[owner].add(nm.strip("`"))
            elif t == "init_declaration":
                members[owner].add("init")
            elif t in ("property_declaration", "protocol_property_declaration"):
                for c in n.children:
                    if c.type == "pattern":
                        members[owner].add(c.text.decode().strip("`"))
                nm = n.child_by_field_name("name")
                if nm is not None:
                    members[owner].add(nm.text.decode().strip("`"))
            elif t == "enum_entry":
                for c in n.children:
                    if c.type == "simple_identifier":
                        members[owner].add(c.text.decode().strip("`"))
        for c in n.children:
            walk(c, owner)

    walk(tree.root_node, None)
    return members


def rust_exports():
    """(kind, type, member) triples the Swift must declare, read from the Rust sources."""
    want = []
    for path in RUST:
        src = path.read_text()
        # #[uniffi::export] impl X { ... pub fn name / pub async fn name }
        for m in re.finditer(r"#\[uniffi::export\]\s*impl\s+(\w+)\s*\{", src):
            ty, body = m.group(1), block(src, m.end() - 1)
            for f in re.finditer(r"(#\[uniffi::constructor\]\s*)?pub (?:async )?fn (\w+)", body):
                want.append(("method", ty, camel(f.group(2))))
        # #[uniffi::export(foreign)] pub trait X { fn name }
        for m in re.finditer(r"#\[uniffi::export\(foreign\)\]\s*pub trait (\w+)[^{]*\{", src):
            ty, body = m.group(1), block(src, m.end() - 1)
            for f in re.finditer(r"\bfn (\w+)", body):
                want.append(("method", ty, camel(f.group(1))))
        # records and enums
        for m in re.finditer(
            r"#\[derive\(([^)]*)\)\]\s*pub (struct|enum) (\w+)\s*\{", src
        ):
            derives, kind, ty = m.group(1), m.group(2), m.group(3)
            if not re.search(r"uniffi::(Record|Enum|Error)", derives):
                continue
            # uniffi keeps error variants' Rust names in Swift; other enums' cases are
            # lowerCamelCase.
            is_error = "uniffi::Error" in derives
            body = block(src, m.end() - 1)
            if kind == "struct":
                for f in re.finditer(r"^\s*pub (\w+):", body, re.M):
                    want.append(("field", ty, camel(f.group(1))))
            else:
                for v in re.finditer(r"^    (\w+)\s*(?:\{|,|\()", strip_nested(body), re.M):
                    name = v.group(1)
                    want.append(("variant", ty, name if is_error else name[:1].lower() + name[1:]))
            want.append(("type", ty, None))
    return want


def block(src: str, open_at: int) -> str:
    depth = 0
    for i in range(open_at, len(src)):
        if src[i] == "{":
            depth += 1
        elif src[i] == "}":
            depth -= 1
            if depth == 0:
                return src[open_at + 1 : i]
    raise ValueError("unbalanced braces")


def strip_nested(body: str) -> str:
    """Keeps only the top level of an enum body (variant names), dropping doc lines."""
    out, depth = [], 0
    for line in body.splitlines():
        s = line.strip()
        if depth == 0 and not s.startswith("//") and not s.startswith("#"):
            out.append(line)
        depth += line.count("{") - line.count("}")
    return "\n".join(out)


def main() -> int:
    problems = []
    tree, errs = syntax_errors(GENERATED)
    problems += errs
    for p in HAND_WRITTEN:
        problems += syntax_errors(p)[1]
    members = swift_members(tree)
    want = rust_exports()
    for kind, ty, member in want:
        sty = upper_camel(ty) if "_" in ty else ty
        if kind == "type":
            if sty not in members:
                problems.append(f"missing Swift type {sty}")
            continue
        have = members.get(sty, set())
        # Named constructors are static funcs; `new` is an init.
        if member == "new":
            member = "init"
        if member not in have:
            problems.append(f"missing Swift {kind} {sty}.{member}")
    counts = {}
    for kind, _, _ in want:
        counts[kind] = counts.get(kind, 0) + 1
    files = 1 + len(HAND_WRITTEN)
    if problems:
        print("\n".join(problems))
        print(f"swift check: {len(problems)} problems")
        return 1
    print(
        f"swift check: {files} files parse without errors; "
        + ", ".join(f"{n} {k}s" for k, n in sorted(counts.items()))
        + " of the Rust API found in the Swift bindings"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
