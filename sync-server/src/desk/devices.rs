//! The devices page (设备, decision 0041): every enrolled device in the signed-in person's
//! reach with its person, app version, last seen, outbox (and photo files it cannot send,
//! decision 0062), last error and state; revoking a device; issuing enrolment codes for one
//! person or a whole community as printable QR cards ([`super::enrol_qr`]).
//!
//! Reach: street centre staff manage every device; a community chief manages the devices of
//! the people of their community; anyone else gets 403. Data loading ([`load`]) is apart from
//! rendering ([`render`]) so both are tested on their own.

use super::Shared;
use super::enrol_qr::{self, Card};
use super::error::DeskError;
use super::layout::{self, Nav};
use super::session::{self, DeskUser};
use crate::admin;
use crate::error::ServerError;
use crate::storage::{DeviceStatus, Tx, with_tx};
use crate::tasks::blocking;
use axum::Router;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use std::collections::HashMap;
use xiangying_model::org::{Role, Roster, Scope};

/// The most cards one batch prints (a community has far fewer people).
pub const MAX_BATCH: usize = 500;

/// Whose devices a desk person manages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Every device (street centre staff).
    All,
    /// The devices of the people of one community (its chief).
    Community(String),
}

impl Reach {
    /// The reach of a desk person, or 403 naming who may manage devices.
    pub fn of(user: &DeskUser) -> Result<Reach, DeskError> {
        let refused =
            || DeskError::Forbidden("只有街道网格中心人员和社区网格长可以查看和管理设备".into());
        match user.claim.role {
            Role::StreetCenter => Ok(Reach::All),
            Role::CommunityChief => match &user.claim.scope {
                Scope::Community(c) => Ok(Reach::Community(c.clone())),
                _ => Err(refused()),
            },
            Role::GridWorker
            | Role::GridInformant
            | Role::PartyStreetChief
            | Role::MerchantStreetChief
            | Role::StreetOfficial
            | Role::DepartmentStaff
            | Role::Volunteer
            | Role::Resident => Err(refused()),
        }
    }

    /// Whether a person (by roster id) is within reach.
    pub fn covers(&self, roster: &Roster, person: &str) -> bool {
        match self {
            Reach::All => true,
            Reach::Community(c) => roster
                .person(person)
                .and_then(|p| community_of(roster, &p.scope))
                .is_some_and(|pc| pc == c),
        }
    }
}

/// The community a scope lies in (a grid's, a segment's, the community itself); `None` for
/// the whole street or a department.
pub fn community_of<'a>(roster: &'a Roster, scope: &'a Scope) -> Option<&'a str> {
    match scope {
        Scope::Community(c) => Some(c),
        Scope::Grid(g) => roster.grid(g).map(|g| g.community.as_str()),
        Scope::Segment(s) => roster.segment(s).map(|s| s.community.as_str()),
        Scope::Street | Scope::Department(_) => None,
    }
}

/// A scope's place in words: the grid's, community's, segment's or department's name.
pub fn place_name(roster: &Roster, scope: &Scope) -> String {
    match scope {
        Scope::Street => roster.street.name.clone(),
        Scope::Community(c) => roster.community(c).map_or(c.clone(), |c| c.name.clone()),
        Scope::Grid(g) => roster.grid(g).map_or(g.clone(), |g| g.name.clone()),
        Scope::Segment(s) => roster.segment(s).map_or(s.clone(), |s| s.name.clone()),
        Scope::Department(d) => roster.department(d).map_or(d.clone(), |d| d.name.clone()),
    }
}

/// A device's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceState {
    /// Syncing normally.
    Active,
    /// Revoked: its token gets 401.
    Revoked,
    /// Quarantined for tampering, and why.
    Quarantined(String),
}

impl DeviceState {
    /// The state in Chinese.
    pub fn label(&self) -> &'static str {
        match self {
            DeviceState::Active => "正常",
            DeviceState::Revoked => "已吊销",
            DeviceState::Quarantined(_) => "已隔离",
        }
    }
}

