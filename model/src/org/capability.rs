//! What each role is and may do, in one table: [`Role::capabilities`].
//!
//! Every rule that depends on the role alone (which scope it is held in, whether it walks
//! patrols, which cases it may raise and where a problem it raises starts, how much of the
//! roster it receives, …) reads this table instead of listing roles by hand; the table is one
//! exhaustive `match`, so a new role does not compile until somebody has decided each of its
//! capabilities. Rules that also need a case or a place (the fold, the read scope) combine
//! the table with their own facts.

use super::{Level, Role, Scope};

/// The kind of scope a role is held in (its [`Scope`] without the id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScopeKind {
    /// The whole street.
    Street,
    /// One community.
    Community,
    /// One grid.
    Grid,
    /// One road segment.
    Segment,
    /// One department.
    Department,
}

impl ScopeKind {
    /// The kind of a scope.
    pub fn of(scope: &Scope) -> ScopeKind {
        match scope {
            Scope::Street => ScopeKind::Street,
            Scope::Community(_) => ScopeKind::Community,
            Scope::Grid(_) => ScopeKind::Grid,
            Scope::Segment(_) => ScopeKind::Segment,
            Scope::Department(_) => ScopeKind::Department,
        }
    }

    /// `street`, `community`, `grid`, `segment` or `department`.
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeKind::Street => "street",
            ScopeKind::Community => "community",
            ScopeKind::Grid => "grid",
            ScopeKind::Segment => "segment",
            ScopeKind::Department => "department",
        }
    }
}

/// How much of the roster a viewer gets (decision 0016; see [`super::view`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Audience {
    /// The street centre: everything.
    Centre,
    /// Staff: all staff with phones, and the private people of their own place.
    Staff,
    /// Volunteers, residents and unknown people: the routing people, no phones.
    Public,
}

impl Audience {
    /// The audience of a person in `role`.
    pub fn of(role: Role) -> Audience {
        role.capabilities().audience
    }
}

/// Where a role may raise a kind of case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Not at all.
    Never,
    /// Only in its own place: the grid or community of its scope.
    OwnPlace,
    /// Anywhere in the street.
    Anywhere,
}

/// Whom a problem report goes to first, by the role of whoever raised it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirstHolder {
    /// The street centre.
    Centre,
    /// The reporter themself (who may handle it on the spot or forward it).
    Reporter,
    /// The grid worker of the case's grid.
    GridWorker,
}

/// What a role is and may do, whatever the case (see [`Role::capabilities`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Capabilities {
    /// The kind of scope the role is held in (the roster refuses any other).
    pub scope: ScopeKind,
    /// Reads every case and sees every grid worker's patrols (the centre and officials).
    pub sees_whole_street: bool,
    /// One of the two kinds of street chief (街长).
    pub street_chief: bool,
    /// The one person answerable for a place: exactly one per grid (the grid worker) and per
    /// community (the community grid chief); the roster indexes them by place, and they see
    /// the private people of that place.
    pub heads_place: bool,
    /// Walks patrols of their own place (a grid worker their grid, a street chief their
    /// segment).
    pub walks_patrols: bool,
    /// May handle a grid-level case they hold on the spot (自行处置).
    pub handles_on_spot: bool,
    /// Named by routing, so every roster view holds them.
    pub routes_cases: bool,
    /// How much of the roster their device receives.
    pub audience: Audience,
    /// Where they may raise a problem report.
    pub reports: Reach,
    /// Where they may raise a resident request (点单).
    pub requests: Reach,
    /// The level a problem they raise starts at.
    pub problem_level: Level,
    /// Whom a problem they raise goes to first.
    pub problem_goes_to: FirstHolder,
}

impl Role {
    /// The role's capabilities: one exhaustive table, no catch-all, so a new role must decide
    /// each of them.
    pub fn capabilities(self) -> Capabilities {
        match self {
            Role::StreetCenter => Capabilities {
                scope: ScopeKind::Street,
                sees_whole_street: true,
                street_chief: false,
                heads_place: false,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: false,
                audience: Audience::Centre,
                reports: Reach::Anywhere,
                requests: Reach::Never,
                problem_level: Level::Street,
                problem_goes_to: FirstHolder::Centre,
            },
            Role::CommunityChief => Capabilities {
                scope: ScopeKind::Community,
                sees_whole_street: false,
                street_chief: false,
                heads_place: true,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: true,
                audience: Audience::Staff,
                reports: Reach::OwnPlace,
                requests: Reach::OwnPlace,
                problem_level: Level::Community,
                problem_goes_to: FirstHolder::Reporter,
            },
            Role::GridWorker => Capabilities {
                scope: ScopeKind::Grid,
                sees_whole_street: false,
                street_chief: false,
                heads_place: true,
                walks_patrols: true,
                handles_on_spot: true,
                routes_cases: true,
                audience: Audience::Staff,
                reports: Reach::OwnPlace,
                requests: Reach::OwnPlace,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::Reporter,
            },
            Role::GridInformant => Capabilities {
                scope: ScopeKind::Grid,
                sees_whole_street: false,
                street_chief: false,
                heads_place: false,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: false,
                audience: Audience::Staff,
                reports: Reach::OwnPlace,
                requests: Reach::Never,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::GridWorker,
            },
            Role::PartyStreetChief | Role::MerchantStreetChief => Capabilities {
                scope: ScopeKind::Segment,
                sees_whole_street: false,
                street_chief: true,
                heads_place: false,
                walks_patrols: true,
                handles_on_spot: true,
                routes_cases: true,
                audience: Audience::Staff,
                reports: Reach::Anywhere,
                requests: Reach::Never,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::Reporter,
            },
            Role::StreetOfficial => Capabilities {
                scope: ScopeKind::Street,
                sees_whole_street: true,
                street_chief: false,
                heads_place: false,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: false,
                audience: Audience::Staff,
                reports: Reach::Anywhere,
                requests: Reach::Never,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::GridWorker,
            },
            Role::DepartmentStaff => Capabilities {
                scope: ScopeKind::Department,
                sees_whole_street: false,
                street_chief: false,
                heads_place: false,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: false,
                audience: Audience::Staff,
                reports: Reach::Anywhere,
                requests: Reach::Never,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::GridWorker,
            },
            Role::Volunteer => Capabilities {
                scope: ScopeKind::Community,
                sees_whole_street: false,
                street_chief: false,
                heads_place: false,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: false,
                audience: Audience::Public,
                reports: Reach::Never,
                requests: Reach::Never,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::GridWorker,
            },
            Role::Resident => Capabilities {
                scope: ScopeKind::Grid,
                sees_whole_street: false,
                street_chief: false,
                heads_place: false,
                walks_patrols: false,
                handles_on_spot: false,
                routes_cases: false,
                audience: Audience::Public,
                reports: Reach::Never,
                requests: Reach::OwnPlace,
                problem_level: Level::Grid,
                problem_goes_to: FirstHolder::GridWorker,
            },
        }
    }

