//! No module cycles in the workspace's crates, and the imports of the model crate and of the
//! device shell point down their layers (issue 13; the rule is `docs/decisions/0022-module-layers.md`).
//!
//! The test parses every `.rs` file of each crate with `syn`, starting at the crate root and
//! following `mod x;` items (and their `#[path]` attributes), and builds the graph of imports
//! between the crate's modules: every path in a `use` item and every path written in code
//! (`crate::sync::wire::encode(..)`, `super::rules::may_take(..)`, a type `fold::CaseState`)
//! that resolves to a module of the same crate. It fails naming each cycle it finds, for
//! example `xiangying-core: case::fold -> case::rules -> case::fold`.
//!
//! The rules of the graph:
//! - **Nodes** are the modules declared in their own file. A `#[cfg(test)]` module and an
//!   inline `mod x { .. }` are part of the module that declares them (tests may reach
//!   anywhere their module may).
//! - **Edges** go from the module where a path is written to the module that defines what the
//!   path names. Paths are resolved from `crate::`, `super::`, `self::`, a child module's name,
//!   or a name brought in by a `use` of the same module; a path that lands on a re-export
//!   (`pub use fold::CaseState;` in `case/mod.rs`) is followed to the module the re-export
//!   names, so importing through a parent's re-export counts as importing the defining module.
//!   Paths into other crates are not edges (cargo already forbids crate cycles).
//! - **Parent and child**: an edge between a module and one of its own ancestors or
//!   descendants is not counted. A parent declares and re-exports its children, and a child
//!   using the types its parent defines through `super::` is the usual Rust pattern; the rule
//!   is about siblings and cousins, which must import one way only.
//!
//! A second check keeps the top-level modules of `xiangying-model` ([`MODEL_LAYERS`]) and of
//! `xiangying-core` ([`CORE_LAYERS`]) in their layers: each layer imports only the layers below
//! it. (That the model never imports the device shell, cargo itself now guarantees: the shell
//! is another crate above it.)
//!
//! Not seen: paths inside macro invocations (`format!`, `matches!`) and glob imports as a
//! source of names (a glob still counts as an edge to the module it names).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use syn::visit::Visit;

mod common;
use common::{is_cfg_test, path_attr};

/// A module path inside one crate (`["case", "fold"]`; the crate root is `[]`).
type ModPath = Vec<String>;

/// One `use` binding: `use <target> as <name>` (a glob binds no name).
struct UseBinding {
    name: Option<String>,
    target: Vec<String>,
    public: bool,
}

/// What one module (file or inline) says, before resolution.
#[derive(Default)]
struct ModInfo {
    /// The node this module belongs to (itself, or the file module holding it).
    node: ModPath,
    children: BTreeSet<String>,
    uses: Vec<UseBinding>,
    /// Paths written in code, with their first segment unresolved.
    paths: Vec<Vec<String>>,
}

/// All modules of one crate.
#[derive(Default)]
struct CrateGraph {
    mods: BTreeMap<ModPath, ModInfo>,
}

fn flatten_use(
    tree: &syn::UseTree,
    prefix: &mut Vec<String>,
    public: bool,
    out: &mut Vec<UseBinding>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(p.ident.to_string());
            flatten_use(&p.tree, prefix, public, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = n.ident.to_string();
            let mut target = prefix.clone();
            if name == "self" {
                out.push(UseBinding {
                    name: prefix.last().cloned(),
                    target,
                    public,
                });
            } else {
                target.push(name.clone());
                out.push(UseBinding {
                    name: Some(name),
                    target,
                    public,
                });
            }
        }
        syn::UseTree::Rename(r) => {
            let mut target = prefix.clone();
            if r.ident != "self" {
                target.push(r.ident.to_string());
            }
            out.push(UseBinding {
                name: Some(r.rename.to_string()),
                target,
                public,
            });
        }
        syn::UseTree::Glob(_) => out.push(UseBinding {
            name: None,
            target: prefix.clone(),
            public,
        }),
        syn::UseTree::Group(g) => {
            for t in &g.items {
                flatten_use(t, prefix, public, out);
            }
        }
    }
}

/// Reads a file of the crate being loaded (the real file system, or a made-up one in tests).
type Reader<'a> = &'a dyn Fn(&Path) -> Option<String>;