/// One row of the devices page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceLine {
    /// Device id.
    pub id: String,
    /// Its person's roster id.
    pub person: String,
    /// Its person's name (the id when the roster no longer holds them).
    pub person_name: String,
    /// Its person's role in Chinese (empty when not in the roster).
    pub role: &'static str,
    /// The name the device gave itself.
    pub name: String,
    /// When it enrolled (ms).
    pub enrolled_at: i64,
    /// What the server recorded about it (`None`: no request since the status was kept).
    pub status: Option<DeviceStatus>,
    /// Its state.
    pub state: DeviceState,
}

/// Every device within `reach`, newest enrolment last.
pub fn load(
    tx: &mut dyn Tx,
    roster: &Roster,
    reach: &Reach,
) -> Result<Vec<DeviceLine>, ServerError> {
    let mut statuses: HashMap<String, DeviceStatus> = tx
        .device_statuses()?
        .into_iter()
        .map(|s| (s.device.to_string(), s))
        .collect();
    Ok(tx
        .devices()?
        .into_iter()
        .filter(|d| is_phone(d) && reach.covers(roster, d.person.as_str()))
        .map(|d| {
            let person = roster.person(d.person.as_str());
            DeviceLine {
                id: d.id.to_string(),
                person: d.person.to_string(),
                person_name: person.map_or_else(|| d.person.to_string(), |p| p.name.clone()),
                role: person.map_or("", |p| p.role.label_zh()),
                name: d.name,
                enrolled_at: d.created_at,
                status: statuses.remove(d.id.as_str()),
                state: match (d.revoked, d.quarantined) {
                    (true, _) => DeviceState::Revoked,
                    (false, Some(why)) => DeviceState::Quarantined(why),
                    (false, None) => DeviceState::Active,
                },
            }
        })
        .collect())
}

/// Whether a device row is a phone: not a person's desk (the desk's actions part stores one
/// device row per desk person, token hash `desk:<person>`, id `desk-<person>`; no bearer token
/// hashes to it). Desk rows are left off the devices page and out of the device counts.
pub fn is_phone(d: &crate::storage::DeviceRow) -> bool {
    !super::actions::is_desk_device(d)
}

/// A time as `2026-12-06 16:02` (China time).
pub fn absolute(ms: i64) -> String {
    super::time::china_time(ms, "%Y-%m-%d %H:%M")
}

pub use super::time::relative;

/// The app version to show from a `xiangying-client` header: `2.3.0（内核 0.1.0）` when it
/// has that form, else the header as it came (it was checked printable when stored).
pub fn app_label(header: &str) -> String {
    let mut app = None;
    let mut core = None;
    for part in header.split(';') {
        match part.trim().split_once('=') {
            Some(("app", v)) => app = Some(v),
            Some(("core", v)) => core = Some(v),
            _ => {}
        }
    }
    match (app, core) {
        (Some(a), Some(c)) => format!("{a}（内核 {c}）"),
        (Some(a), None) => a.to_string(),
        _ => header.to_string(),
    }
}

/// A device's last sync error code in Chinese where it is a known one (the code beside it).
pub fn error_label(code: &str) -> String {
    let zh = match code {
        "network" => "网络不通",
        "unauthorised" => "设备未授权",
        "quarantined" => "设备已隔离",
        "tampering" => "篡改记录",
        "forbidden" => "越权操作",
        "bad_request" => "请求有误",
        "upgrade_required" => "需要升级应用",
        "server_too_old" => "服务器版本过旧",
        "too_large" | "over_limit" => "数据超限",
        "overloaded" | "device_busy" | "too_many_requests" => "服务器繁忙",
        "no_org" => "尚未发布名册",
        "internal" => "服务器错误",
        c if c.starts_with("tls_") => "证书校验失败",
        "device_storage" => "手机存储错误",
        _ => "",
    };
    if zh.is_empty() {
        code.to_string()
    } else {
        format!("{zh}（{code}）")
    }
}

/// A time cell: relative, with the absolute time in its `title`.
fn when(now: i64, ms: Option<i64>) -> Markup {
    html! {
        @match ms {
            Some(ms) => time datetime=(absolute(ms)) title=(absolute(ms)) { (relative(now, ms)) },
            None => span.none title="设备未报告" { "—" },
        }
    }
}

