//! Loading and checking roster and catalogue files, with errors that name the file, the entry
//! and the problem.
//!
//! Files are read in two steps so that an administrator who edits them by hand is told exactly
//! where the mistake is: first the file is parsed as JSON of the right outline (a syntax error
//! names its line and column), then every entry is decoded on its own (an unknown role, a
//! misspelt field or a wrong type names the entry, e.g. `people[12] (id "gw-07")`), and last
//! the whole roster is checked for what JSON cannot express (duplicate ids, dangling
//! references, a role in the wrong kind of scope, a grid without its grid worker, …).
//! The rules are listed in `docs/decisions/0003-roster-and-catalogue-files.md`; a catalogue's
//! working calendar is checked by [`Calendar::new`] (`docs/decisions/0011-working-hours-deadlines.md`).

use super::calendar::{CALENDAR_FIELDS, HOLIDAY_FIELDS, MAX_LIMIT_HOURS, PERIOD_FIELDS};
use super::geo::{polygon_area_m2, polyline_length_m};
use super::{
    Calendar, CalendarSpec, Catalogue, Category, Level, Point, Role, Roster, RosterIndex, Scope,
    catalogue::CatalogueData,
};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::collections::hash_map::Entry;

/// What is wrong with a roster or catalogue file.
#[derive(Debug, thiserror::Error)]
pub enum OrgError {
    /// The file is not valid JSON of the expected shape.
    #[error("{file}: {message}")]
    Parse {
        /// The file (or `<memory>`).
        file: String,
        /// serde's description, with line and column.
        message: String,
    },
    /// One entry is invalid.
    #[error("{file}: {entry}: {problem}")]
    Entry {
        /// The file (or `<memory>`).
        file: String,
        /// Which entry, e.g. `people[3] (id "gw-01")`.
        entry: String,
        /// What is wrong with it.
        problem: String,
    },
}

impl OrgError {
    /// The file the error is about.
    pub fn file(&self) -> &str {
        match self {
            OrgError::Parse { file, .. } | OrgError::Entry { file, .. } => file,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Step 1 and 2: the outline, then every entry on its own.

/// The outline of a roster file: every list as raw JSON, decoded entry by entry later.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RosterFile {
    street: Value,
    roads: Vec<Value>,
    communities: Vec<Value>,
    grids: Vec<Value>,
    segments: Vec<Value>,
    departments: Vec<Value>,
    people: Vec<Value>,
}

/// The outline of a catalogue file; a file without a calendar gets the default one.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogueFile {
    #[serde(default)]
    calendar: Option<Value>,
    categories: Vec<Value>,
}

/// The outline of a catalogue's calendar: the lists are decoded entry by entry later.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    utc_offset: String,
    periods: Vec<Value>,
    weekdays: Vec<String>,
    holidays: Vec<Value>,
}

/// How to decode one kind of entry.
struct Shape {
    /// The list's name in the file, e.g. `people`.
    list: &'static str,
    /// The field that identifies an entry in messages (`id` or `code`).
    key: &'static str,
    /// Every field the entry may have.
    fields: &'static [&'static str],
    /// Extra checks on the raw entry that give clearer messages than serde.
    check: fn(&Map<String, Value>) -> Option<String>,
}

fn no_check(_: &Map<String, Value>) -> Option<String> {
    None
}

