//! Tests of loading and checking: one per problem an administrator can make, each asserting
//! that the message names the file, the entry and the problem.

use super::*;
use crate::org::{
    Category, CategoryKind, Community, Department, Grid, Person, Road, RoadSegment, Street,
};
use serde_json::json;

const FILE: &str = "roster-test.json";
const CAT_FILE: &str = "catalogue-test.json";

fn square(lon: f64, lat: f64) -> Value {
    json!([
        {"lon": lon, "lat": lat},
        {"lon": lon + 0.001, "lat": lat},
        {"lon": lon + 0.001, "lat": lat + 0.001},
        {"lon": lon, "lat": lat + 0.001}
    ])
}

fn person(id: &str, role: &str, scope: Value) -> Value {
    json!({"id": id, "name": "王伟", "phone": "138-0000-0000", "role": role, "scope": scope})
}

/// A small valid roster: two communities with one grid each, one segment, one department and
/// a person in every role.
fn base() -> Value {
    json!({
        "street": {"id": "t", "name": "测试街道", "case_prefix": "T"},
        "roads": [{"id": "r1", "name": "振兴街", "main": true}],
        "communities": [{"id": "c1", "name": "兴隆社区"}, {"id": "c2", "name": "振兴社区"}],
        "grids": [
            {"id": "g1", "name": "一网格", "community": "c1", "polygon": square(122.0, 41.0)},
            {"id": "g2", "name": "二网格", "community": "c2", "polygon": square(122.001, 41.0)}
        ],
        "segments": [{
            "id": "s1", "name": "振兴街一段", "road": "r1", "community": "c1",
            "polyline": [{"lon": 122.0, "lat": 41.0}, {"lon": 122.002, "lat": 41.0}]
        }],
        "departments": [{"id": "police", "name": "派出所"}],
        "people": [
            person("center-1", "street_center", json!({"kind": "street"})),
            person("official-1", "street_official", json!({"kind": "street"})),
            person("cc-1", "community_chief", json!({"kind": "community", "id": "c1"})),
            person("cc-2", "community_chief", json!({"kind": "community", "id": "c2"})),
            person("gw-1", "grid_worker", json!({"kind": "grid", "id": "g1"})),
            person("gw-2", "grid_worker", json!({"kind": "grid", "id": "g2"})),
            person("inf-1", "grid_informant", json!({"kind": "grid", "id": "g1"})),
            person("sc-1", "party_street_chief", json!({"kind": "segment", "id": "s1"})),
            person("sc-2", "merchant_street_chief", json!({"kind": "segment", "id": "s1"})),
            person("dept-1", "department_staff", json!({"kind": "department", "id": "police"})),
            person("vol-1", "volunteer", json!({"kind": "community", "id": "c1"})),
            person("res-1", "resident", json!({"kind": "grid", "id": "g2"}))
        ]
    })
}

fn load(v: &Value) -> Result<Roster, OrgError> {
    Roster::from_json(FILE, &v.to_string())
}

/// Loading `v` fails on `entry` with a problem containing `problem`; the message says both.
#[track_caller]
fn fails(v: &Value, entry: &str, problem: &str) {
    match load(v) {
        Err(e @ OrgError::Entry { .. }) => {
            let OrgError::Entry {
                file,
                entry: e_entry,
                problem: e_problem,
            } = &e
            else {
                unreachable!()
            };
            assert_eq!(file, FILE);
            assert_eq!(e_entry, entry, "{e}");
            assert!(e_problem.contains(problem), "{e}");
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("{FILE}: {entry}: ")),
                "{message}"
            );
        }
        other => panic!("expected an entry error on {entry}, got {other:?}"),
    }
}

fn people(v: &mut Value) -> &mut Vec<Value> {
    match v.get_mut("people").and_then(Value::as_array_mut) {
        Some(list) => list,
        None => panic!("base has people"),
    }
}

