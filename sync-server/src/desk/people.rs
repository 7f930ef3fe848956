//! The people page (人员): the published roster, read-only, with each person's role in
//! Chinese, their place, their phone (masked but for the last four digits for anyone but
//! street centre staff) and how many live devices they have; filtered by community and role.
//! Every desk person may read it (the roster is no secret inside the street; the phones are).

use super::Shared;
use super::devices::{community_of, place_name};
use super::error::DeskError;
use super::layout::{self, Nav};
use super::session::DeskUser;
use crate::error::ServerError;
use crate::storage::Storage;
use crate::tasks::blocking;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use xiangying_model::org::{Role, Roster};

/// The page's filters, as the query string gives them (empty: all).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PeopleQuery {
    /// A community id.
    #[serde(default)]
    pub community: String,
    /// A role (as `Role::as_str`).
    #[serde(default)]
    pub role: String,
}

/// The filters checked against the roster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only people of this community.
    pub community: Option<String>,
    /// Only people of this role.
    pub role: Option<Role>,
}

impl Filter {
    /// Reads the query against the roster: an unknown community or role is a 400 naming it.
    pub fn read(roster: &Roster, q: &PeopleQuery) -> Result<Filter, DeskError> {
        let community = match q.community.trim() {
            "" => None,
            c if roster.community(c).is_some() => Some(c.to_string()),
            _ => return Err(DeskError::BadRequest("没有这个社区".into())),
        };
        let role = match q.role.trim() {
            "" => None,
            r => Some(
                Role::ALL
                    .into_iter()
                    .find(|role| role.as_str() == r)
                    .ok_or_else(|| DeskError::BadRequest("没有这个角色".into()))?,
            ),
        };
        Ok(Filter { community, role })
    }
}

/// A phone number with all but its last four digits hidden.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    let keep = chars.len().saturating_sub(4);
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| if i < keep { '*' } else { *c })
        .collect()
}

/// How many live devices (neither revoked nor quarantined) each person has.
pub fn load(storage: &dyn Storage) -> Result<HashMap<String, usize>, ServerError> {
    let mut counts = HashMap::new();
    for d in crate::admin::devices(storage)? {
        if super::devices::is_phone(&d) && !d.revoked && d.quarantined.is_none() {
            *counts.entry(d.person.to_string()).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

/// The people page.
pub fn render(user: &DeskUser, filter: &Filter, devices: &HashMap<String, usize>) -> Markup {
    let roster = &user.roster;
    let full_phones = user.claim.role == Role::StreetCenter;
    let people: Vec<_> = roster
        .people
        .iter()
        .filter(|p| {
            filter
                .community
                .as_deref()
                .is_none_or(|c| community_of(roster, &p.scope) == Some(c))
        })
        .filter(|p| filter.role.is_none_or(|r| p.role == r))
        .collect();
    let with_device = people
        .iter()
        .filter(|p| devices.get(&p.id).is_some_and(|n| *n > 0))
        .count();
    let body = html! {
        form.filters method="get" action=(Nav::People.href()) {
            label for="people-community" { "社区" }
            select #people-community name="community" {
                option value="" { "全部" }
                @for c in &roster.communities {
                    option value=(c.id) selected[filter.community.as_deref() == Some(c.id.as_str())] { (c.name) }
                }
            }
            " "
            label for="people-role" { "角色" }
            select #people-role name="role" {
                option value="" { "全部" }
                @for r in Role::ALL {
                    option value=(r.as_str()) selected[filter.role == Some(r)] { (r.label_zh()) }
                }
            }
            " "
            button type="submit" { "筛选" }
        }
        p.summary { "共 " (people.len()) " 人，其中 " (with_device) " 人有正常设备。" }
        table.people {
            caption { "人员名册（只读）" }
            thead {
                tr {
                    th scope="col" { "姓名" }
                    th scope="col" { "角色" }
                    th scope="col" { "负责范围" }
                    th scope="col" { "电话" }
                    th scope="col" { "正常设备" }
                }
            }
            tbody {
                @for p in &people {
                    @let n = devices.get(&p.id).copied().unwrap_or(0);
                    tr {
                        td title=(p.id) { (p.name) }
                        td { (p.role.label_zh()) }
                        td { (place_name(roster, &p.scope)) }
                        td.phone { @if full_phones { (p.phone) } @else { (mask_phone(&p.phone)) } }
                        td.num { @if n > 0 { (n) " 台" } @else { span.none { "无" } } }
                    }
                }
            }
        }
    };
    layout::page(user, Nav::People, "人员", body)
}

/// `GET /desk/people`.
async fn page(
    State(state): State<Shared>,
    user: DeskUser,
    q: Result<Query<PeopleQuery>, QueryRejection>,
) -> Result<Markup, DeskError> {
    let Query(q) = q.map_err(|_| DeskError::BadRequest("筛选条件格式不正确".into()))?;
    let filter = Filter::read(&user.roster, &q)?;
    let st = state.clone();
    let devices = blocking(move || load(st.storage.as_ref())).await?;
    Ok(render(&user, &filter, &devices))
}

/// The people routes.
pub fn routes() -> Router<Shared> {
    Router::new().route("/desk/people", get(page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::devices::tests::{street, user};

    #[test]
    fn phones_keep_their_last_four_digits() {
        assert_eq!(mask_phone("13800001234"), "*******1234");
        assert_eq!(mask_phone("123"), "123");
        assert_eq!(mask_phone(""), "");
    }

    #[test]
    fn filters_are_checked_against_the_roster() {
        let u = user("center");
        let q = |community: &str, role: &str| PeopleQuery {
            community: community.into(),
            role: role.into(),
        };
        assert_eq!(
            Filter::read(&u.roster, &q("", "")).unwrap(),
            Filter::default()
        );
        let f = Filter::read(&u.roster, &q("c1", "grid_worker")).unwrap();
        assert_eq!(f.community.as_deref(), Some("c1"));
        assert_eq!(f.role, Some(Role::GridWorker));
        assert!(Filter::read(&u.roster, &q("c9", "")).is_err());
        assert!(Filter::read(&u.roster, &q("", "<script>")).is_err());
    }

    #[test]
    fn the_roster_with_devices_and_phones_masked_but_for_the_centre() {
        let (_dir, state) = street();
        let devices = load(state.storage.as_ref()).unwrap();
        assert_eq!(devices.get("gw1"), Some(&1));
        // cc1 has a desk row only: no phone.
        assert_eq!(devices.get("cc1"), None);
        let chief = user("cc1");
        let gw1 = chief.roster.person("gw1").unwrap().clone();
        let page = render(&chief, &Filter::default(), &devices).into_string();
        assert!(page.contains(&gw1.name));
        assert!(page.contains(&mask_phone(&gw1.phone)), "{page}");
        assert!(!page.contains(&gw1.phone));
        assert!(page.contains("社区网格长"));
        let centre = user("center");
        let page = render(&centre, &Filter::default(), &devices).into_string();
        assert!(page.contains(&gw1.phone));
        // Filtered to c2's grid workers: gw3 only, with their device.
        let f = Filter {
            community: Some("c2".into()),
            role: Some(Role::GridWorker),
        };
        let page = render(&centre, &f, &devices).into_string();
        let gw3 = centre.roster.person("gw3").unwrap();
        assert!(page.contains(&gw3.name) && !page.contains(&gw1.name));
        assert!(page.contains("共 1 人，其中 1 人有正常设备"), "{page}");
    }
}