pub(super) const STREET_FIELDS: &[&str] = &["id", "name", "case_prefix"];
pub(super) const ROAD_FIELDS: &[&str] = &["id", "name", "main"];
pub(super) const COMMUNITY_FIELDS: &[&str] = &["id", "name"];
pub(super) const GRID_FIELDS: &[&str] = &["id", "name", "community", "polygon"];
pub(super) const SEGMENT_FIELDS: &[&str] = &["id", "name", "road", "community", "polyline"];
pub(super) const DEPARTMENT_FIELDS: &[&str] = &["id", "name"];
pub(super) const PERSON_FIELDS: &[&str] = &["id", "name", "phone", "role", "scope"];
pub(super) const SCOPE_FIELDS: &[&str] = &["kind", "id"];
pub(super) const CATEGORY_FIELDS: &[&str] = &[
    "code",
    "kind",
    "big_code",
    "big_name",
    "name",
    "level",
    "limit_hours",
    "department",
    "clock",
];
/// The `kind` of every [`Scope`] variant, as written in files.
pub(super) const SCOPE_KINDS: &[&str] = &["street", "community", "grid", "segment", "department"];
/// Every [`super::CategoryKind`], as written in files.
pub(super) const CATEGORY_KINDS: &[&str] = &["component", "event", "duty"];
/// Every [`super::LimitClock`], as written in files.
pub(super) const CLOCKS: &[&str] = &["working", "natural"];
/// Every [`Level`], as written in files.
pub(super) const LEVELS: &[&str] = &["grid", "community", "street", "joint_enforcement"];

const STREET: Shape = Shape {
    list: "street",
    key: "id",
    fields: STREET_FIELDS,
    check: no_check,
};
const ROAD: Shape = Shape {
    list: "roads",
    key: "id",
    fields: ROAD_FIELDS,
    check: no_check,
};
const COMMUNITY: Shape = Shape {
    list: "communities",
    key: "id",
    fields: COMMUNITY_FIELDS,
    check: no_check,
};
const GRID: Shape = Shape {
    list: "grids",
    key: "id",
    fields: GRID_FIELDS,
    check: no_check,
};
const SEGMENT: Shape = Shape {
    list: "segments",
    key: "id",
    fields: SEGMENT_FIELDS,
    check: no_check,
};
const DEPARTMENT: Shape = Shape {
    list: "departments",
    key: "id",
    fields: DEPARTMENT_FIELDS,
    check: no_check,
};
const PERSON: Shape = Shape {
    list: "people",
    key: "id",
    fields: PERSON_FIELDS,
    check: check_person,
};
const CATEGORY: Shape = Shape {
    list: "categories",
    key: "code",
    fields: CATEGORY_FIELDS,
    check: check_category,
};
const PERIOD: Shape = Shape {
    list: "calendar.periods",
    key: "start",
    fields: PERIOD_FIELDS,
    check: no_check,
};
const HOLIDAY: Shape = Shape {
    list: "calendar.holidays",
    key: "name",
    fields: HOLIDAY_FIELDS,
    check: no_check,
};

/// `field` holds a string outside `allowed`: say so, listing what is allowed. Anything else
/// (missing, another type) is left to serde, whose message is clear enough for those.
fn unknown_word(
    map: &Map<String, Value>,
    field: &str,
    what: &str,
    allowed: &[&str],
) -> Option<String> {
    match map.get(field) {
        Some(Value::String(s)) if !allowed.contains(&s.as_str()) => Some(format!(
            "unknown {what} {s:?} (expected one of: {})",
            allowed.join(", ")
        )),
        _ => None,
    }
}

fn check_person(map: &Map<String, Value>) -> Option<String> {
    let roles: Vec<&str> = Role::ALL.iter().map(|r| r.as_str()).collect();
    if let Some(problem) = unknown_word(map, "role", "role", &roles) {
        return Some(problem);
    }
    let Some(Value::Object(scope)) = map.get("scope") else {
        return None;
    };
    if let Some(k) = scope.keys().find(|k| !SCOPE_FIELDS.contains(&k.as_str())) {
        return Some(format!(
            "unknown field {k:?} in scope (expected: {})",
            SCOPE_FIELDS.join(", ")
        ));
    }
    unknown_word(scope, "kind", "scope kind", SCOPE_KINDS)
}

fn check_category(map: &Map<String, Value>) -> Option<String> {
    unknown_word(map, "kind", "category kind", CATEGORY_KINDS)
        .or_else(|| unknown_word(map, "level", "level", LEVELS))
        .or_else(|| unknown_word(map, "clock", "clock", CLOCKS))
}