/// Walks the items of one module, recording its uses, paths and child modules.
struct Walker<'a> {
    graph: &'a mut CrateGraph,
    read: Reader<'a>,
    /// The module whose items are being walked.
    module: ModPath,
    /// The directory where this module's `mod x;` children live.
    child_dir: PathBuf,
    /// The directory of the file being walked (for `#[path]`).
    file_dir: PathBuf,
    errors: &'a mut Vec<String>,
}

impl Walker<'_> {
    fn info(&mut self) -> &mut ModInfo {
        self.graph.mods.entry(self.module.clone()).or_default()
    }
}

impl<'ast> Visit<'ast> for Walker<'_> {
    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        let public = !matches!(u.vis, syn::Visibility::Inherited);
        let mut out = Vec::new();
        flatten_use(&u.tree, &mut Vec::new(), public, &mut out);
        self.info().uses.extend(out);
    }

    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segs: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        self.info().paths.push(segs);
        syn::visit::visit_path(self, p);
    }

    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        let name = m.ident.to_string();
        self.info().children.insert(name.clone());
        let mut child = self.module.clone();
        child.push(name.clone());
        let parent_node = self.graph.mods[&self.module].node.clone();
        let node = if is_cfg_test(&m.attrs) || m.content.is_some() {
            parent_node
        } else {
            child.clone()
        };
        self.graph.mods.entry(child.clone()).or_default().node = node;
        match &m.content {
            Some((_, items)) => {
                let mut inner = Walker {
                    graph: self.graph,
                    read: self.read,
                    module: child,
                    child_dir: self.child_dir.join(&name),
                    file_dir: self.file_dir.clone(),
                    errors: self.errors,
                };
                for item in items {
                    inner.visit_item(item);
                }
            }
            None => {
                let candidates = match path_attr(&m.attrs) {
                    Some(p) => vec![self.file_dir.join(p)],
                    None => vec![
                        self.child_dir.join(format!("{name}.rs")),
                        self.child_dir.join(&name).join("mod.rs"),
                    ],
                };
                match candidates
                    .iter()
                    .find_map(|c| (self.read)(c).map(|s| (c, s)))
                {
                    Some((file, src)) => {
                        let is_mod_rs = file.file_name().is_some_and(|f| f == "mod.rs");
                        let file_dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
                        let child_dir = if is_mod_rs {
                            file_dir.clone()
                        } else {
                            file_dir.join(&name)
                        };
                        walk_file(
                            self.graph,
                            self.read,
                            child,
                            file,
                            &src,
                            child_dir,
                            file_dir,
                            self.errors,
                        );
                    }
                    None => self
                        .errors
                        .push(format!("no file for `mod {name};` (tried {candidates:?})")),
                }
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn walk_file(
    graph: &mut CrateGraph,
    read: Reader<'_>,
    module: ModPath,
    file: &Path,
    src: &str,
    child_dir: PathBuf,
    file_dir: PathBuf,
    errors: &mut Vec<String>,
) {
    let parsed = match syn::parse_file(src) {
        Ok(f) => f,
        Err(e) => {
            errors.push(format!("{}: {e}", file.display()));
            return;
        }
    };
    let mut w = Walker {
        graph,
        read,
        module,
        child_dir,
        file_dir,
        errors,
    };
    w.visit_file(&parsed);
}

/// Loads a crate from its root file (`src/lib.rs` or `src/main.rs`).
fn load_crate(root: &Path, read: Reader<'_>) -> Result<CrateGraph, Vec<String>> {
    let mut graph = CrateGraph::default();
    let mut errors = Vec::new();
    let src = read(root).ok_or_else(|| vec![format!("cannot read {}", root.display())])?;
    graph.mods.insert(Vec::new(), ModInfo::default());
    let dir = root.parent().map(Path::to_path_buf).unwrap_or_default();
    walk_file(
        &mut graph,
        read,
        Vec::new(),
        root,
        &src,
        dir.clone(),
        dir,
        &mut errors,
    );
    if errors.is_empty() {
        Ok(graph)
    } else {
        Err(errors)
    }
}

impl CrateGraph {
    /// Turns a path written in `module` into an absolute path in the crate, or `None` when it
    /// names something outside the crate (another crate, a local item, a generic).
    fn absolute(&self, module: &ModPath, segs: &[String], depth: usize) -> Option<Vec<String>> {
        let first = segs.first()?;
        if depth > 16 {
            return None;
        }
        let mut base: Vec<String> = match first.as_str() {
            "crate" => Vec::new(),
            "self" => module.clone(),
            "super" => {
                let mut b = module.clone();
                let mut rest = segs;
                while rest.first().is_some_and(|s| s == "super") {
                    b.pop();
                    rest = &rest[1..];
                }
                b.extend(rest.iter().cloned());
                return Some(b);
            }
            name => {
                let info = self.mods.get(module)?;
                if info.children.contains(name) {
                    let mut b = module.clone();
                    b.push(name.to_string());
                    b
                } else {
                    let binding = info.uses.iter().find(|u| u.name.as_deref() == Some(name))?;
                    self.absolute(module, &binding.target, depth + 1)?
                }
            }
        };
        base.extend(segs[1..].iter().cloned());
        Some(base)
    }

    /// The node that defines what an absolute path names, following re-exports.
    fn defining_node(&self, abs: &[String], depth: usize) -> Option<ModPath> {
        let split = (0..=abs.len())
            .rev()
            .find(|&n| self.mods.contains_key(&abs[..n]))?;
        let module = abs[..split].to_vec();
        let rest = &abs[split..];
        if let (Some(name), true) = (rest.first(), depth < 16) {
            let info = &self.mods[&module];
            if let Some(b) = info
                .uses
                .iter()
                .find(|u| u.public && u.name.as_deref() == Some(name.as_str()))
                && let Some(mut target) = self.absolute(&module, &b.target, 0)
            {
                target.extend(rest[1..].iter().cloned());
                return self.defining_node(&target, depth + 1);
            }
        }
        Some(self.mods[&module].node.clone())
    }

    /// The import edges between nodes (see the module doc for which edges count).
    fn edges(&self) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
        let mut edges: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
        for (module, info) in &self.mods {
            let from = &info.node;
            edges.entry(from.clone()).or_default();
            let written = info.uses.iter().map(|u| &u.target).chain(info.paths.iter());
            for segs in written {
                let Some(abs) = self.absolute(module, segs, 0) else {
                    continue;
                };
                let Some(to) = self.defining_node(&abs, 0) else {
                    continue;
                };
                if to.starts_with(from) || from.starts_with(&to) {
                    continue;
                }
                edges.entry(from.clone()).or_default().insert(to);
            }
        }
        edges
    }
}

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_string()
    } else {
        m.join("::")
    }
}

