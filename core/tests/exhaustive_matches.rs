//! No catch-all arm in a `match` on a role or an action in production code (issue 13).
//!
//! A `match` on [`Role`], [`Action`] or [`PatrolAction`] that ends in `_ =>` (or in an unused
//! binding such as `_other =>`) lets a new role or action compile without anyone deciding what
//! it sees or does: it silently takes the catch-all's answer. This test parses the production
//! modules of `model/src`, `core/src`, `sync-server/src`, `bindings/src` and `demo/src` with `syn` (from each crate
//! root, following `mod x;` items and their `#[path]` attributes, skipping `#[cfg(test)]`
//! modules and items) and fails naming every `match` whose arms name one of these enums
//! (`Role::GridWorker`, or `Self::GridWorker` inside `impl Role`) and also hold a catch-all.
//! A guarded arm (`r if r.is_street_chief() =>`) is not a catch-all, and neither is a binding
//! the arm uses (`known => Action::serialize(known, s)` hands every other variant on whole;
//! an unused binding must start with `_`, which this check catches).
//!
//! Not seen: `match` expressions inside macro invocations.
//!
//! [`Role`]: xiangying_core::org::Role
//! [`Action`]: xiangying_core::case::Action
//! [`PatrolAction`]: xiangying_core::patrol::PatrolAction

use std::path::{Path, PathBuf};
use syn::visit::Visit;

mod common;
use common::{is_cfg_test, path_attr};

/// The enums every `match` must cover by name.
const CHECKED: [&str; 3] = ["Role", "Action", "PatrolAction"];

/// The checked enum a pattern path names (`Role::X`, `org::Role::X`, `Self::X` in its impl).
fn checked_enum(path: &syn::Path, self_ty: Option<&str>) -> Option<String> {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    if segs.len() < 2 {
        return None;
    }
    let owner = segs[segs.len() - 2].as_str();
    let owner = if owner == "Self" { self_ty? } else { owner };
    CHECKED.contains(&owner).then(|| owner.to_string())
}

/// Finds the checked enums named anywhere in a pattern.
struct PatNames<'a> {
    self_ty: Option<&'a str>,
    found: Vec<String>,
}

impl<'ast> Visit<'ast> for PatNames<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        if let Some(name) = checked_enum(p, self.self_ty) {
            self.found.push(name);
        }
        syn::visit::visit_path(self, p);
    }
}

/// True for an arm that matches anything without naming it: `_` or an unused `_name` binding.
fn is_catch_all(arm: &syn::Arm) -> bool {
    if arm.guard.is_some() {
        return false;
    }
    match &arm.pat {
        syn::Pat::Wild(_) => true,
        syn::Pat::Ident(i) => i.subpat.is_none() && i.ident.to_string().starts_with('_'),
        _ => false,
    }
}

/// Walks one file's items, collecting offending matches.
struct Finder<'a> {
    file: &'a Path,
    self_ty: Option<String>,
    /// The function being walked (`Role::sees`, `read_scope`).
    func: String,
    offences: &'a mut Vec<String>,
}

impl<'ast> Visit<'ast> for Finder<'_> {
    fn visit_item_mod(&mut self, m: &'ast syn::ItemMod) {
        if !is_cfg_test(&m.attrs) {
            syn::visit::visit_item_mod(self, m);
        }
    }

    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        if !is_cfg_test(&f.attrs) {
            let outer = std::mem::replace(&mut self.func, f.sig.ident.to_string());
            syn::visit::visit_item_fn(self, f);
            self.func = outer;
        }
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        if !is_cfg_test(&f.attrs) {
            let name = match &self.self_ty {
                Some(ty) => format!("{ty}::{}", f.sig.ident),
                None => f.sig.ident.to_string(),
            };
            let outer = std::mem::replace(&mut self.func, name);
            syn::visit::visit_impl_item_fn(self, f);
            self.func = outer;
        }
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if is_cfg_test(&i.attrs) {
            return;
        }
        let outer = self.self_ty.take();
        if let syn::Type::Path(tp) = &*i.self_ty {
            self.self_ty = tp.path.segments.last().map(|s| s.ident.to_string());
        }
        syn::visit::visit_item_impl(self, i);
        self.self_ty = outer;
    }

    fn visit_expr_match(&mut self, m: &'ast syn::ExprMatch) {
        let mut names = PatNames {
            self_ty: self.self_ty.as_deref(),
            found: Vec::new(),
        };
        for arm in &m.arms {
            names.visit_pat(&arm.pat);
        }
        if let Some(name) = names.found.first()
            && m.arms.iter().any(is_catch_all)
        {
            self.offences.push(format!(
                "{} in {}: a match on {name} ends in a catch-all arm",
                self.file.display(),
                self.func
            ));
        }
        syn::visit::visit_expr_match(self, m);
    }
}