/// How messages name an entry: `people[12] (id "gw-07")`, or `people[12]` without an id.
fn label(shape: &Shape, index: Option<usize>, v: &Value) -> String {
    let at = match index {
        Some(i) => format!("{}[{i}]", shape.list),
        None => shape.list.to_string(),
    };
    match v.get(shape.key).and_then(Value::as_str) {
        Some(key) => format!("{at} ({} {key:?})", shape.key),
        None => at,
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

fn decode_entry<T: DeserializeOwned>(
    file: &str,
    shape: &Shape,
    index: Option<usize>,
    v: Value,
) -> Result<T, OrgError> {
    let fail = |problem: String| OrgError::Entry {
        file: file.to_string(),
        entry: label(shape, index, &v),
        problem,
    };
    let Some(map) = v.as_object() else {
        return Err(fail(format!("expected an object, found {}", type_name(&v))));
    };
    if let Some(k) = map.keys().find(|k| !shape.fields.contains(&k.as_str())) {
        return Err(fail(format!(
            "unknown field {k:?} (expected: {})",
            shape.fields.join(", ")
        )));
    }
    if let Some(problem) = (shape.check)(map) {
        return Err(fail(problem));
    }
    T::deserialize(&v).map_err(|e| fail(e.to_string()))
}

fn decode_list<T: DeserializeOwned>(
    file: &str,
    shape: &Shape,
    values: Vec<Value>,
) -> Result<Vec<T>, OrgError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| decode_entry(file, shape, Some(i), v))
        .collect()
}

/// Decodes and checks a catalogue's calendar: its outline, each period and holiday on its own,
/// then [`Calendar::new`].
fn decode_calendar(file: &str, v: Value) -> Result<Calendar, OrgError> {
    let fail = |entry: &str, problem: String| OrgError::Entry {
        file: file.to_string(),
        entry: entry.to_string(),
        problem,
    };
    let Some(map) = v.as_object() else {
        return Err(fail(
            "calendar",
            format!("expected an object, found {}", type_name(&v)),
        ));
    };
    if let Some(k) = map.keys().find(|k| !CALENDAR_FIELDS.contains(&k.as_str())) {
        return Err(fail(
            "calendar",
            format!(
                "unknown field {k:?} (expected: {})",
                CALENDAR_FIELDS.join(", ")
            ),
        ));
    }
    let raw = CalendarFile::deserialize(&v).map_err(|e| fail("calendar", e.to_string()))?;
    let spec = CalendarSpec {
        utc_offset: raw.utc_offset,
        periods: decode_list(file, &PERIOD, raw.periods)?,
        weekdays: raw.weekdays,
        holidays: decode_list(file, &HOLIDAY, raw.holidays)?,
    };
    Calendar::new(spec).map_err(|e| fail(&e.entry, e.problem))
}

fn parse_outline<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, OrgError> {
    serde_json::from_str(text).map_err(|e| OrgError::Parse {
        file: file.to_string(),
        message: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------------
// Step 3: the checks across entries.

/// Collects problems, each naming the file, the entry and what is wrong.
struct Problems<'a> {
    file: &'a str,
    found: Vec<OrgError>,
}

impl Problems<'_> {
    fn add(&mut self, entry: impl Into<String>, problem: impl Into<String>) {
        self.found.push(OrgError::Entry {
            file: self.file.to_string(),
            entry: entry.into(),
            problem: problem.into(),
        });
    }

    fn id(&mut self, entry: &str, id: &str) {
        if id.is_empty() {
            self.add(entry, "empty id");
        } else if id.chars().any(|c| c.is_whitespace() || c.is_control()) {
            self.add(
                entry,
                format!("id {id:?} contains a space or control character"),
            );
        }
    }

    fn name(&mut self, entry: &str, what: &str, name: &str) {
        if name.trim().is_empty() {
            self.add(entry, format!("empty {what}"));
        }
    }

    /// `id` of `list[i]` must be the first entry with that id, as recorded in `index`.
    fn unique(
        &mut self,
        entry: &str,
        list: &str,
        i: usize,
        id: &str,
        index: &HashMap<String, usize>,
    ) {
        if let Some(&first) = index.get(id).filter(|&&first| first != i) {
            self.add(
                entry,
                format!("duplicate id: {list}[{first}] has the same id"),
            );
        }
    }

    fn points(&mut self, entry: &str, what: &str, points: &[Point]) {
        for (k, p) in points.iter().enumerate() {
            if !p.is_valid() {
                self.add(
                    entry,
                    format!(
                        "{what} point {k} (lon {}, lat {}) is not a valid position",
                        p.lon, p.lat
                    ),
                );
            }
        }
    }
}

fn at(list: &str, i: usize, id: &str) -> String {
    format!("{list}[{i}] (id {id:?})")
}

/// The kind of scope a role needs ([`super::Capabilities::scope`]).
fn scope_kind_for(role: Role) -> &'static str {
    role.capabilities().scope.as_str()
}