    /// True when `scope` is of the kind this role is held in (a roster that loaded holds no
    /// other; a claim recorded in a document might).
    pub fn fits(self, scope: &Scope) -> bool {
        ScopeKind::of(scope) == self.capabilities().scope
    }

    /// The place a person in this role heads ([`Capabilities::heads_place`]) with `scope`:
    /// the grid of a grid worker, the community of a community chief; `None` for every other
    /// role, or a scope of another kind.
    pub fn headed_place(self, scope: &Scope) -> Option<&Scope> {
        (self.capabilities().heads_place && self.fits(scope)).then_some(scope)
    }

    /// True when the case's `grid` and `community` are this role's own place by `scope`
    /// (the grid of a grid-scoped role, the community of a community-scoped one), as
    /// [`Reach::OwnPlace`] means.
    pub fn in_own_place(self, scope: &Scope, grid: &str, community: &str) -> bool {
        self.fits(scope)
            && match scope {
                Scope::Grid(g) => g == grid,
                Scope::Community(c) => c == community,
                Scope::Street | Scope::Segment(_) | Scope::Department(_) => false,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The table, read back row by row: what each role was hand-listed as before it existed.
    #[test]
    fn the_table_says_what_the_hand_lists_said() {
        let with = |f: fn(Capabilities) -> bool| {
            Role::ALL
                .into_iter()
                .filter(|r| f(r.capabilities()))
                .collect::<Vec<_>>()
        };
        use Role::*;
        assert_eq!(
            with(|c| c.sees_whole_street),
            [StreetCenter, StreetOfficial]
        );
        assert_eq!(
            with(|c| c.street_chief),
            [PartyStreetChief, MerchantStreetChief]
        );
        assert_eq!(with(|c| c.heads_place), [CommunityChief, GridWorker]);
        assert_eq!(
            with(|c| c.walks_patrols),
            [GridWorker, PartyStreetChief, MerchantStreetChief]
        );
        assert_eq!(with(|c| c.handles_on_spot), with(|c| c.walks_patrols));
        assert_eq!(
            with(|c| c.routes_cases),
            [
                CommunityChief,
                GridWorker,
                PartyStreetChief,
                MerchantStreetChief
            ]
        );
        assert_eq!(
            with(|c| c.audience == Audience::Public),
            [Volunteer, Resident]
        );
        assert_eq!(with(|c| c.audience == Audience::Centre), [StreetCenter]);
        assert_eq!(
            with(|c| c.reports == Reach::Never),
            [Volunteer, Resident],
            "everybody else reports problems"
        );
        assert_eq!(
            with(|c| c.requests != Reach::Never),
            [CommunityChief, GridWorker, Resident]
        );
        assert_eq!(
            with(|c| c.problem_goes_to == FirstHolder::Reporter),
            [
                CommunityChief,
                GridWorker,
                PartyStreetChief,
                MerchantStreetChief
            ]
        );
        // A role that may report only in its own place has a place: a grid or a community.
        for r in Role::ALL {
            let c = r.capabilities();
            if c.reports == Reach::OwnPlace || c.requests == Reach::OwnPlace {
                assert!(
                    matches!(c.scope, ScopeKind::Grid | ScopeKind::Community),
                    "{r:?}"
                );
            }
        }
    }

    #[test]
    fn a_place_is_headed_and_owned_only_in_a_scope_of_the_roles_kind() {
        let grid = Scope::Grid("g1".into());
        let community = Scope::Community("c1".into());
        assert_eq!(Role::GridWorker.headed_place(&grid), Some(&grid));
        assert_eq!(Role::GridWorker.headed_place(&community), None);
        assert_eq!(
            Role::CommunityChief.headed_place(&community),
            Some(&community)
        );
        assert_eq!(Role::Volunteer.headed_place(&community), None);
        assert!(Role::GridInformant.in_own_place(&grid, "g1", "c1"));
        assert!(!Role::GridInformant.in_own_place(&grid, "g2", "c1"));
        assert!(Role::CommunityChief.in_own_place(&community, "g9", "c1"));
        // A grid worker's claim with a community scope owns no place.
        assert!(!Role::GridWorker.in_own_place(&community, "g1", "c1"));
        assert!(!Role::StreetCenter.in_own_place(&Scope::Street, "g1", "c1"));
    }
}