#[test]
fn the_base_roster_loads_and_indexes() {
    let r = load(&base());
    let Ok(r) = r else { panic!("{r:?}") };
    assert_eq!(r.grid_worker_of("g2").map(|p| p.id.as_str()), Some("gw-2"));
    assert_eq!(
        r.community_chief_of("c1").map(|p| p.id.as_str()),
        Some("cc-1")
    );
    assert_eq!(r.road("r1").map(|x| x.name.as_str()), Some("振兴街"));
    assert_eq!(r.street_chiefs_of("s1").len(), 2);
    assert!(r.problems(FILE).is_empty());
}

#[test]
fn syntax_errors_name_the_file_line_and_column() {
    let text = base().to_string().replacen('{', "{,", 2);
    match Roster::from_json(FILE, &text) {
        Err(e @ OrgError::Parse { .. }) => {
            let m = e.to_string();
            assert!(m.starts_with(FILE) && m.contains("line 1 column"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_missing_or_unknown_list_is_a_parse_error() {
    let mut v = base();
    v.as_object_mut().map(|m| m.remove("people"));
    let e = load(&v).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.starts_with(FILE) && e.contains("missing field `people`"),
        "{e}"
    );

    let mut v = base();
    v.as_object_mut()
        .map(|m| m.insert("peeple".into(), json!([])));
    let e = load(&v).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.starts_with(FILE) && e.contains("unknown field `peeple`"),
        "{e}"
    );
}

#[test]
fn unknown_role_names_the_entry_and_lists_the_roles() {
    let mut v = base();
    people(&mut v)[4]["role"] = json!("gridworker");
    fails(
        &v,
        r#"people[4] (id "gw-1")"#,
        r#"unknown role "gridworker""#,
    );
    fails(
        &v,
        r#"people[4] (id "gw-1")"#,
        "grid_worker, grid_informant",
    );
}

#[test]
fn unknown_scope_kind_and_scope_field() {
    let mut v = base();
    people(&mut v)[4]["scope"] = json!({"kind": "grids", "id": "g1"});
    fails(
        &v,
        r#"people[4] (id "gw-1")"#,
        r#"unknown scope kind "grids""#,
    );
    let mut v = base();
    people(&mut v)[4]["scope"] = json!({"kind": "grid", "grid": "g1"});
    fails(
        &v,
        r#"people[4] (id "gw-1")"#,
        r#"unknown field "grid" in scope"#,
    );
}

#[test]
fn unknown_fields_wrong_types_and_non_objects() {
    let mut v = base();
    v["grids"][1]["comunity"] = json!("c2");
    fails(&v, r#"grids[1] (id "g2")"#, r#"unknown field "comunity""#);
    let mut v = base();
    v["roads"][0]["main"] = json!("yes");
    fails(&v, r#"roads[0] (id "r1")"#, "invalid type: string");
    let mut v = base();
    v["departments"][0] = json!("police");
    fails(&v, "departments[0]", "expected an object, found a string");
    let mut v = base();
    v["segments"][0]["polyline"][1] = json!({"lon": 122.0});
    fails(&v, r#"segments[0] (id "s1")"#, "missing field `lat`");
    let mut v = base();
    people(&mut v)[2].as_object_mut().map(|m| m.remove("id"));
    fails(&v, "people[2]", "missing field `id`");
    let mut v = base();
    v["street"]["prefix"] = json!("T");
    fails(&v, r#"street (id "t")"#, r#"unknown field "prefix""#);
}

#[test]
fn duplicate_ids_in_every_list() {
    let cases: [(&str, usize, &str); 6] = [
        ("roads", 0, "r1"),
        ("communities", 0, "c1"),
        ("grids", 0, "g1"),
        ("segments", 0, "s1"),
        ("departments", 0, "police"),
        ("people", 4, "gw-1"),
    ];
    for (list, i, id) in cases {
        let mut v = base();
        let Some(items) = v[list].as_array_mut() else {
            panic!("{list}")
        };
        let copy = items[i].clone();
        items.push(copy);
        let n = items.len() - 1;
        fails(
            &v,
            &format!("{list}[{n}] (id {id:?})"),
            &format!("duplicate id: {list}[{i}] has the same id"),
        );
    }
}

#[test]
fn dangling_references() {
    let mut v = base();
    v["grids"][1]["community"] = json!("c9");
    fails(
        &v,
        r#"grids[1] (id "g2")"#,
        r#"community "c9" does not exist"#,
    );
    let mut v = base();
    v["segments"][0]["road"] = json!("r9");
    fails(
        &v,
        r#"segments[0] (id "s1")"#,
        r#"road "r9" does not exist"#,
    );
    let mut v = base();
    v["segments"][0]["community"] = json!("c9");
    fails(
        &v,
        r#"segments[0] (id "s1")"#,
        r#"community "c9" does not exist"#,
    );
    let scopes = [
        (6, "grid", "g9"),
        (7, "segment", "s9"),
        (10, "community", "c9"),
        (9, "department", "fire"),
    ];
    for (i, kind, id) in scopes {
        let mut v = base();
        let pid = people(&mut v)[i]["id"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        people(&mut v)[i]["scope"] = json!({"kind": kind, "id": id});
        fails(
            &v,
            &format!("people[{i}] (id {pid:?})"),
            &format!("scope {kind} {id:?} does not exist"),
        );
    }
}

#[test]
fn every_role_needs_its_kind_of_scope() {
    let wrong_scope = json!({"kind": "segment", "id": "s1"});
    let street_chief_wrong = json!({"kind": "grid", "id": "g1"});
    for role in Role::ALL {
        let needed = scope_kind_for(role);
        let (scope, found) = if needed == "segment" {
            (street_chief_wrong.clone(), r#"grid "g1""#)
        } else {
            (wrong_scope.clone(), r#"segment "s1""#)
        };
        let mut v = base();
        people(&mut v).push(person("x-1", role.as_str(), scope));
        let n = people(&mut v).len() - 1;
        fails(
            &v,
            &format!(r#"people[{n}] (id "x-1")"#),
            &format!(
                "role {} needs a {needed} scope, found {found}",
                role.as_str()
            ),
        );
    }
    // A street role with a place scope, and a place role with the street scope.
    let mut v = base();
    people(&mut v)[0]["scope"] = json!({"kind": "community", "id": "c1"});
    fails(&v, r#"people[0] (id "center-1")"#, "needs a street scope");
    let mut v = base();
    people(&mut v)[6]["scope"] = json!({"kind": "street"});
    fails(
        &v,
        r#"people[6] (id "inf-1")"#,
        "role grid_informant needs a grid scope, found street",
    );
}

#[test]
fn exactly_one_grid_worker_per_grid() {
    let mut v = base();
    people(&mut v).push(person(
        "gw-3",
        "grid_worker",
        json!({"kind": "grid", "id": "g1"}),
    ));
    fails(
        &v,
        r#"people[12] (id "gw-3")"#,
        r#"grid "g1" already has a grid worker: people[4] (id "gw-1")"#,
    );
    let mut v = base();
    people(&mut v).remove(5);
    fails(&v, r#"grids[1] (id "g2")"#, "the grid has no grid worker");
}

#[test]
fn exactly_one_chief_per_community_and_at_least_one_grid() {
    let mut v = base();
    people(&mut v).push(person(
        "cc-3",
        "community_chief",
        json!({"kind": "community", "id": "c2"}),
    ));
    fails(
        &v,
        r#"people[12] (id "cc-3")"#,
        r#"community "c2" already has a community grid chief: people[3] (id "cc-2")"#,
    );
    let mut v = base();
    people(&mut v).remove(3);
    fails(&v, r#"communities[1] (id "c2")"#, "no community grid chief");
    let mut v = base();
    if let Some(c) = v["communities"].as_array_mut() {
        c.push(json!({"id": "c3", "name": "空社区"}));
    }
    fails(
        &v,
        r#"communities[2] (id "c3")"#,
        "the community has no grids",
    );
}

#[test]
fn bad_polygons() {
    let mut v = base();
    v["grids"][0]["polygon"] = json!([{"lon": 122.0, "lat": 41.0}, {"lon": 122.001, "lat": 41.0}]);
    fails(
        &v,
        r#"grids[0] (id "g1")"#,
        "polygon has 2 distinct points; a grid needs at least 3",
    );
    // A closing point that repeats the first does not count.
    let mut v = base();
    v["grids"][0]["polygon"] = json!([
        {"lon": 122.0, "lat": 41.0}, {"lon": 122.001, "lat": 41.0}, {"lon": 122.0, "lat": 41.0}
    ]);
    fails(&v, r#"grids[0] (id "g1")"#, "polygon has 2 distinct points");
    let mut v = base();
    v["grids"][0]["polygon"][2] = json!({"lon": 222.0, "lat": 41.001});
    fails(
        &v,
        r#"grids[0] (id "g1")"#,
        "polygon point 2 (lon 222, lat 41.001) is not a valid position",
    );
    let mut v = base();
    v["grids"][0]["polygon"] = json!([
        {"lon": 122.0, "lat": 41.0}, {"lon": 122.001, "lat": 41.0}, {"lon": 122.002, "lat": 41.0}
    ]);
    fails(&v, r#"grids[0] (id "g1")"#, "polygon encloses no area");
}

#[test]
fn bad_polylines() {
    let mut v = base();
    v["segments"][0]["polyline"] = json!([{"lon": 122.0, "lat": 41.0}]);
    fails(
        &v,
        r#"segments[0] (id "s1")"#,
        "polyline has 1 points; a segment needs at least 2",
    );
    let mut v = base();
    v["segments"][0]["polyline"][1] = json!({"lon": 122.0, "lat": 91.0});
    fails(
        &v,
        r#"segments[0] (id "s1")"#,
        "polyline point 1 (lon 122, lat 91) is not a valid position",
    );
    let mut v = base();
    v["segments"][0]["polyline"][1] = json!({"lon": 122.0, "lat": 41.0});
    fails(&v, r#"segments[0] (id "s1")"#, "polyline has no length");
}

#[test]
fn non_finite_coordinates_in_a_roster_built_in_code() {
    let Ok(r) = load(&base()) else {
        panic!("base loads")
    };
    let mut grids = r.grids.clone();
    grids[1].polygon[0].lat = f64::NAN;
    let mut segments = r.segments.clone();
    segments[0].polyline[0].lon = f64::INFINITY;
    let built = Roster::new(
        r.street.clone(),
        r.roads.clone(),
        r.communities.clone(),
        grids,
        segments,
        r.departments.clone(),
        r.people.clone(),
    );
    let e = built.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        e.starts_with(r#"<memory>: grids[1] (id "g2"): polygon point 0 (lon 122.001, lat NaN)"#),
        "{e}"
    );
}

#[test]
fn empty_ids_and_names_and_spaces_in_ids() {
    let mut v = base();
    v["communities"][1]["name"] = json!("  ");
    fails(&v, r#"communities[1] (id "c2")"#, "empty name");
    let mut v = base();
    v["roads"][0]["id"] = json!("");
    fails(&v, r#"roads[0] (id "")"#, "empty id");
    let mut v = base();
    people(&mut v)[1]["id"] = json!("official 1");
    fails(&v, r#"people[1] (id "official 1")"#, "contains a space");
    let mut v = base();
    v["street"]["name"] = json!("");
    fails(&v, r#"street (id "t")"#, "empty name");
}

#[test]
fn case_prefix_and_phone() {
    let mut v = base();
    v["street"]["case_prefix"] = json!("zx-");
    fails(
        &v,
        r#"street (id "t")"#,
        r#"case prefix "zx-" must be 1 to 8 capital letters or digits"#,
    );
    let mut v = base();
    people(&mut v)[0]["phone"] = json!("call me");
    fails(
        &v,
        r#"people[0] (id "center-1")"#,
        r#"phone "call me" may hold only digits"#,
    );
    // No phone at all is allowed (an informant may not give one).
    let mut v = base();
    people(&mut v)[6]["phone"] = json!("");
    assert!(load(&v).is_ok());
}

#[test]
fn problems_lists_every_problem_in_file_order() {
    let mut v = base();
    v["grids"][1]["community"] = json!("c9");
    people(&mut v)[0]["phone"] = json!("x");
    people(&mut v).push(person(
        "gw-1",
        "grid_worker",
        json!({"kind": "grid", "id": "g2"}),
    ));
    let Ok(r) = serde_json::from_value::<Roster>(v) else {
        panic!("decodes");
    };
    let found: Vec<String> = r.problems(FILE).iter().map(|e| e.to_string()).collect();
    assert_eq!(found.len(), 5, "{found:#?}");
    assert!(found[0].contains(r#"grids[1] (id "g2"): community "c9""#));
    assert!(found[1].contains(r#"people[0] (id "center-1"): phone"#));
    assert!(found[2].contains(r#"people[12] (id "gw-1"): duplicate id: people[4]"#));
    assert!(found[3].contains(r#"people[12] (id "gw-1"): grid "g2" already has a grid worker"#));
    // What is missing comes last, after its likely cause.
    assert!(found[4].contains(r#"communities[1] (id "c2"): the community has no grids"#));
}

#[test]
fn errors_name_the_file_the_text_came_from() -> Result<(), Box<dyn std::error::Error>> {
    let good = std::path::Path::new("/srv/street/roster.json");
    assert!(Roster::from_json(&good.display().to_string(), &base().to_string()).is_ok());
    let mut v = base();
    v["grids"][0]["community"] = json!("c9");
    let bad = std::path::Path::new("/srv/street/bad.json");
    let e = Roster::from_json(&bad.display().to_string(), &v.to_string())
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with(&format!("{}: grids[0]", bad.display())),
        "{e}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Catalogues.

fn category(code: &str, big: &str, name: &str) -> Value {
    json!({
        "code": code, "kind": "event", "big_code": big, "big_name": "街面秩序", "name": name,
        "level": "grid", "limit_hours": 24, "department": "police"
    })
}

fn cat_base() -> Value {
    json!({"categories": [
        category("020501", "0205", "占道经营"),
        category("020502", "0205", "店外经营"),
        category("020503", "0205", "违章停车")
    ]})
}

fn cat_load(v: &Value) -> Result<Catalogue, OrgError> {
    Catalogue::from_json(CAT_FILE, &v.to_string())
}

#[track_caller]
fn cat_fails(v: &Value, entry: &str, problem: &str) {
    match cat_load(v) {
        Err(e @ OrgError::Entry { .. }) => {
            let m = e.to_string();
            assert!(m.starts_with(&format!("{CAT_FILE}: {entry}: ")), "{m}");
            assert!(m.contains(problem), "{m}");
        }
        other => panic!("expected an entry error on {entry}, got {other:?}"),
    }
}

#[test]
fn a_valid_catalogue_loads_and_indexes() {
    let c = cat_load(&cat_base());
    let Ok(c) = c else { panic!("{c:?}") };
    assert_eq!(c.get("020502").map(|x| x.name.as_str()), Some("店外经营"));
    assert!(c.get("999999").is_none());
    assert_eq!(c.len(), 3);
}

#[test]
fn catalogue_entry_problems() {
    let mut v = cat_base();
    v["categories"][2]["code"] = json!("020501");
    cat_fails(
        &v,
        r#"categories[2] (code "020501")"#,
        "duplicate code: categories[0] has the same code",
    );
    let mut v = cat_base();
    v["categories"][1]["big_code"] = json!("0206");
    cat_fails(
        &v,
        r#"categories[1] (code "020502")"#,
        r#"big code "0206" must be a shorter prefix of code "020502""#,
    );
    let mut v = cat_base();
    v["categories"][1]["big_code"] = json!("020502");
    cat_fails(&v, r#"categories[1] (code "020502")"#, "shorter prefix");
    let mut v = cat_base();
    v["categories"][2]["big_name"] = json!("市容环境");
    cat_fails(
        &v,
        r#"categories[2] (code "020503")"#,
        r#"big category "0205" is Event 街面秩序 in categories[0]"#,
    );
    let mut v = cat_base();
    v["categories"][2]["kind"] = json!("component");
    cat_fails(
        &v,
        r#"categories[2] (code "020503")"#,
        "not Component 街面秩序",
    );
    let mut v = cat_base();
    v["categories"][0]["limit_hours"] = json!(0);
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        "time limit must be at least 1 hour",
    );
    let mut v = cat_base();
    v["categories"][0]["limit_hours"] = json!(10_000);
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        "time limit of 10000 hours is more than a year",
    );
    let mut v = cat_base();
    v["categories"][0]["limit_hours"] = json!(-2);
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        "invalid value: integer `-2`",
    );
    let mut v = cat_base();
    v["categories"][1]["name"] = json!("");
    cat_fails(&v, r#"categories[1] (code "020502")"#, "empty name");
    let mut v = cat_base();
    v["categories"][1]["code"] = json!("02-05-02");
    cat_fails(
        &v,
        r#"categories[1] (code "02-05-02")"#,
        "must be ASCII letters and digits",
    );
    let mut v = cat_base();
    v["categories"][0]["level"] = json!("joint_enforcement");
    v["categories"][0]["department"] = Value::Null;
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        "level joint_enforcement needs a department",
    );
    let mut v = cat_base();
    v["categories"][0]["level"] = json!("district");
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        r#"unknown level "district" (expected one of: grid, community, street, joint_enforcement)"#,
    );
    let mut v = cat_base();
    v["categories"][0]["kind"] = json!("incident");
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        r#"unknown category kind "incident""#,
    );
    let mut v = cat_base();
    v["categories"][0]["departmnet"] = json!("police");
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        r#"unknown field "departmnet""#,
    );
}

// ---------------------------------------------------------------------------------------------
// The calendar published with a catalogue.

#[test]
fn a_catalogue_without_a_calendar_gets_the_default_one_and_clock() {
    let Ok(c) = cat_load(&cat_base()) else {
        panic!("cat loads")
    };
    assert_eq!(c.calendar, crate::org::Calendar::china_2026());
    assert_eq!(c.categories[0].clock, crate::org::LimitClock::Working);
    // Written back, a working clock is left out and the calendar is spelt out.
    let v = serde_json::to_value(&c).unwrap();
    assert!(v["categories"][0].get("clock").is_none());
    assert_eq!(v["calendar"]["utc_offset"], "+08:00");
    let again = cat_load(&v).unwrap();
    assert_eq!(again, c);
}

#[test]
fn a_catalogue_carries_its_own_calendar_and_natural_clocks() {
    let mut v = cat_base();
    v["calendar"] = json!({
        "utc_offset": "+08:00",
        "periods": [{"start": "09:00", "end": "17:00"}],
        "weekdays": ["mon", "tue", "wed", "thu", "fri", "sat"],
        "holidays": [{"name": "国庆节", "from": "2027-10-01", "to": "2027-10-07"}]
    });
    v["categories"][1]["clock"] = json!("natural");
    let Ok(c) = cat_load(&v) else {
        panic!("cat loads")
    };
    assert_eq!(c.calendar.minutes_per_day(), 480);
    assert_eq!(c.categories[1].clock, crate::org::LimitClock::Natural);
    assert_eq!(c.calendar.spec().holidays[0].workdays, Vec::<String>::new());
    // The deadline of a category counts on its clock in this calendar.
    // 2026-11-28 16:00 +08:00, a working Saturday here; 24 working hours are 1 h on Saturday,
    // 8 h on Monday and Tuesday, and 7 h on Wednesday: Wednesday 16:00.
    let sat_16h = 1_795_852_800_000;
    assert_eq!(
        c.deadline("020501", sat_16h),
        Some(sat_16h + 4 * 86_400_000)
    );
    assert_eq!(
        c.deadline("020502", sat_16h),
        Some(sat_16h + 24 * 3_600_000)
    );
    assert_eq!(c.deadline("999999", sat_16h), None);
}

#[test]
fn calendar_problems_name_the_file_and_the_entry() {
    let with = |calendar: Value| {
        let mut v = cat_base();
        v["calendar"] = calendar;
        v
    };
    let good = || serde_json::to_value(crate::org::Calendar::china_2026_spec()).unwrap();

    let mut c = good();
    c["holidays"][6]["from"] = json!("2026-13-01");
    cat_fails(
        &with(c),
        r#"calendar.holidays[6] (name "国庆节")"#,
        r#"from "2026-13-01" is not a date (expected YYYY-MM-DD)"#,
    );
    let mut c = good();
    c["periods"][0]["end"] = json!("08:00");
    cat_fails(
        &with(c),
        r#"calendar.periods[0] (start "08:30")"#,
        "the period ends at 08:00, not after it starts at 08:30",
    );
    let mut c = good();
    c["periods"][1]["start"] = json!("11:00");
    cat_fails(
        &with(c),
        r#"calendar.periods[1] (start "11:00")"#,
        "overlaps calendar.periods[0] (08:30–12:00)",
    );
    let mut c = good();
    c["holidays"][0]["workdays"] = json!(["2026-01-04", "2026-01-03"]);
    cat_fails(
        &with(c),
        r#"calendar.holidays[0] (name "元旦")"#,
        "2026-01-03 is both a make-up working day here and a day off",
    );
    let mut c = good();
    c["weekdays"] = json!(["monday"]);
    cat_fails(
        &with(c),
        "calendar.weekdays[0]",
        r#"unknown weekday "monday""#,
    );
    let mut c = good();
    c["holidays"][2]["until"] = json!("2026-04-06");
    cat_fails(
        &with(c),
        r#"calendar.holidays[2] (name "清明节")"#,
        r#"unknown field "until" (expected: name, from, to, workdays)"#,
    );
    let mut c = good();
    c["periods"][0]["stop"] = json!("12:00");
    cat_fails(
        &with(c),
        r#"calendar.periods[0] (start "08:30")"#,
        r#"unknown field "stop""#,
    );
    let mut c = good();
    c["timezone"] = json!("Asia/Shanghai");
    cat_fails(&with(c), "calendar", r#"unknown field "timezone""#);
    let mut c = good();
    c.as_object_mut().unwrap().remove("weekdays");
    cat_fails(&with(c), "calendar", "missing field `weekdays`");
    cat_fails(
        &with(json!([])),
        "calendar",
        "expected an object, found a list",
    );
    let mut v = cat_base();
    v["categories"][0]["clock"] = json!("wall");
    cat_fails(
        &v,
        r#"categories[0] (code "020501")"#,
        r#"unknown clock "wall" (expected one of: working, natural)"#,
    );
}

#[test]
fn catalogue_parse_errors_name_the_file() {
    let e = Catalogue::from_json(CAT_FILE, "{\"categories\": [")
        .err()
        .map(|e| e.to_string());
    assert!(
        e.as_deref()
            .is_some_and(|m| m.starts_with(CAT_FILE) && m.contains("line 1")),
        "{e:?}"
    );
    let e = Catalogue::from_json(CAT_FILE, "[]")
        .err()
        .map(|e| e.to_string());
    assert!(
        e.as_deref().is_some_and(|m| m.starts_with(CAT_FILE)),
        "{e:?}"
    );
}

#[test]
fn catalogue_departments_are_checked_against_the_roster() {
    let Ok(roster) = load(&base()) else {
        panic!("base loads")
    };
    let Ok(c) = cat_load(&cat_base()) else {
        panic!("cat loads")
    };
    assert!(c.check_against(&roster).is_ok());
    let mut v = cat_base();
    v["categories"][1]["department"] = json!("fire");
    let Ok(c) = cat_load(&v) else {
        panic!("cat loads")
    };
    let e = c
        .check_against(&roster)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with(&format!(
            r#"{CAT_FILE}: categories[1] (code "020502"): department "fire" does not exist"#
        )),
        "{e}"
    );
}

#[test]
fn try_new_checks_and_new_keeps_the_first_of_duplicate_codes() {
    let Ok(c) = cat_load(&cat_base()) else {
        panic!("cat loads")
    };
    let mut cats = c.categories.clone();
    let mut dup = cats[0].clone();
    dup.name = "重复".into();
    cats.push(dup);
    assert_eq!(
        Catalogue::new(cats.clone())
            .get("020501")
            .map(|x| x.name.as_str()),
        Some("占道经营")
    );
    let e = Catalogue::try_new(cats)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with(r#"<memory>: categories[3] (code "020501"): duplicate code"#),
        "{e}"
    );
}

// ---------------------------------------------------------------------------------------------
// The field lists used to spot misspelt fields must match the types.

fn keys(v: Value) -> Vec<String> {
    match v {
        Value::Object(m) => m.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn sorted(fields: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = fields.iter().map(|s| s.to_string()).collect();
    v.sort();
    v
}

#[test]
fn field_lists_match_the_serialized_types() -> Result<(), serde_json::Error> {
    let p = Point { lon: 1.0, lat: 2.0 };
    let check = |v: Value, fields: &[&str]| {
        let mut k = keys(v);
        k.sort();
        assert_eq!(k, sorted(fields));
    };
    check(
        serde_json::to_value(Street {
            id: "a".into(),
            name: "b".into(),
            case_prefix: "C".into(),
        })?,
        STREET_FIELDS,
    );
    check(
        serde_json::to_value(Road {
            id: "a".into(),
            name: "b".into(),
            main: true,
        })?,
        ROAD_FIELDS,
    );
    check(
        serde_json::to_value(Community {
            id: "a".into(),
            name: "b".into(),
        })?,
        COMMUNITY_FIELDS,
    );
    check(
        serde_json::to_value(Grid {
            id: "a".into(),
            name: "b".into(),
            community: "c".into(),
            polygon: vec![p],
        })?,
        GRID_FIELDS,
    );
    check(
        serde_json::to_value(RoadSegment {
            id: "a".into(),
            name: "b".into(),
            road: "r".into(),
            community: "c".into(),
            polyline: vec![p],
        })?,
        SEGMENT_FIELDS,
    );
    check(
        serde_json::to_value(Department {
            id: "a".into(),
            name: "b".into(),
        })?,
        DEPARTMENT_FIELDS,
    );
    let person = Person {
        id: "a".into(),
        name: "b".into(),
        phone: String::new(),
        role: Role::GridWorker,
        scope: Scope::Grid("g".into()),
    };
    check(serde_json::to_value(&person)?, PERSON_FIELDS);
    check(serde_json::to_value(&person.scope)?, SCOPE_FIELDS);
    let category = Category {
        code: "010101".into(),
        kind: CategoryKind::Component,
        big_code: "0101".into(),
        big_name: "公用设施".into(),
        name: "井盖破损".into(),
        level: Level::Street,
        limit_hours: 24,
        department: Some("police".into()),
        clock: crate::org::LimitClock::Natural,
    };
    check(serde_json::to_value(&category)?, CATEGORY_FIELDS);
    let calendar = crate::org::Calendar::china_2026_spec();
    check(serde_json::to_value(&calendar)?, CALENDAR_FIELDS);
    check(serde_json::to_value(&calendar.periods[0])?, PERIOD_FIELDS);
    check(serde_json::to_value(&calendar.holidays[0])?, HOLIDAY_FIELDS);
    for clock in crate::org::LimitClock::ALL {
        assert!(CLOCKS.contains(&clock.as_str()));
        assert_eq!(serde_json::to_value(clock)?, json!(clock.as_str()));
    }
    assert_eq!(CLOCKS.len(), crate::org::LimitClock::ALL.len());
    // The words lists match the enums.
    let scopes = [
        Scope::Street,
        Scope::Community("c".into()),
        Scope::Grid("g".into()),
        Scope::Segment("s".into()),
        Scope::Department("d".into()),
    ];
    let kinds: Vec<Value> = scopes
        .iter()
        .map(|s| serde_json::to_value(s).map(|v| v["kind"].clone()))
        .collect::<Result<_, _>>()?;
    assert_eq!(
        kinds,
        SCOPE_KINDS.iter().map(|k| json!(k)).collect::<Vec<_>>()
    );
    for (s, scope) in SCOPE_KINDS.iter().zip(&scopes) {
        assert_eq!(describe_scope(scope).0, *s);
    }
    for kind in [
        CategoryKind::Component,
        CategoryKind::Event,
        CategoryKind::Duty,
    ] {
        let word = serde_json::to_value(kind)?;
        assert!(CATEGORY_KINDS.iter().any(|k| json!(k) == word), "{word}");
    }
    assert_eq!(CATEGORY_KINDS.len(), 3);
    for level in LEVELS {
        assert_eq!(Level::parse(level).map(Level::as_str), Some(*level));
        assert_eq!(serde_json::to_value(Level::parse(level))?, json!(level));
    }
    for role in Role::ALL {
        assert_eq!(serde_json::to_value(role)?, json!(role.as_str()));
    }
    Ok(())
}