fn describe_scope(scope: &Scope) -> (&'static str, Option<&str>) {
    match scope {
        Scope::Street => ("street", None),
        Scope::Community(id) => ("community", Some(id)),
        Scope::Grid(id) => ("grid", Some(id)),
        Scope::Segment(id) => ("segment", Some(id)),
        Scope::Department(id) => ("department", Some(id)),
    }
}

/// A ring without its closing point (if the last point repeats the first).
fn open_ring(polygon: &[Point]) -> &[Point] {
    match polygon {
        [first, rest @ .., last] if !rest.is_empty() && first == last => {
            &polygon[..polygon.len() - 1]
        }
        _ => polygon,
    }
}

fn first_index<'a>(ids: impl Iterator<Item = &'a str>) -> HashMap<String, usize> {
    let mut index = HashMap::new();
    for (i, id) in ids.enumerate() {
        index.entry(id.to_string()).or_insert(i);
    }
    index
}

impl Roster {
    /// Parses and checks a roster from JSON text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Roster, OrgError> {
        let raw: RosterFile = parse_outline(file, text)?;
        let mut roster = Roster {
            street: decode_entry(file, &STREET, None, raw.street)?,
            roads: decode_list(file, &ROAD, raw.roads)?,
            communities: decode_list(file, &COMMUNITY, raw.communities)?,
            grids: decode_list(file, &GRID, raw.grids)?,
            segments: decode_list(file, &SEGMENT, raw.segments)?,
            departments: decode_list(file, &DEPARTMENT, raw.departments)?,
            people: decode_list(file, &PERSON, raw.people)?,
            index: RosterIndex::default(),
        };
        roster.check_and_index(file)?;
        Ok(roster)
    }

    /// Every problem in the roster, in file order (empty when it is valid). `file` names the
    /// roster in the errors. [`Roster::from_json`] and [`Roster::new`] fail with the first.
    pub fn problems(&self, file: &str) -> Vec<OrgError> {
        self.problems_with(file, &self.build_index())
    }

    pub(super) fn check_and_index(&mut self, file: &str) -> Result<(), OrgError> {
        let index = self.build_index();
        if let Some(first) = self.problems_with(file, &index).into_iter().next() {
            return Err(first);
        }
        self.index = index;
        Ok(())
    }

    /// Rebuilds the lookup indexes without checking (for generated rosters, which tests check).
    pub(super) fn reindex(&mut self) {
        self.index = self.build_index();
    }

    /// The lookup indexes; where ids repeat, the first entry wins.
    fn build_index(&self) -> RosterIndex {
        let mut index = RosterIndex {
            people: first_index(self.people.iter().map(|p| p.id.as_str())),
            grids: first_index(self.grids.iter().map(|g| g.id.as_str())),
            segments: first_index(self.segments.iter().map(|s| s.id.as_str())),
            communities: first_index(self.communities.iter().map(|c| c.id.as_str())),
            departments: first_index(self.departments.iter().map(|d| d.id.as_str())),
            roads: first_index(self.roads.iter().map(|r| r.id.as_str())),
            ..RosterIndex::default()
        };
        for (i, p) in self.people.iter().enumerate() {
            // One per place: only the heads of places are indexed, and only with their scope.
            match p.role.headed_place(&p.scope) {
                Some(Scope::Grid(g)) => {
                    index.grid_worker.entry(g.clone()).or_insert(i);
                }
                Some(Scope::Community(c)) => {
                    index.community_chief.entry(c.clone()).or_insert(i);
                }
                _ => {}
            }
        }
        index
    }

    fn problems_with(&self, file: &str, idx: &RosterIndex) -> Vec<OrgError> {
        let mut out = Problems {
            file,
            found: Vec::new(),
        };

        let s = &self.street;
        let entry = format!("street (id {:?})", s.id);
        out.id(&entry, &s.id);
        out.name(&entry, "name", &s.name);
        let prefix_ok = (1..=8).contains(&s.case_prefix.len())
            && s.case_prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if !prefix_ok {
            out.add(
                &entry,
                format!(
                    "case prefix {:?} must be 1 to 8 capital letters or digits",
                    s.case_prefix
                ),
            );
        }

        for (i, r) in self.roads.iter().enumerate() {
            let entry = at("roads", i, &r.id);
            out.id(&entry, &r.id);
            out.unique(&entry, "roads", i, &r.id, &idx.roads);
            out.name(&entry, "name", &r.name);
        }

        for (i, c) in self.communities.iter().enumerate() {
            let entry = at("communities", i, &c.id);
            out.id(&entry, &c.id);
            out.unique(&entry, "communities", i, &c.id, &idx.communities);
            out.name(&entry, "name", &c.name);
        }

        for (i, g) in self.grids.iter().enumerate() {
            let entry = at("grids", i, &g.id);
            out.id(&entry, &g.id);
            out.unique(&entry, "grids", i, &g.id, &idx.grids);
            out.name(&entry, "name", &g.name);
            if !idx.communities.contains_key(&g.community) {
                out.add(
                    &entry,
                    format!("community {:?} does not exist", g.community),
                );
            }
            let ring = open_ring(&g.polygon);
            if ring.len() < 3 {
                out.add(
                    &entry,
                    format!(
                        "polygon has {} distinct points; a grid needs at least 3",
                        ring.len()
                    ),
                );
            } else if g.polygon.iter().all(|p| p.is_valid()) {
                if polygon_area_m2(ring) < 1.0 {
                    out.add(
                        &entry,
                        "polygon encloses no area (its points are in a line)",
                    );
                }
            } else {
                out.points(&entry, "polygon", &g.polygon);
            }
        }

        for (i, sg) in self.segments.iter().enumerate() {
            let entry = at("segments", i, &sg.id);
            out.id(&entry, &sg.id);
            out.unique(&entry, "segments", i, &sg.id, &idx.segments);
            out.name(&entry, "name", &sg.name);
            if !idx.roads.contains_key(&sg.road) {
                out.add(&entry, format!("road {:?} does not exist", sg.road));
            }
            if !idx.communities.contains_key(&sg.community) {
                out.add(
                    &entry,
                    format!("community {:?} does not exist", sg.community),
                );
            }
            if sg.polyline.len() < 2 {
                out.add(
                    &entry,
                    format!(
                        "polyline has {} points; a segment needs at least 2",
                        sg.polyline.len()
                    ),
                );
            } else if sg.polyline.iter().all(|p| p.is_valid()) {
                if polyline_length_m(&sg.polyline) < 1.0 {
                    out.add(&entry, "polyline has no length (its points coincide)");
                }
            } else {
                out.points(&entry, "polyline", &sg.polyline);
            }
        }

        for (i, d) in self.departments.iter().enumerate() {
            let entry = at("departments", i, &d.id);
            out.id(&entry, &d.id);
            out.unique(&entry, "departments", i, &d.id, &idx.departments);
            out.name(&entry, "name", &d.name);
        }

        // Who holds the one-per-place roles, to find the second holder and the places without.
        let mut grid_worker: HashMap<&str, usize> = HashMap::new();
        let mut community_chief: HashMap<&str, usize> = HashMap::new();
        for (i, p) in self.people.iter().enumerate() {
            let entry = at("people", i, &p.id);
            out.id(&entry, &p.id);
            out.unique(&entry, "people", i, &p.id, &idx.people);
            out.name(&entry, "name", &p.name);
            let phone_ok = p
                .phone
                .chars()
                .all(|c| c.is_ascii_digit() || " -+()".contains(c));
            if !phone_ok {
                out.add(
                    &entry,
                    format!(
                        "phone {:?} may hold only digits, spaces, '-', '+' and parentheses",
                        p.phone
                    ),
                );
            }
            let needed = scope_kind_for(p.role);
            let (kind, id) = describe_scope(&p.scope);
            if kind != needed {
                let found = match id {
                    Some(id) => format!("{kind} {id:?}"),
                    None => kind.to_string(),
                };
                out.add(
                    &entry,
                    format!(
                        "role {} needs a {needed} scope, found {found}",
                        p.role.as_str()
                    ),
                );
                continue;
            }
            let exists = match &p.scope {
                Scope::Street => true,
                Scope::Community(c) => idx.communities.contains_key(c),
                Scope::Grid(g) => idx.grids.contains_key(g),
                Scope::Segment(s) => idx.segments.contains_key(s),
                Scope::Department(d) => idx.departments.contains_key(d),
            };
            if !exists {
                out.add(
                    &entry,
                    format!("scope {kind} {:?} does not exist", id.unwrap_or_default()),
                );
                continue;
            }
            // Only the heads of places are one per place.
            let holders = match p.role.headed_place(&p.scope) {
                Some(Scope::Grid(g)) => Some((&mut grid_worker, "grid", g.as_str(), "grid worker")),
                Some(Scope::Community(c)) => Some((
                    &mut community_chief,
                    "community",
                    c.as_str(),
                    "community grid chief",
                )),
                _ => None,
            };
            if let Some((holders, kind, place, what)) = holders {
                match holders.entry(place) {
                    Entry::Vacant(v) => {
                        v.insert(i);
                    }
                    Entry::Occupied(o) => {
                        let first = *o.get();
                        out.add(
                            &entry,
                            format!(
                                "{kind} {place:?} already has a {what}: {}; there must be exactly one",
                                at("people", first, &self.people[first].id)
                            ),
                        );
                    }
                }
            }
        }
        for (i, g) in self.grids.iter().enumerate() {
            if idx.grids.get(&g.id) == Some(&i) && !grid_worker.contains_key(g.id.as_str()) {
                out.add(
                    at("grids", i, &g.id),
                    "the grid has no grid worker (a person with role grid_worker and this grid as scope)",
                );
            }
        }
        // What is missing comes last: it is often the consequence of an error above.
        for (i, c) in self.communities.iter().enumerate() {
            if idx.communities.get(&c.id) == Some(&i)
                && !self.grids.iter().any(|g| g.community == c.id)
            {
                out.add(at("communities", i, &c.id), "the community has no grids");
            }
        }
        for (i, c) in self.communities.iter().enumerate() {
            if idx.communities.get(&c.id) == Some(&i)
                && !community_chief.contains_key(c.id.as_str())
            {
                out.add(
                    at("communities", i, &c.id),
                    "the community has no community grid chief (a person with role community_chief and this community as scope)",
                );
            }
        }
        out.found
    }
}

