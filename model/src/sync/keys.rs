//! Access keys: what a document is visible through, and what a person reads with.
//!
//! The keys are stored as text in the server's database (`case_access`) and compared there
//! against a reader's keys; [`AccessKey`]'s `Display` and `FromStr` are that text form, which
//! never changes (`person:<id>`, `grid:<id>`, `community:<id>`, `segment:<id>`,
//! `dept:<id>`, `volunteers:<community>`). Storage converts at the SQL boundary only.

use std::fmt;
use std::str::FromStr;

/// One key a document is visible through (see [`super::scope`]).
///
/// The variants are declared in the order of their text, so sorting keys sorts them as their
/// text sorts (what the server did when the keys were strings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessKey {
    /// A community (`community:<id>`).
    Community(String),
    /// A department (`dept:<id>`).
    Dept(String),
    /// A grid (`grid:<id>`).
    Grid(String),
    /// A person by id (`person:<id>`).
    Person(String),
    /// A road segment (`segment:<id>`).
    Segment(String),
    /// A community's volunteer pool (`volunteers:<community>`).
    Volunteers(String),
}

/// A text that is not an access key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an access key: {0:?} (expected person:, grid:, community:, segment:, dept: or \
     volunteers: followed by an id)"
)]
pub struct BadAccessKey(pub String);

impl fmt::Display for AccessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccessKey::Community(c) => write!(f, "community:{c}"),
            AccessKey::Dept(d) => write!(f, "dept:{d}"),
            AccessKey::Grid(g) => write!(f, "grid:{g}"),
            AccessKey::Person(p) => write!(f, "person:{p}"),
            AccessKey::Segment(s) => write!(f, "segment:{s}"),
            AccessKey::Volunteers(c) => write!(f, "volunteers:{c}"),
        }
    }
}

impl FromStr for AccessKey {
    type Err = BadAccessKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadAccessKey(s.to_string());
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        let id = id.to_string();
        match kind {
            "community" => Ok(AccessKey::Community(id)),
            "dept" => Ok(AccessKey::Dept(id)),
            "grid" => Ok(AccessKey::Grid(id)),
            "person" => Ok(AccessKey::Person(id)),
            "segment" => Ok(AccessKey::Segment(id)),
            "volunteers" => Ok(AccessKey::Volunteers(id)),
            _ => Err(bad()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<(AccessKey, &'static str)> {
        vec![
            (AccessKey::Community("zx-c1".into()), "community:zx-c1"),
            (AccessKey::Dept("police".into()), "dept:police"),
            (AccessKey::Grid("zx-c1-g1".into()), "grid:zx-c1-g1"),
            (AccessKey::Person("gw1".into()), "person:gw1"),
            (AccessKey::Segment("zx-s1".into()), "segment:zx-s1"),
            (AccessKey::Volunteers("zx-c2".into()), "volunteers:zx-c2"),
        ]
    }

    #[test]
    fn every_variant_writes_todays_text_and_reads_back() {
        for (key, text) in every_variant() {
            assert_eq!(key.to_string(), text);
            let back: AccessKey = text.parse().unwrap();
            assert_eq!(back, key);
            assert_eq!(back.to_string(), text);
        }
        let odd: AccessKey = "grid:a:b".parse().unwrap();
        assert_eq!(odd, AccessKey::Grid("a:b".into()));
        assert_eq!(odd.to_string(), "grid:a:b");
    }

    #[test]
    fn keys_sort_as_their_text_sorts() {
        let mut keys: Vec<AccessKey> = every_variant().into_iter().map(|(k, _)| k).collect();
        keys.extend(["person:a", "person:b", "dept:z", "grid:a"].map(|t| t.parse().unwrap()));
        keys.reverse();
        let mut texts: Vec<String> = keys.iter().map(ToString::to_string).collect();
        keys.sort();
        texts.sort();
        assert_eq!(
            keys.iter().map(ToString::to_string).collect::<Vec<_>>(),
            texts
        );
    }

    #[test]
    fn a_bad_key_is_named_in_the_error() {
        for bad in ["", "p:gw1", "center", "street:zx", "grid"] {
            let err = bad.parse::<AccessKey>().unwrap_err();
            assert_eq!(err, BadAccessKey(bad.to_string()));
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }
}