/// One cycle per strongly connected component of more than one node, written
/// `a -> b -> a` (followed by the whole group when it holds more modules than that cycle),
/// in a stable order.
fn cycles(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Vec<String> {
    // Tarjan's algorithm (recursive; module graphs are shallow).
    struct State<'a> {
        edges: &'a BTreeMap<ModPath, BTreeSet<ModPath>>,
        index: HashMap<&'a ModPath, usize>,
        low: HashMap<&'a ModPath, usize>,
        stack: Vec<&'a ModPath>,
        on_stack: BTreeSet<&'a ModPath>,
        sccs: Vec<Vec<&'a ModPath>>,
    }
    fn strong<'a>(s: &mut State<'a>, v: &'a ModPath) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        for w in s.edges.get(v).into_iter().flatten() {
            if !s.index.contains_key(w) {
                strong(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut scc = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                scc.push(w);
                if w == v {
                    break;
                }
            }
            if scc.len() > 1 {
                s.sccs.push(scc);
            }
        }
    }
    let mut s = State {
        edges,
        index: HashMap::new(),
        low: HashMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        sccs: Vec::new(),
    };
    for v in edges.keys() {
        if !s.index.contains_key(v) {
            strong(&mut s, v);
        }
    }
    let mut out = Vec::new();
    for scc in s.sccs {
        let members: BTreeSet<&ModPath> = scc.into_iter().collect();
        let Some(&start) = members.iter().next() else {
            continue;
        };
        // Shortest way from `start` back to itself inside the component (breadth first).
        let mut prev: HashMap<&ModPath, &ModPath> = HashMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        let mut closing = None;
        'search: while let Some(v) = queue.pop_front() {
            for w in edges.get(v).into_iter().flatten() {
                if !members.contains(w) {
                    continue;
                }
                if w == start {
                    closing = Some(v);
                    break 'search;
                }
                if !prev.contains_key(w) {
                    prev.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        let mut chain = vec![start];
        let mut at = closing.unwrap_or(start);
        while at != start {
            chain.push(at);
            at = prev[at];
        }
        chain[1..].reverse();
        chain.push(start);
        let mut line = chain
            .iter()
            .map(|m| show(m))
            .collect::<Vec<_>>()
            .join(" -> ");
        if members.len() + 1 > chain.len() {
            let all: Vec<String> = members.iter().map(|m| show(m)).collect();
            line.push_str(&format!(" (one cycle of the group {})", all.join(", ")));
        }
        out.push(line);
    }
    out.sort();
    out
}

/// The cycles of one crate, or the files that could not be read or parsed.
fn crate_cycles(root: &Path, read: Reader<'_>) -> Result<Vec<String>, Vec<String>> {
    let graph = load_crate(root, read)?;
    Ok(cycles(&graph.edges()))
}

#[test]
fn no_module_cycles_in_the_workspace() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let roots = [
        ("xiangying-model", "model/src/lib.rs"),
        ("xiangying-core", "core/src/lib.rs"),
        ("xiangying-server", "sync-server/src/lib.rs"),
        ("xiangying-server (bin)", "sync-server/src/main.rs"),
        ("xiangying-ffi", "bindings/src/lib.rs"),
        ("xiangying-demo", "demo/src/lib.rs"),
    ];
    let read = |p: &Path| std::fs::read_to_string(p).ok();
    let mut found = Vec::new();
    for (name, root) in roots {
        match crate_cycles(&workspace.join(root), &read) {
            Ok(cycles) => found.extend(cycles.into_iter().map(|c| format!("{name}: {c}"))),
            Err(errors) => panic!("{name}: cannot read the crate: {errors:#?}"),
        }
    }
    assert!(
        found.is_empty(),
        "module cycles (see docs/decisions/0022-module-layers.md):\n{}",
        found.join("\n")
    );
}