impl Catalogue {
    /// Parses and checks a catalogue from JSON text; `file` names it in errors.
    pub fn from_json(file: &str, text: &str) -> Result<Catalogue, OrgError> {
        let raw: CatalogueFile = parse_outline(file, text)?;
        let calendar = match raw.calendar {
            Some(v) => decode_calendar(file, v)?,
            None => Calendar::default(),
        };
        let categories: Vec<Category> = decode_list(file, &CATEGORY, raw.categories)?;
        let mut catalogue = Catalogue::from(CatalogueData {
            calendar,
            categories,
        });
        catalogue.source = file.to_string();
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Builds a catalogue and checks it as [`Catalogue::from_json`] does.
    pub fn try_new(categories: Vec<Category>) -> Result<Catalogue, OrgError> {
        let catalogue = Catalogue::new(categories);
        catalogue.check()?;
        Ok(catalogue)
    }

    /// Fails with the first of [`Catalogue::problems`].
    pub fn check(&self) -> Result<(), OrgError> {
        match self.problems().into_iter().next() {
            Some(first) => Err(first),
            None => Ok(()),
        }
    }

    /// Every problem in the catalogue on its own, in file order (empty when it is valid):
    /// duplicate or malformed codes, a big code that is not a prefix of the code, a big code
    /// used with two names or kinds, empty names, a time limit of zero or of more than a year,
    /// joint enforcement without a department.
    pub fn problems(&self) -> Vec<OrgError> {
        let mut out = Problems {
            file: &self.source,
            found: Vec::new(),
        };
        // The first category of each big code fixes its name and kind.
        let mut big: HashMap<&str, usize> = HashMap::new();
        for (i, c) in self.categories.iter().enumerate() {
            let entry = format!("categories[{i}] (code {:?})", c.code);
            if c.code.is_empty() || !c.code.chars().all(|ch| ch.is_ascii_alphanumeric()) {
                out.add(
                    &entry,
                    format!("code {:?} must be ASCII letters and digits", c.code),
                );
            }
            if let Some(&first) = self.index.get(&c.code).filter(|&&first| first != i) {
                out.add(
                    &entry,
                    format!("duplicate code: categories[{first}] has the same code"),
                );
            }
            if c.big_code.is_empty()
                || c.big_code.len() >= c.code.len()
                || !c.code.starts_with(&c.big_code)
            {
                out.add(
                    &entry,
                    format!(
                        "big code {:?} must be a shorter prefix of code {:?}",
                        c.big_code, c.code
                    ),
                );
            }
            match big.entry(c.big_code.as_str()) {
                Entry::Vacant(v) => {
                    v.insert(i);
                }
                Entry::Occupied(o) => {
                    let first = &self.categories[*o.get()];
                    if first.big_name != c.big_name || first.kind != c.kind {
                        out.add(
                            &entry,
                            format!(
                                "big category {:?} is {:?} {} in categories[{}], not {:?} {}",
                                c.big_code,
                                first.kind,
                                first.big_name,
                                o.get(),
                                c.kind,
                                c.big_name
                            ),
                        );
                    }
                }
            }
            out.name(&entry, "name", &c.name);
            out.name(&entry, "big category name", &c.big_name);
            if c.limit_hours == 0 {
                out.add(&entry, "time limit must be at least 1 hour");
            } else if c.limit_hours > MAX_LIMIT_HOURS {
                out.add(
                    &entry,
                    format!(
                        "time limit of {} hours is more than a year ({MAX_LIMIT_HOURS} hours)",
                        c.limit_hours
                    ),
                );
            }
            match c.department.as_deref() {
                Some(d) => out.id(&entry, d),
                None if c.level == Level::JointEnforcement => out.add(
                    &entry,
                    "level joint_enforcement needs a department to lead it",
                ),
                None => {}
            }
        }
        out.found
    }

    /// Checks that every department the catalogue names exists in `roster`.
    pub fn check_against(&self, roster: &Roster) -> Result<(), OrgError> {
        for (i, c) in self.categories.iter().enumerate() {
            if let Some(d) = c.department.as_deref()
                && roster.department(d).is_none()
            {
                return Err(OrgError::Entry {
                    file: self.source.clone(),
                    entry: format!("categories[{i}] (code {:?})", c.code),
                    problem: format!(
                        "department {d:?} does not exist in the roster of {}",
                        roster.street.name
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