/// The people a desk person may issue codes for, by name.
fn people_in_reach<'a>(roster: &'a Roster, reach: &Reach) -> Vec<&'a xiangying_model::org::Person> {
    let mut people: Vec<_> = roster
        .people
        .iter()
        .filter(|p| reach.covers(roster, &p.id))
        .collect();
    people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
    people
}

/// The communities a desk person may issue codes for.
fn communities_in_reach<'a>(
    roster: &'a Roster,
    reach: &Reach,
) -> Vec<&'a xiangying_model::org::Community> {
    roster
        .communities
        .iter()
        .filter(|c| match reach {
            Reach::All => true,
            Reach::Community(id) => &c.id == id,
        })
        .collect()
}

/// The devices page.
pub fn render(user: &DeskUser, reach: &Reach, lines: &[DeviceLine], now: i64) -> Markup {
    let roster = &user.roster;
    let live = lines
        .iter()
        .filter(|l| l.state == DeviceState::Active)
        .count();
    let body = html! {
        p.summary {
            @match reach {
                Reach::All => "全街道",
                Reach::Community(c) => (place_name(roster, &Scope::Community(c.clone()))),
            }
            "共 " (lines.len()) " 台设备，其中正常 " (live) " 台。"
        }
        table.devices {
            caption { "已登记的设备" }
            thead {
                tr {
                    th scope="col" { "人员" }
                    th scope="col" { "角色" }
                    th scope="col" { "设备名称" }
                    th scope="col" { "应用版本" }
                    th scope="col" { "登记时间" }
                    th scope="col" { "最近联系" }
                    th scope="col" { "待上传" }
                    th scope="col" { "最近错误" }
                    th scope="col" { "状态" }
                    th scope="col" { "操作" }
                }
            }
            tbody {
                @for l in lines {
                    @let status = l.status.as_ref();
                    tr data-device=(l.id) {
                        td title=(l.person) { (l.person_name) }
                        td { (l.role) }
                        td { (l.name) }
                        td { @match status.and_then(|s| s.app_version.as_deref()) {
                            Some(v) => (app_label(v)),
                            None => "—",
                        } }
                        td { time title=(absolute(l.enrolled_at)) { (absolute(l.enrolled_at)) } }
                        td { (when(now, status.map(|s| s.last_seen))) }
                        td.num {
                            @match status.and_then(|s| s.outbox) {
                                Some(n) => (n),
                                None => "—",
                            }
                            // Photos lost on the phone unless its copy is mended (decision
                            // 0062): the person is worth a call.
                            @if let Some(n) = status.and_then(|s| s.photos_unreadable)
                                .filter(|n| *n > 0) {
                                br;
                                span.error title="这些照片在手机上已损坏或丢失，同步无法上传" {
                                    "照片损坏 " (n) " 个"
                                }
                            }
                        }
                        td {
                            @match status.and_then(|s| s.last_error.as_deref()) {
                                Some(e) => span.error { (error_label(e)) },
                                None => "—",
                            }
                            @if let Some((code, at)) = status.and_then(|s| s.refusal.as_ref()) {
                                br;
                                span.refusal title=(absolute(*at)) {
                                    "服务器拒绝：" (error_label(code)) "，" (relative(now, *at))
                                }
                            }
                        }
                        td {
                            span class=(format!("state state-{}", match l.state {
                                DeviceState::Active => "active",
                                DeviceState::Revoked => "revoked",
                                DeviceState::Quarantined(_) => "quarantined",
                            })) title=[match &l.state {
                                DeviceState::Quarantined(why) => Some(why.as_str()),
                                _ => None,
                            }] { (l.state.label()) }
                        }
                        td {
                            @if l.state != DeviceState::Revoked {
                                form.revoke method="post" action=(format!("/desk/devices/{}/revoke", l.id)) {
                                    (layout::csrf_field(user))
                                    label {
                                        input type="checkbox" name="confirm" value="1" required;
                                        " 确认吊销"
                                    }
                                    " "
                                    button type="submit" { "吊销" }
                                }
                            }
                        }
                    }
                }
            }
        }
        h2 #enrol { "发放激活码" }
        div.enrol-forms {
            form method="post" action="/desk/enrol-codes" {
                (layout::csrf_field(user))
                fieldset {
                    legend { "为一个人发放" }
                    label for="enrol-person" { "人员" }
                    select #enrol-person name="person" required {
                        @for p in people_in_reach(roster, reach) {
                            option value=(p.id) { (p.name) "（" (p.role.label_zh()) "，" (place_name(roster, &p.scope)) "）" }
                        }
                    }
                    " "
                    button type="submit" { "生成激活码" }
                }
            }
            form method="post" action="/desk/enrol-codes" {
                (layout::csrf_field(user))
                fieldset {
                    legend { "为整个社区批量发放（可打印）" }
                    label for="enrol-community" { "社区" }
                    select #enrol-community name="community" required {
                        @for c in communities_in_reach(roster, reach) {
                            option value=(c.id) { (c.name) }
                        }
                    }
                    " "
                    label {
                        input type="checkbox" name="all" value="1";
                        " 包括已有正常设备的人员"
                    }
                    " "
                    button type="submit" { "生成并打印" }
                }
            }
        }
    };
    layout::page(user, Nav::Devices, "设备", body)
}

