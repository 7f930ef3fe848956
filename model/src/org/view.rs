//! The roster as one person's device receives it (`GET /v1/org`): every place, and only the
//! people that person's role needs to route, pick and show, with phone numbers only where the
//! role needs them (issue 11, finding 9; the table is in docs/decisions/0016).
//!
//! - Everybody gets every place (grids, segments, communities, roads, departments: routing a
//!   location needs them all) and the people routing names: every grid worker, community grid
//!   chief and street chief. The view is a valid roster, checked on the device as usual.
//! - The street centre gets everybody, with phone numbers.
//! - Staff (every other role but volunteers and residents) get all staff with their duty
//!   phone numbers (pickers, companions, notice boards), and the volunteers and residents of
//!   their own place only: a community chief those of the community, a grid worker the
//!   residents of the grid.
//! - Volunteers and residents, and anybody the roster does not know, get the routing people
//!   and themself, with no phone number at all.

use super::{Audience, Person, Role, Roster, Scope};
use std::collections::HashMap;

/// True for people whose entry (and phone number) is private: volunteers and residents.
pub fn is_private(role: Role) -> bool {
    Audience::of(role) == Audience::Public
}

/// True for the people routing names, whom every view holds: grid workers, community grid
/// chiefs and street chiefs ([`super::Capabilities::routes_cases`]).
fn routes_to(role: Role) -> bool {
    role.capabilities().routes_cases
}

impl Roster {
    /// The roster as the device of `viewer` (a person id) receives it. An id the roster does
    /// not know gets the public view.
    pub fn view_for(&self, viewer: &str) -> Roster {
        let me = self.people.iter().find(|p| p.id == viewer);
        let audience = me.map_or(Audience::Public, |p| Audience::of(p.role));
        let community_of: HashMap<&str, &str> = self
            .grids
            .iter()
            .map(|g| (g.id.as_str(), g.community.as_str()))
            .collect();
        // Whether a private person lives in the viewer's own place: only the head of a place
        // (a community chief, a grid worker) has one, and only in a scope of their role's kind;
        // an unknown viewer has none. A grid worker's are the residents of the grid.
        let headed = me.and_then(|m| m.role.headed_place(&m.scope));
        let in_my_place = |p: &Person| match (headed, &p.scope) {
            (Some(Scope::Community(c)), Scope::Community(pc)) => c == pc,
            (Some(Scope::Community(c)), Scope::Grid(g)) => {
                community_of.get(g.as_str()) == Some(&c.as_str())
            }
            (Some(Scope::Grid(g)), Scope::Grid(pg)) => g == pg && p.role == Role::Resident,
            _ => false,
        };
        let people = self
            .people
            .iter()
            .filter_map(|p| {
                let (listed, phone) = match audience {
                    Audience::Centre => (true, true),
                    Audience::Staff if is_private(p.role) => {
                        let mine = in_my_place(p) || p.id == viewer;
                        (mine, mine)
                    }
                    Audience::Staff => (true, true),
                    Audience::Public => (routes_to(p.role) || p.id == viewer, false),
                };
                listed.then(|| Person {
                    phone: if phone {
                        p.phone.clone()
                    } else {
                        String::new()
                    },
                    ..p.clone()
                })
            })
            .collect();
        let mut view = Roster {
            street: self.street.clone(),
            roads: self.roads.clone(),
            communities: self.communities.clone(),
            grids: self.grids.clone(),
            segments: self.segments.clone(),
            departments: self.departments.clone(),
            people,
            index: Default::default(),
        };
        view.reindex();
        view
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::sample;

    fn ids(r: &Roster) -> Vec<&str> {
        r.people.iter().map(|p| p.id.as_str()).collect()
    }

    fn phones(r: &Roster) -> Vec<&str> {
        r.people
            .iter()
            .filter(|p| !p.phone.is_empty())
            .map(|p| p.id.as_str())
            .collect()
    }

    #[test]
    fn each_role_gets_its_people_and_phones_and_every_view_is_a_valid_roster() {
        let full = sample::roster().unwrap();
        let everybody = ids(&full);
        let view = |who: &str| {
            let v = full.view_for(who);
            // The view loads on a device like the full roster.
            let json = serde_json::to_string(&v).unwrap();
            Roster::from_json("view", &json).unwrap();
            assert_eq!(v.grids, full.grids);
            assert_eq!(v.segments, full.segments);
            assert_eq!(v.departments, full.departments);
            v
        };
        let centre = view("center");
        assert_eq!(ids(&centre), everybody);
        assert_eq!(phones(&centre), everybody);

        let routing = ["cc1", "cc2", "gw1", "gw2", "gw3", "psc1", "msc1"];
        let res = view("res1");
        let mut expected = routing.to_vec();
        expected.push("res1");
        assert_eq!(ids(&res), expected);
        assert!(phones(&res).is_empty(), "a resident gets no phone number");
        let vol = view("vol1");
        assert_eq!(ids(&vol).len(), routing.len() + 1);
        assert!(phones(&vol).is_empty());
        assert_eq!(ids(&view("nobody")), routing);

        let staff = [
            "center", "cc1", "cc2", "gw1", "gw2", "gw3", "inf1", "psc1", "msc1", "official",
            "police1", "enf1",
        ];
        // A grid worker: all staff with phones, the residents of their grid.
        let gw1 = view("gw1");
        let mut expected = staff.to_vec();
        expected.push("res1");
        assert_eq!(ids(&gw1), expected);
        assert_eq!(phones(&gw1), expected);
        assert_eq!(ids(&view("gw2")), staff);
        // A community chief: the volunteers and residents of their community.
        let mut expected = staff.to_vec();
        expected.extend(["vol1", "vol2", "res1"]);
        assert_eq!(ids(&view("cc1")), expected);
        let mut expected = staff.to_vec();
        expected.push("vol3");
        assert_eq!(ids(&view("cc2")), expected);
        for who in ["psc1", "official", "police1", "inf1"] {
            let v = view(who);
            assert_eq!(ids(&v), staff, "{who}");
            assert_eq!(phones(&v), staff, "{who}");
        }
    }
}