/// The layers of `xiangying-model`, lowest first: a top-level module may import only modules
/// of lower layers (and its own).
const MODEL_LAYERS: &[&[&str]] = &[
    &["codec", "document", "ids", "org"],
    &["case"],
    &["patrol"],
    &["report"],
    &["sync"],
];

/// Modules of test support only (compiled for tests and the `test-hooks` feature): tests may
/// reach them from any layer, so edges into and out of them are not checked.
const TEST_SUPPORT: &[&str] = &["testkit"];

/// The layers of `xiangying-core`, the device shell over the model, lowest first.
const CORE_LAYERS: &[&[&str]] = &[
    &["logs", "photo"],
    &["error"],
    &["sync"],
    &["store"],
    &["device"],
];

/// The import edges between top-level modules that point up (or sideways within a layer)
/// through `layers`, and the top-level modules the table does not place.
fn layer_violations(graph: &CrateGraph, layers: &[&[&str]]) -> Vec<String> {
    let layer_of = |m: &ModPath| {
        let top = m.first()?;
        layers.iter().position(|l| l.contains(&top.as_str()))
    };
    let mut out = BTreeSet::new();
    for (from, tos) in graph.edges() {
        for to in tos {
            if from.first() == to.first() || from.is_empty() || to.is_empty() {
                continue;
            }
            if TEST_SUPPORT.contains(&to[0].as_str()) || TEST_SUPPORT.contains(&from[0].as_str()) {
                continue;
            }
            match (layer_of(&from), layer_of(&to)) {
                (Some(a), Some(b)) if a > b => {}
                (Some(a), Some(b)) => {
                    out.insert(format!(
                        "{} -> {} (layer {a} imports layer {b})",
                        show(&from),
                        show(&to)
                    ));
                }
                (None, _) => {
                    out.insert(format!("{} is in no layer", from[0]));
                }
                (_, None) => {
                    out.insert(format!("{} is in no layer", to[0]));
                }
            }
        }
    }
    out.into_iter().collect()
}