/// `GET /desk/devices`.
async fn page(State(state): State<Shared>, user: DeskUser) -> Result<Markup, DeskError> {
    let reach = Reach::of(&user)?;
    let (st, roster, r) = (state.clone(), user.roster.clone(), reach.clone());
    let lines = blocking(move || with_tx(st.storage.as_ref(), |tx| load(tx, &roster, &r))).await?;
    Ok(render(&user, &reach, &lines, now()))
}

fn now() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// The revoke form.
#[derive(Debug, Deserialize)]
pub struct RevokeForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    confirm: Option<String>,
}

fn bad_form(_: FormRejection) -> DeskError {
    DeskError::BadRequest("表单格式不正确".into())
}

/// Revokes a device when its person is within `reach` (through [`admin::revoke_device`]);
/// false when there is no such device or it is out of reach (nothing changed).
pub fn revoke_in_reach(
    storage: &dyn crate::storage::Storage,
    roster: &Roster,
    reach: &Reach,
    id: &str,
) -> Result<bool, ServerError> {
    let device = with_tx(storage, |tx| {
        Ok(tx.devices()?.into_iter().find(|d| d.id.as_str() == id))
    })?;
    match device {
        Some(d) if is_phone(&d) && reach.covers(roster, d.person.as_str()) => {
            admin::revoke_device(storage, d.id.as_str())
        }
        _ => Ok(false),
    }
}

/// `POST /desk/devices/{id}/revoke`.
async fn revoke(
    State(state): State<Shared>,
    user: DeskUser,
    Path(id): Path<String>,
    form: Result<Form<RevokeForm>, FormRejection>,
) -> Result<Response, DeskError> {
    let Form(form) = form.map_err(bad_form)?;
    session::check_csrf(&user, &form._csrf)?;
    let reach = Reach::of(&user)?;
    if form.confirm.as_deref() != Some("1") {
        return Err(DeskError::BadRequest("请先勾选“确认吊销”再提交".into()));
    }
    if id.len() > 100 {
        return Err(DeskError::NotFound("没有这台设备".into()));
    }
    let id_for_log = id.clone();
    let (st, roster) = (state.clone(), user.roster.clone());
    let found =
        blocking(move || revoke_in_reach(st.storage.as_ref(), &roster, &reach, &id)).await?;
    if !found {
        return Err(DeskError::NotFound(
            "没有这台设备，或不在您的管理范围内".into(),
        ));
    }
    tracing::warn!(by = %user.person, device = %id_for_log, "device revoked at the desk");
    Ok(Redirect::to("/desk/devices").into_response())
}