/// Checks one module file and the production modules it declares.
fn check_file(file: &Path, children_dir: &Path, offences: &mut Vec<String>) {
    let text = std::fs::read_to_string(file)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", file.display()));
    let ast = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    Finder {
        file,
        self_ty: None,
        func: String::new(),
        offences,
    }
    .visit_file(&ast);
    for item in &ast.items {
        let syn::Item::Mod(m) = item else { continue };
        if m.content.is_some() || is_cfg_test(&m.attrs) {
            continue;
        }
        let name = m.ident.to_string();
        let (child, dir) = match path_attr(&m.attrs) {
            Some(p) => {
                let child = file
                    .parent()
                    .map(|d| d.join(&p))
                    .unwrap_or_else(|| p.into());
                let dir = child.with_extension("");
                (child, dir)
            }
            None => {
                let flat = children_dir.join(format!("{name}.rs"));
                if flat.exists() {
                    (flat, children_dir.join(&name))
                } else {
                    (
                        children_dir.join(&name).join("mod.rs"),
                        children_dir.join(&name),
                    )
                }
            }
        };
        check_file(&child, &dir, offences);
    }
}

/// The crate roots of one `src` folder: `lib.rs`, `main.rs` and `bin/*.rs`.
fn roots(src: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = ["lib.rs", "main.rs"]
        .iter()
        .map(|f| src.join(f))
        .filter(|p| p.exists())
        .collect();
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        let mut bins: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        bins.sort();
        out.extend(bins);
    }
    out
}

fn offences_in(srcs: &[PathBuf]) -> Vec<String> {
    let mut offences = Vec::new();
    for src in srcs {
        for root in roots(src) {
            check_file(&root, src, &mut offences);
        }
    }
    offences
}

#[test]
fn no_catch_all_arm_on_roles_or_actions_in_production_code() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core sits in the workspace");
    let srcs: Vec<PathBuf> = [
        "model/src",
        "core/src",
        "sync-server/src",
        "bindings/src",
        "demo/src",
    ]
    .iter()
    .map(|d| workspace.join(d))
    .collect();
    let offences = offences_in(&srcs);
    assert!(
        offences.is_empty(),
        "list every role or action instead of a catch-all, so a new one fails to compile \
         until someone decides what it sees or does:\n{}",
        offences
            .join("\n")
            .replace(&format!("{}/", workspace.display()), "")
    );
}

#[test]
fn the_check_sees_a_catch_all_after_a_role_and_not_an_exhaustive_match() {
    let dir = std::env::temp_dir().join(format!("xy-exhaustive-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("org")).unwrap();
    std::fs::write(src.join("lib.rs"), "mod org;\n#[cfg(test)]\nmod tests;\n").unwrap();
    std::fs::write(
        src.join("org.rs"),
        "mod view;\n\
         fn sees(r: Role) -> bool { match r { Role::StreetCenter => true, _ => false } }\n\
         fn all(r: Role) -> bool { match r { Role::StreetCenter => true, Role::Resident => false } }\n\
         fn name(s: &str) -> u8 { match s { \"a\" => 1, _ => 0 } }\n\
         #[cfg(test)]\nfn t(r: Role) -> bool { match r { Role::Resident => true, _ => false } }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("org/view.rs"),
        "impl Role { fn f(self) -> u8 { match self { Self::Volunteer => 1, _other => 0 } } }\n\
         fn h(a: &Action) -> u8 { match a { Action::Claimed => 1, known => known.n() } }\n\
         fn g(a: &PatrolAction) -> u8 { match a { PatrolAction::Started { .. } => 1, _ => 0 } }\n",
    )
    .unwrap();
    std::fs::write(
        src.join("tests.rs"),
        "fn t(r: Role) -> bool { match r { Role::Resident => true, _ => false } }\n",
    )
    .unwrap();
    let offences = offences_in(std::slice::from_ref(&src));
    std::fs::remove_dir_all(&dir).unwrap();
    let lines: Vec<&str> = offences
        .iter()
        .map(|o| o.rsplit_once(": ").map(|(_, why)| why).unwrap_or(o))
        .collect();
    assert_eq!(
        lines,
        [
            "a match on Role ends in a catch-all arm",
            "a match on Role ends in a catch-all arm",
            "a match on PatrolAction ends in a catch-all arm",
        ],
        "{offences:?}"
    );
    assert!(offences[0].contains("org.rs in sees"), "{offences:?}");
    assert!(offences[1].contains("view.rs in Role::f"), "{offences:?}");
    assert!(offences[2].contains("view.rs in g"), "{offences:?}");
}
