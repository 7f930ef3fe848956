//! Inbox keys: what a case waits on and what a person's inbox is made of.
//!
//! A case is in a person's inbox when one of the keys it waits on
//! ([`super::CaseState::waiting_on`]) is one of the person's own keys ([`inbox_keys_for`]).
//! The keys are stored as text in the phone's SQLite (`case_inbox`); [`InboxKey`]'s
//! `Display` and `FromStr` are that text form, which never changes (`p:<person>`, `center`,
//! `dept:<department>`, `volunteers:<community>`, `community:<community>`).

use super::event::Claim;
use crate::org::{Role, Scope};
use std::fmt;
use std::str::FromStr;

/// One key a case waits on, or a person's inbox is made of.
///
/// The variants are declared in the order of their text, so sorting keys sorts them as their
/// text sorts (what the store did when the keys were strings).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InboxKey {
    /// The street centre (`center`).
    Center,
    /// A community chief's community, for verification (`community:<id>`).
    Community(String),
    /// A department (`dept:<id>`).
    Dept(String),
    /// A person by id (`p:<id>`).
    Person(String),
    /// A community's volunteer pool (`volunteers:<community>`).
    Volunteers(String),
}

/// A text that is not an inbox key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "not an inbox key: {0:?} (expected p:<person>, center, dept:<id>, volunteers:<community> or community:<id>)"
)]
pub struct BadInboxKey(pub String);

impl fmt::Display for InboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InboxKey::Center => f.write_str("center"),
            InboxKey::Community(c) => write!(f, "community:{c}"),
            InboxKey::Dept(d) => write!(f, "dept:{d}"),
            InboxKey::Person(p) => write!(f, "p:{p}"),
            InboxKey::Volunteers(c) => write!(f, "volunteers:{c}"),
        }
    }
}

impl FromStr for InboxKey {
    type Err = BadInboxKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "center" {
            return Ok(InboxKey::Center);
        }
        let bad = || BadInboxKey(s.to_string());
        let (kind, id) = s.split_once(':').ok_or_else(bad)?;
        let id = id.to_string();
        match kind {
            "community" => Ok(InboxKey::Community(id)),
            "dept" => Ok(InboxKey::Dept(id)),
            "p" => Ok(InboxKey::Person(id)),
            "volunteers" => Ok(InboxKey::Volunteers(id)),
            _ => Err(bad()),
        }
    }
}

/// The inbox keys a person's own inbox is made of: cases waiting on them by name, on their
/// centre, department or volunteer pool, and (for a community chief) awaiting verification in
/// their community.
pub fn inbox_keys_for(claim: &Claim) -> Vec<InboxKey> {
    let mut keys = vec![InboxKey::Person(claim.person.clone())];
    match (claim.role, &claim.scope) {
        (Role::StreetCenter, _) => keys.push(InboxKey::Center),
        (Role::DepartmentStaff, Scope::Department(d)) => keys.push(InboxKey::Dept(d.clone())),
        (Role::Volunteer, Scope::Community(c)) => keys.push(InboxKey::Volunteers(c.clone())),
        (Role::CommunityChief, Scope::Community(c)) => keys.push(InboxKey::Community(c.clone())),
        // A pool role whose scope is of another kind has no pool to wait on.
        (Role::DepartmentStaff | Role::Volunteer | Role::CommunityChief, _) => {}
        // Cases wait on these roles by name only.
        (
            Role::GridWorker
            | Role::GridInformant
            | Role::PartyStreetChief
            | Role::MerchantStreetChief
            | Role::StreetOfficial
            | Role::Resident,
            _,
        ) => {}
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_variant() -> Vec<(InboxKey, &'static str)> {
        vec![
            (InboxKey::Center, "center"),
            (InboxKey::Community("zx-c1".into()), "community:zx-c1"),
            (InboxKey::Dept("police".into()), "dept:police"),
            (InboxKey::Person("gw1".into()), "p:gw1"),
            (InboxKey::Volunteers("zx-c2".into()), "volunteers:zx-c2"),
        ]
    }

    #[test]
    fn every_variant_writes_todays_text_and_reads_back() {
        for (key, text) in every_variant() {
            assert_eq!(key.to_string(), text);
            let back: InboxKey = text.parse().unwrap();
            assert_eq!(back, key);
            assert_eq!(back.to_string(), text);
        }
        // An id holding a colon stays whole.
        let odd: InboxKey = "p:a:b".parse().unwrap();
        assert_eq!(odd, InboxKey::Person("a:b".into()));
        assert_eq!(odd.to_string(), "p:a:b");
    }

    #[test]
    fn keys_sort_as_their_text_sorts() {
        let mut keys: Vec<InboxKey> = every_variant().into_iter().map(|(k, _)| k).collect();
        keys.extend(["p:a", "p:b", "dept:z", "community:a"].map(|t| t.parse().unwrap()));
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
    fn a_persons_inbox_keys_are_todays_text() {
        let keys = |person: &str, role, scope| {
            let claim = Claim {
                person: person.into(),
                role,
                scope,
            };
            inbox_keys_for(&claim)
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            keys("center", Role::StreetCenter, Scope::Street),
            ["p:center", "center"]
        );
        assert_eq!(
            keys(
                "police1",
                Role::DepartmentStaff,
                Scope::Department("police".into())
            ),
            ["p:police1", "dept:police"]
        );
        assert_eq!(
            keys("vol1", Role::Volunteer, Scope::Community("c1".into())),
            ["p:vol1", "volunteers:c1"]
        );
        assert_eq!(
            keys("cc1", Role::CommunityChief, Scope::Community("c1".into())),
            ["p:cc1", "community:c1"]
        );
        assert_eq!(
            keys("gw1", Role::GridWorker, Scope::Grid("g1".into())),
            ["p:gw1"]
        );
    }

    #[test]
    fn a_bad_key_is_named_in_the_error() {
        for bad in ["", "person:gw1", "centre", "center:x", "grid:g1", "p"] {
            let err = bad.parse::<InboxKey>().unwrap_err();
            assert_eq!(err, BadInboxKey(bad.to_string()));
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }
}