/// The enrolment code form: one person, or one community.
#[derive(Debug, Deserialize)]
pub struct EnrolForm {
    #[serde(default)]
    _csrf: String,
    #[serde(default)]
    person: Option<String>,
    #[serde(default)]
    community: Option<String>,
    #[serde(default)]
    all: Option<String>,
}

/// Who gets a code for a form, checked against the roster and the reach (nothing issued yet).
pub fn recipients(
    roster: &Roster,
    reach: &Reach,
    person: Option<&str>,
    community: Option<&str>,
    include_live: bool,
    live: &std::collections::HashSet<String>,
) -> Result<Vec<String>, DeskError> {
    match (
        person.filter(|p| !p.is_empty()),
        community.filter(|c| !c.is_empty()),
    ) {
        (Some(p), None) => {
            if roster.person(p).is_none() || !reach.covers(roster, p) {
                return Err(DeskError::NotFound(
                    "名册中没有此人，或不在您的管理范围内".into(),
                ));
            }
            Ok(vec![p.to_string()])
        }
        (None, Some(c)) => {
            if roster.community(c).is_none() || matches!(reach, Reach::Community(mine) if mine != c)
            {
                return Err(DeskError::NotFound(
                    "没有这个社区，或不在您的管理范围内".into(),
                ));
            }
            let mut people: Vec<_> = roster
                .people
                .iter()
                .filter(|p| community_of(roster, &p.scope) == Some(c))
                .filter(|p| include_live || !live.contains(&p.id))
                .collect();
            people.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
            if people.len() > MAX_BATCH {
                return Err(DeskError::BadRequest(format!(
                    "一次最多发放 {MAX_BATCH} 个激活码"
                )));
            }
            Ok(people.into_iter().map(|p| p.id.clone()).collect())
        }
        _ => Err(DeskError::BadRequest(
            "请选择一个人员或一个社区（只选一项）".into(),
        )),
    }
}

/// Issues one enrolment code per person (through [`admin::issue_code_until`], each in its
/// own transaction) and makes their cards, the QR links pointing at `server`.
pub fn issue_cards(
    storage: &dyn crate::storage::Storage,
    roster: &Roster,
    people: &[String],
    server: &str,
    ttl: std::time::Duration,
) -> Result<Vec<Card>, ServerError> {
    let mut cards = Vec::with_capacity(people.len());
    for id in people {
        let p = roster.person(id).ok_or(ServerError::NotFound)?;
        let issued = admin::issue_code_until(storage, id, ttl)?;
        cards.push(Card {
            name: p.name.clone(),
            role: p.role.label_zh(),
            place: place_name(roster, &p.scope),
            link: enrol_qr::enrol_link(server, &issued.code),
            code: issued.code,
            expires: absolute(issued.expires_at),
        });
    }
    Ok(cards)
}

/// The people who have a live device (neither revoked nor quarantined).
pub fn live_people(
    storage: &dyn crate::storage::Storage,
) -> Result<std::collections::HashSet<String>, ServerError> {
    Ok(admin::devices(storage)?
        .into_iter()
        .filter(|d| is_phone(d) && !d.revoked && d.quarantined.is_none())
        .map(|d| d.person.to_string())
        .collect())
}

/// `POST /desk/enrol-codes`: the printable page of the new codes, shown once.
async fn enrol_codes(
    State(state): State<Shared>,
    user: DeskUser,
    headers: HeaderMap,
    form: Result<Form<EnrolForm>, FormRejection>,
) -> Result<Response, DeskError> {
    let Form(form) = form.map_err(bad_form)?;
    session::check_csrf(&user, &form._csrf)?;
    let reach = Reach::of(&user)?;
    let server = enrol_qr::public_url(state.desk_public_url(), &headers).ok_or_else(|| {
        DeskError::BadRequest("无法确定服务器地址：请在配置文件 [desk] public_url 中设置".into())
    })?;
    let include_live = form.all.as_deref() == Some("1");
    let st = state.clone();
    let live = blocking(move || live_people(st.storage.as_ref())).await?;
    let people = recipients(
        &user.roster,
        &reach,
        form.person.as_deref(),
        form.community.as_deref(),
        include_live,
        &live,
    )?;
    let (st, roster) = (state.clone(), user.roster.clone());
    let cards = blocking(move || {
        issue_cards(
            st.storage.as_ref(),
            &roster,
            &people,
            &server,
            st.limits.code_ttl(),
        )
    })
    .await?;
    tracing::info!(by = %user.person, codes = cards.len(), "enrolment codes issued at the desk");
    let title = if cards.len() == 1 {
        "激活码"
    } else {
        "批量激活码"
    };
    Ok((
        [(header::CACHE_CONTROL, "no-store")],
        enrol_qr::cards_page(title, &cards, Nav::Devices.href()),
    )
        .into_response())
}