/// The layer violations of the crate at `root` (relative to the workspace).
fn violations_of(root: &str, layers: &[&[&str]]) -> Vec<String> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(root);
    let read = |p: &Path| std::fs::read_to_string(p).ok();
    match load_crate(&root, &read) {
        Ok(g) => layer_violations(&g, layers),
        Err(errors) => panic!("cannot read {}: {errors:#?}", root.display()),
    }
}

#[test]
fn model_and_core_imports_point_down_their_layers() {
    let mut wrong = violations_of("model/src/lib.rs", MODEL_LAYERS);
    wrong.extend(
        violations_of("core/src/lib.rs", CORE_LAYERS)
            .into_iter()
            .map(|v| format!("xiangying-core: {v}")),
    );
    assert!(
        wrong.is_empty(),
        "imports against the layers of docs/decisions/0022-module-layers.md:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn an_import_up_a_layer_is_named() {
    let map: HashMap<PathBuf, String> = [
        ("src/lib.rs", "mod case;\nmod sync;\n"),
        ("src/case.rs", "fn f() { crate::sync::wire(); }\n"),
        ("src/sync.rs", "pub fn wire() {}\n"),
    ]
    .iter()
    .map(|(p, s)| (PathBuf::from(p), (*s).to_string()))
    .collect();
    let read = move |p: &Path| map.get(p).cloned();
    let graph = load_crate(Path::new("src/lib.rs"), &read).unwrap();
    assert_eq!(
        layer_violations(&graph, &[&["case"], &["sync"]]),
        vec!["case -> sync (layer 0 imports layer 1)".to_string()]
    );
    assert!(layer_violations(&graph, &[&["sync"], &["case"]]).is_empty());
}

/// A made-up crate in memory: `files` maps a path under `src/` to its text.
fn fake_crate(files: &[(&str, &str)]) -> Result<Vec<String>, Vec<String>> {
    let map: HashMap<PathBuf, String> = files
        .iter()
        .map(|(p, s)| (Path::new("src").join(p), (*s).to_string()))
        .collect();
    let read = move |p: &Path| map.get(p).cloned();
    crate_cycles(Path::new("src/lib.rs"), &read)
}

#[test]
fn a_two_module_cycle_is_found_and_named() {
    let found = fake_crate(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "use crate::b::Thing;\npub struct Other;\n"),
        (
            "b.rs",
            "pub struct Thing;\nfn f() { let _ = crate::a::Other; }\n",
        ),
    ])
    .unwrap();
    assert_eq!(found, vec!["a -> b -> a".to_string()]);
}

#[test]
fn a_cycle_through_siblings_super_paths_and_a_parent_reexport_is_found() {
    let found = fake_crate(&[
        ("lib.rs", "pub mod case;\n"),
        (
            "case/mod.rs",
            "mod fold;\nmod rules;\npub use fold::State;\npub use rules::check;\n",
        ),
        (
            "case/fold.rs",
            "pub struct State;\nfn f() { super::rules::check(); }\n",
        ),
        // `super::State` is the parent's re-export of `fold::State`: an edge to `case::fold`.
        ("case/rules.rs", "use super::State;\npub fn check() {}\n"),
    ])
    .unwrap();
    assert_eq!(
        found,
        vec!["case::fold -> case::rules -> case::fold".to_string()]
    );
}

#[test]
fn parents_children_tests_and_one_way_imports_are_not_cycles() {
    let found = fake_crate(&[
        ("lib.rs", "pub mod org;\npub mod case;\n"),
        // A parent defines a type its child uses through `super::`, and re-exports the child.
        (
            "org/mod.rs",
            "mod load;\npub use load::load;\npub struct Roster;\n",
        ),
        (
            "org/load.rs",
            "use super::Roster;\npub fn load() -> Roster { Roster }\n",
        ),
        // `case` uses `org` one way; its test module reaches `case` itself and `org`.
        (
            "case/mod.rs",
            "use crate::org::Roster;\n#[cfg(test)]\n#[path = \"case_tests.rs\"]\nmod tests;\n",
        ),
        (
            "case/case_tests.rs",
            "use super::*;\nuse crate::org::load;\n",
        ),
    ])
    .unwrap();
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn a_missing_module_file_is_an_error_naming_it() {
    let errors = fake_crate(&[("lib.rs", "mod gone;\n")]).unwrap_err();
    assert!(errors[0].contains("mod gone;"), "{errors:?}");
}
