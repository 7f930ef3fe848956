//! The roster as this device's person may see it ([`Directory`]): decision 0016's view of the
//! roster copy, with the people search index built on it. Both are built once per roster
//! install and person, on the first question after either changes, and shared by every
//! later question: a search per keystroke never rebuilds the pinyin of the street's names.
//!
//! The server already sends each device its person's view; the device computes the view
//! again from its copy (the same function, and a view of a view is the same view), so a copy
//! installed some other way (a full roster given to `install_org`) still never shows a person
//! more than their role may see.

use super::{Device, Org};
use crate::error::Result;
use crate::org::{Catalogue, PeopleIndex, Person, Roster, Scope};
use std::sync::Arc;

/// The roster and catalogue as this device's person may see them, with the people search
/// index. Get it from [`Device::directory`]; it stays valid (a snapshot) after the device
/// installs another roster.
#[derive(Debug)]
pub struct Directory {
    /// The roster copy and catalogue it was made from (kept to tell when it is stale).
    org: Arc<Org>,
    /// Whose view it is (`None`: nobody is set up, the public view).
    viewer: Option<String>,
    /// The view: every place, and the people (and phone numbers) the viewer may see.
    roster: Roster,
    index: PeopleIndex,
}

impl Directory {
    fn new(org: Arc<Org>, viewer: Option<String>) -> Directory {
        // An id the roster does not hold gets the public view; "" is nobody's id.
        let roster = org.roster.view_for(viewer.as_deref().unwrap_or(""));
        let index = PeopleIndex::new(&roster);
        Directory {
            org,
            viewer,
            roster,
            index,
        }
    }

    /// The roster as the viewer may see it: every place, their people, their phone numbers.
    pub fn roster(&self) -> &Roster {
        &self.roster
    }

    /// The category catalogue with its working calendar.
    pub fn catalogue(&self) -> &Catalogue {
        &self.org.catalogue
    }

    /// Whose view this is (`None` before a person is set: the public view).
    pub fn viewer(&self) -> Option<&str> {
        self.viewer.as_deref()
    }

    /// The people the viewer may see, in roster order.
    pub fn people(&self) -> &[Person] {
        &self.roster.people
    }

    /// A person the viewer may see.
    pub fn person(&self, id: &str) -> Option<&Person> {
        self.roster.person(id)
    }

    /// The people whose name matches `query` (name, pinyin initials, full pinyin or its
    /// prefix, any reading of a polyphonic character), best match first, at most `limit`
    /// (see `org::PeopleIndex`).
    pub fn search(&self, query: &str, limit: usize) -> Vec<&Person> {
        self.index.search_people(&self.roster, query, limit)
    }

    /// The places a person belongs to: (community, grid, segment, department) ids. A grid's
    /// or a segment's community is the one the roster gives it.
    pub fn membership(&self, p: &Person) -> Membership {
        let mut m = Membership::default();
        match &p.scope {
            Scope::Street => {}
            Scope::Community(c) => m.community = Some(c.clone()),
            Scope::Grid(g) => {
                m.grid = Some(g.clone());
                m.community = self.roster.grid(g).map(|g| g.community.clone());
            }
            Scope::Segment(s) => {
                m.segment = Some(s.clone());
                m.community = self.roster.segment(s).map(|s| s.community.clone());
            }
            Scope::Department(d) => m.department = Some(d.clone()),
        }
        m
    }
}

/// The places one person belongs to, from their scope ([`Directory::membership`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Membership {
    /// Their community: the scope's own, or that of their grid or segment.
    pub community: Option<String>,
    /// Their grid (grid workers, informants, residents).
    pub grid: Option<String>,
    /// Their road segment (street chiefs).
    pub segment: Option<String>,
    /// Their department (department staff).
    pub department: Option<String>,
}

impl Device {
    /// The roster as this device's person may see it, with the people search index: built on
    /// the first call after a roster install or a change of person (a few milliseconds for a
    /// street of thousands), then shared. `NotSetUp` before a roster is installed; before a
    /// person is set, the public view (the people every device may route to).
    pub fn directory(&self) -> Result<Arc<Directory>> {
        let org = self.org()?;
        let viewer = self.me().map(|c| c.person);
        let mut cached = self.directory.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = cached.as_ref()
            && Arc::ptr_eq(&d.org, &org)
            && d.viewer == viewer
        {
            return Ok(Arc::clone(d));
        }
        let d = Arc::new(Directory::new(org, viewer));
        *cached = Some(Arc::clone(&d));
        Ok(d)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::sample;

    fn device(person: Option<&str>) -> (tempfile::TempDir, Device) {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::open(dir.path()).unwrap();
        d.install_org(
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        if let Some(p) = person {
            d.set_person(p).unwrap();
        }
        (dir, d)
    }

    fn ids(d: &Directory) -> Vec<&str> {
        d.people().iter().map(|p| p.id.as_str()).collect()
    }

    #[test]
    fn each_person_sees_their_view_even_of_a_full_roster() {
        // The sample roster installed whole, as a test or an old server would.
        let (_dir, centre) = device(Some("center"));
        assert_eq!(centre.directory().unwrap().people().len(), 16);
        let (_dir, res) = device(Some("res1"));
        let view = res.directory().unwrap();
        assert_eq!(
            ids(&view),
            ["cc1", "cc2", "gw1", "gw2", "gw3", "psc1", "msc1", "res1"]
        );
        assert!(view.people().iter().all(|p| p.phone.is_empty()));
        assert!(view.person("vol1").is_none());
        assert!(view.search("vol1", 10).is_empty());
        // Every place, whoever looks.
        assert_eq!(view.roster().grids.len(), 3);
        let (_dir, nobody) = device(None);
        assert_eq!(nobody.directory().unwrap().viewer(), None);
        assert_eq!(nobody.directory().unwrap().people().len(), 7);
    }

    #[test]
    fn the_directory_is_built_once_per_roster_and_person() {
        let (_dir, d) = device(Some("gw1"));
        let first = d.directory().unwrap();
        assert!(Arc::ptr_eq(&first, &d.directory().unwrap()));
        d.set_person("res1").unwrap();
        let second = d.directory().unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(second.viewer(), Some("res1"));
        d.install_org(
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        assert!(!Arc::ptr_eq(&second, &d.directory().unwrap()));
    }

    #[test]
    fn membership_follows_the_scope() {
        let (_dir, d) = device(Some("center"));
        let dir = d.directory().unwrap();
        let m = |id: &str| dir.membership(dir.person(id).unwrap());
        assert_eq!(
            m("gw1"),
            Membership {
                community: Some("c1".into()),
                grid: Some("g1".into()),
                ..Default::default()
            }
        );
        assert_eq!(m("psc1").segment.as_deref(), Some("s1"));
        assert_eq!(m("psc1").community.as_deref(), Some("c1"));
        assert_eq!(m("police1").department.as_deref(), Some("police"));
        assert_eq!(m("center"), Membership::default());
        assert_eq!(m("vol3").community.as_deref(), Some("c2"));
    }

    #[test]
    fn no_roster_is_not_set_up() {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::open(dir.path()).unwrap();
        assert!(matches!(d.directory(), Err(crate::Error::NotSetUp(_))));
    }
}