/// The devices routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/desk/devices", get(page))
        .route("/desk/devices/{id}/revoke", post(revoke))
        .route("/desk/enrol-codes", post(enrol_codes))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::blobs::BlobStore;
    use crate::state::{AppState, Limits};
    use crate::storage::sqlite::SqliteStorage;
    use crate::storage::{DeviceRow, SyncReport};
    use std::sync::Arc;
    use xiangying_model::case::Claim;
    use xiangying_model::ids::DeviceId;
    use xiangying_model::org::sample;

    /// A server state over a real SQLite store with the sample street published and a
    /// device for `gw1` (community c1), `gw3` (c2) and `center`.
    pub(crate) fn street() -> (tempfile::TempDir, Arc<AppState>) {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(dir.path()).unwrap());
        let state = Arc::new(AppState::new(
            storage,
            BlobStore::new(dir.path().join("photos"), 1 << 20),
            Limits::default(),
        ));
        admin::publish(
            state.storage.as_ref(),
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        with_tx(state.storage.as_ref(), |tx| {
            for (id, person, name) in [
                ("d-gw1", "gw1", "<script>alert(1)</script>"),
                ("d-gw3", "gw3", "gw3's phone"),
                ("d-center", "center", "centre phone"),
                ("desk-cc1", "cc1", "网页工作台"),
            ] {
                tx.insert_device(&DeviceRow {
                    id: id.into(),
                    person: person.into(),
                    name: name.into(),
                    token_hash: if id.starts_with("desk-") {
                        format!("desk:{person}")
                    } else {
                        format!("hash-{id}")
                    },
                    created_at: 1_000,
                    revoked: false,
                    quarantined: None,
                })?;
            }
            Ok(())
        })
        .unwrap();
        (dir, state)
    }

    /// A desk person of the sample street.
    pub(crate) fn user(person: &str) -> DeskUser {
        let roster = Arc::new(sample::roster().unwrap());
        let p = roster.person(person).unwrap().clone();
        DeskUser {
            person: person.into(),
            name: p.name.clone(),
            claim: Claim {
                person: p.id.clone(),
                role: p.role,
                scope: p.scope.clone(),
            },
            csrf: "token-of-this-session".into(),
            roster,
        }
    }

    #[test]
    fn centre_staff_reach_every_device_a_chief_their_community_others_none() {
        assert_eq!(Reach::of(&user("center")).unwrap(), Reach::All);
        assert_eq!(
            Reach::of(&user("cc1")).unwrap(),
            Reach::Community("c1".into())
        );
        for other in ["gw1", "official", "enf1", "res1"] {
            let e = Reach::of(&user(other)).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::FORBIDDEN, "{other}");
            assert!(e.to_string().contains("社区网格长"), "{e}");
        }
    }

    #[test]
    fn the_page_shows_what_devices_reported_within_reach() {
        let (_dir, state) = street();
        let now = 10_000_000;
        with_tx(state.storage.as_ref(), |tx| {
            tx.record_sync(
                &DeviceId::from("d-gw1"),
                now - 3 * 60_000,
                &SyncReport {
                    app_version: Some("app=2.3.0; core=0.1.0".into()),
                    outbox: Some(7),
                    last_error: Some("network".into()),
                    photos_unreadable: Some(2),
                },
            )?;
            tx.record_refusal(&DeviceId::from("d-gw1"), "over_limit", now - 7_200_000)
        })
        .unwrap();
        let chief = user("cc1");
        let reach = Reach::of(&chief).unwrap();
        let lines = with_tx(state.storage.as_ref(), |tx| load(tx, &chief.roster, &reach)).unwrap();
        assert_eq!(
            lines.iter().map(|l| l.id.as_str()).collect::<Vec<_>>(),
            ["d-gw1"]
        );
        let page = render(&chief, &reach, &lines, now).into_string();
        assert!(page.contains("2.3.0（内核 0.1.0）"), "{page}");
        assert!(page.contains(">3 分钟前<"), "{page}");
        assert!(page.contains(&format!("title=\"{}\"", absolute(now - 3 * 60_000))));
        assert!(page.contains("<td class=\"num\">7<br>"), "{page}");
        assert!(page.contains(">照片损坏 2 个</span>"), "{page}");
        assert!(page.contains("网络不通（network）"));
        assert!(page.contains("服务器拒绝：数据超限（over_limit），2 小时前"));
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        assert!(!page.contains("<script>alert(1)"));
        assert!(page.contains("action=\"/desk/devices/d-gw1/revoke\""));
        assert!(page.contains("name=\"_csrf\" value=\"token-of-this-session\""));
        assert!(page.contains("name=\"confirm\" value=\"1\" required"));
        // Only c1's people to issue codes for, only c1 for a batch.
        assert!(page.contains("value=\"gw1\"") && !page.contains("value=\"gw3\""));
        assert!(page.contains("value=\"c1\"") && !page.contains("value=\"c2\""));
        // The centre sees all three; a device that never reported shows dashes.
        let centre = user("center");
        let lines = with_tx(state.storage.as_ref(), |tx| {
            load(tx, &centre.roster, &Reach::All)
        })
        .unwrap();
        // The centre sees the three phones; cc1's desk row is no phone.
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.id != "desk-cc1"));
        let page = render(&centre, &Reach::All, &lines, now).into_string();
        assert!(page.contains("title=\"设备未报告\""));
    }

    #[test]
    fn a_batch_is_every_person_of_the_community_without_a_live_device() {
        let roster = sample::roster().unwrap();
        let live: std::collections::HashSet<String> = ["gw1".to_string()].into();
        let c1 = recipients(&roster, &Reach::All, None, Some("c1"), false, &live).unwrap();
        assert!(!c1.contains(&"gw1".to_string()));
        for p in ["cc1", "gw2", "inf1", "psc1", "msc1", "vol1", "vol2", "res1"] {
            assert!(c1.contains(&p.to_string()), "{p}: {c1:?}");
        }
        assert!(
            !c1.iter()
                .any(|p| p == "gw3" || p == "center" || p == "enf1")
        );
        let all = recipients(&roster, &Reach::All, None, Some("c1"), true, &live).unwrap();
        assert_eq!(all.len(), c1.len() + 1);
        // A chief issues for their own community only, and for its people only.
        let mine = Reach::Community("c1".into());
        assert!(recipients(&roster, &mine, None, Some("c2"), false, &live).is_err());
        assert!(recipients(&roster, &mine, Some("gw3"), None, false, &live).is_err());
        assert_eq!(
            recipients(&roster, &mine, Some("gw2"), None, false, &live).unwrap(),
            ["gw2"]
        );
        for (p, c) in [
            (Some("gw2"), Some("c1")),
            (None, None),
            (Some(""), Some("")),
        ] {
            let e = recipients(&roster, &Reach::All, p, c, false, &live).unwrap_err();
            assert_eq!(e.status(), axum::http::StatusCode::BAD_REQUEST);
        }
        assert!(recipients(&roster, &Reach::All, Some("nobody"), None, false, &live).is_err());
    }

    fn revoked(state: &AppState, id: &str) -> bool {
        admin::devices(state.storage.as_ref())
            .unwrap()
            .into_iter()
            .any(|d| d.id.as_str() == id && d.revoked)
    }

    fn form(csrf: &str, confirm: bool) -> Result<Form<RevokeForm>, FormRejection> {
        Ok(Form(RevokeForm {
            _csrf: csrf.into(),
            confirm: confirm.then(|| "1".into()),
        }))
    }

    #[tokio::test]
    async fn revoking_needs_the_token_the_confirmation_and_the_reach() {
        let (_dir, state) = street();
        let go = |who: &str, id: &str, csrf: &str, confirm: bool| {
            revoke(
                State(state.clone()),
                user(who),
                Path(id.to_string()),
                form(csrf, confirm),
            )
        };
        let e = go("center", "d-gw1", "forged", true).await.unwrap_err();
        assert!(matches!(e, DeskError::Csrf), "{e:?}");
        let e = go("center", "d-gw1", "", true).await.unwrap_err();
        assert!(matches!(e, DeskError::Csrf), "{e:?}");
        let e = go("gw1", "d-gw1", "token-of-this-session", true)
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::Forbidden(_)), "{e:?}");
        let e = go("center", "d-gw1", "token-of-this-session", false)
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::BadRequest(_)), "{e:?}");
        // A chief cannot reach another community's device: it is "not found".
        let e = go("cc1", "d-gw3", "token-of-this-session", true)
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::NotFound(_)), "{e:?}");
        for id in ["nope", "desk-cc1"] {
            let e = go("center", id, "token-of-this-session", true)
                .await
                .unwrap_err();
            assert!(matches!(e, DeskError::NotFound(_)), "{e:?}");
        }
        assert!(!revoked(&state, "desk-cc1"));
        assert!(!revoked(&state, "d-gw1") && !revoked(&state, "d-gw3"));
        let ok = go("cc1", "d-gw1", "token-of-this-session", true)
            .await
            .unwrap();
        assert_eq!(ok.status(), axum::http::StatusCode::SEE_OTHER);
        assert!(revoked(&state, "d-gw1"));
        assert!(!revoked(&state, "d-gw3") && !revoked(&state, "d-center"));
    }

    #[tokio::test]
    async fn enrolment_codes_need_the_token_and_come_back_once_as_cards() {
        let (_dir, state) = street();
        state.set_desk_public_url("https://xy.example.gov.cn/");
        let send = |who: &str, csrf: &str, person: Option<&str>, community: Option<&str>| {
            enrol_codes(
                State(state.clone()),
                user(who),
                HeaderMap::new(),
                Ok(Form(EnrolForm {
                    _csrf: csrf.into(),
                    person: person.map(String::from),
                    community: community.map(String::from),
                    all: None,
                })),
            )
        };
        let db = _dir.path().join(crate::storage::sqlite::DB_FILE);
        let codes = |_: &AppState| -> i64 {
            rusqlite::Connection::open(&db)
                .unwrap()
                .query_row("SELECT count(*) FROM codes", [], |r| r.get(0))
                .unwrap()
        };
        let before = codes(&state);
        assert_eq!(before, 0);
        let e = send("center", "forged", Some("gw2"), None)
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::Csrf));
        let e = send("gw1", "token-of-this-session", Some("gw2"), None)
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::Forbidden(_)));
        let e = send("cc1", "token-of-this-session", None, Some("c2"))
            .await
            .unwrap_err();
        assert!(matches!(e, DeskError::NotFound(_)));
        assert_eq!(codes(&state), before);
        let resp = send("cc1", "token-of-this-session", None, Some("c1"))
            .await
            .unwrap();
        assert_eq!(resp.status(), axum::http::StatusCode::OK);
        assert_eq!(resp.headers()[header::CACHE_CONTROL], "no-store");
        let body = axum::body::to_bytes(resp.into_body(), 1 << 22)
            .await
            .unwrap();
        let page = String::from_utf8(body.to_vec()).unwrap();
        // gw1 has a live device: left out; every other person of c1 gets a card.
        let cards = page.matches("class=\"enrol-card\"").count();
        assert_eq!(cards, 8, "{page}");
        assert_eq!(codes(&state), 8);
        assert_eq!(page.matches("<svg").count(), 8);
        assert_eq!(
            page.matches("xiangying://enrol?server=https%3A%2F%2Fxy.example.gov.cn&amp;code=")
                .count(),
            8
        );
    }
}
