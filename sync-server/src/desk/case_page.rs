//! The case page (`/desk/cases/{id}`): the case's facts, its deadline on the working
//! calendar, its photos (thumbnail, then full size), its place on the map, its timeline, and a
//! form for each action the signed-in person may take now ([`actions::allowed`]). A form post
//! goes through [`actions::act`]; the page then shows the outcome.
//!
//! Photos are served at `/desk/cases/{id}/photos/{hash}` to people who may see the case, and
//! only files the case cites by someone who uploaded them (the rule phones read photos by).

use super::actions::{self, DeskAction, LoadedCase};
use super::error::DeskError;
use super::layout::{self, Nav, csrf_field};
use super::session::{DeskUser, check_csrf};
use super::{Shared, time};
use crate::error::ServerError;
use crate::storage::{Tx, with_tx};
use crate::sync;
use crate::tasks::blocking;
use automerge::ActorId;
use axum::Router;
use axum::body::Body;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use xiangying_model::case::{Action, Assignee, Author, Outcome, PhotoRef, PhotoStage};
use xiangying_model::ids::{DocId, PhotoHash};
use xiangying_model::org::{Catalogue, LimitClock, Roster};
use xiangying_model::sync::scope::may_see;

/// The case page's routes.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/desk/cases/{id}", get(show).post(post_action))
        .route("/desk/cases/{id}/photos/{hash}", get(photo))
}

/// What the page shows after an action (`?done=<action key>`).
#[derive(Debug, Deserialize)]
struct Shown {
    done: Option<String>,
}

/// Everything the page renders.
pub struct CaseView {
    /// The case id.
    pub id: String,
    /// Its number, once the server gave one.
    pub number: Option<String>,
    /// Its document, facts, events and state.
    pub case: LoadedCase,
    /// Its photos.
    pub photos: Vec<PhotoRef>,
    /// The actions the person may take now (form keys).
    pub allowed: Vec<&'static str>,
    /// The roster, for names.
    pub roster: std::sync::Arc<Roster>,
    /// The catalogue, for the calendar.
    pub catalogue: Catalogue,
    /// Server time when loaded.
    pub now: i64,
}

/// Loads the case if `user` may see it (`None` when it does not exist, is not a case or is
/// outside their scope: the same answer, so the page does not reveal which).
pub fn load(
    tx: &mut dyn Tx,
    state: &crate::state::AppState,
    user: &DeskUser,
    id: &str,
    now: i64,
) -> Result<Option<CaseView>, ServerError> {
    if uuid::Uuid::parse_str(id).is_err() {
        return Ok(None);
    }
    let doc_id = DocId::from(id.to_string());
    let roster = state.roster(tx)?;
    let Some(row) = tx.case(&doc_id)? else {
        return Ok(None);
    };
    let scope = sync::scope_of(&roster, &user.person);
    if !scope.all && !may_see(&scope, &tx.access(&doc_id)?) {
        return Ok(None);
    }
    let Ok(case) = actions::load_case(&row.snapshot, &ActorId::random(), id) else {
        return Ok(None);
    };
    let catalogue = super::catalogue(tx)?;
    let number = case.doc.number();
    let photos = case
        .doc
        .photos()
        .map_err(|e| ServerError::Internal(format!("case {id}: {e}")))?;
    let allowed = actions::allowed(&roster, &case, &user.claim, now);
    Ok(Some(CaseView {
        id: id.to_string(),
        number,
        case,
        photos,
        allowed,
        roster,
        catalogue,
        now,
    }))
}

async fn show(
    State(state): State<Shared>,
    user: DeskUser,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Result<Response, DeskError> {
    let flash = shown
        .done
        .as_deref()
        .filter(|k| actions::ALL_KEYS.contains(k))
        .map(|k| Flash::Ok(format!("已{}", actions::label_of(k))));
    render_page(state, user, id, flash, StatusCode::OK).await
}

/// A message above the page.
enum Flash {
    Ok(String),
    Error(String),
}

async fn render_page(
    state: Shared,
    user: DeskUser,
    id: String,
    flash: Option<Flash>,
    status: StatusCode,
) -> Result<Response, DeskError> {
    let u = user.clone();
    let view = blocking(move || {
        with_tx(state.storage.as_ref(), |tx| {
            load(tx, &state, &u, &id, super::now_ms())
        })
    })
    .await?
    .ok_or_else(|| DeskError::NotFound("没有这个案件，或您无权查看".into()))?;
    let title = match &view.number {
        Some(n) => format!("案件 {n}"),
        None => "案件（待编号）".to_string(),
    };
    let body = render(&user, &view, flash.as_ref());
    Ok((status, layout::page(&user, Nav::Cases, &title, body)).into_response())
}

/// The action form's fields (every action uses some of them).
fn parse_action(fields: &[(String, String)]) -> Result<(String, DeskAction), DeskError> {
    let get = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let csrf = get("_csrf");
    let key = get("action");
    let action = match key.as_str() {
        "accept" => DeskAction::Accept,
        "dispatch" => DeskAction::Dispatch {
            departments: fields
                .iter()
                .filter(|(k, _)| k == "department")
                .map(|(_, v)| v.clone())
                .collect(),
            note: get("note"),
        },
        "escalate" => DeskAction::Escalate {
            reason: get("reason"),
        },
        "volunteers" => DeskAction::DispatchToVolunteers { note: get("note") },
        "resolve" => DeskAction::Resolve { note: get("note") },
        "verify" => DeskAction::Verify { note: get("note") },
        "rework" => DeskAction::Rework {
            reason: get("reason"),
        },
        "extend" => DeskAction::Extend {
            hours: get("hours")
                .parse()
                .map_err(|_| DeskError::BadRequest("延期小时数须为 1 到 720 的整数".into()))?,
            reason: get("reason"),
        },
        "close" => DeskAction::Close { note: get("note") },
        "void" => DeskAction::Void {
            reason: get("reason"),
        },
        "duplicate" => DeskAction::MarkDuplicate { of: get("of") },
        "note" => DeskAction::Note { text: get("text") },
        other => {
            return Err(DeskError::BadRequest(format!(
                "未知的操作：{}",
                other.chars().take(40).collect::<String>()
            )));
        }
    };
    Ok((csrf, action))
}

async fn post_action(
    State(state): State<Shared>,
    user: DeskUser,
    Path(id): Path<String>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, DeskError> {
    let csrf = fields
        .iter()
        .find(|(k, _)| k == "_csrf")
        .map(|(_, v)| v.as_str())
        .unwrap_or_default();
    check_csrf(&user, csrf)?;
    let (_, mut action) = match parse_action(&fields) {
        Ok(a) => a,
        Err(e) => {
            let status = e.status();
            return render_page(state, user, id, Some(Flash::Error(e.to_string())), status).await;
        }
    };
    let (st, u, case_id) = (state.clone(), user.clone(), id.clone());
    let result = blocking(move || {
        if let DeskAction::MarkDuplicate { of } = &mut action {
            match super::resolve_case_ref(&st, &u, of) {
                Ok(id) => *of = id,
                Err(ServerError::BadRequest(m)) => return Ok(Err(DeskError::BadRequest(m))),
                Err(e) => return Err(e),
            }
        }
        Ok(actions::act(&st, &u, &case_id, &action, super::now_ms()).map(|_| action.key()))
    })
    .await?;
    match result {
        Ok(key) => Ok(Redirect::to(&format!("/desk/cases/{id}?done={key}")).into_response()),
        Err(e @ (DeskError::Forbidden(_) | DeskError::BadRequest(_))) => {
            let status = e.status();
            render_page(state, user, id, Some(Flash::Error(e.to_string())), status).await
        }
        Err(e) => Err(e),
    }
}

/// The name of a person (or their id when the roster no longer has them).
fn person_name(roster: &Roster, id: &str) -> String {
    roster
        .person(id)
        .map(|p| p.name.clone())
        .unwrap_or_else(|| id.to_string())
}

/// Who a case waits on, in words.
pub fn assignee_label(roster: &Roster, a: Option<&Assignee>) -> String {
    match a {
        None => "—".into(),
        Some(Assignee::Person(p)) => person_name(roster, p),
        Some(Assignee::Center) => "街道网格中心".into(),
        Some(Assignee::Departments(ds)) => ds
            .iter()
            .map(|d| roster.department(d).map_or(d.clone(), |x| x.name.clone()))
            .collect::<Vec<_>>()
            .join("、"),
        Some(Assignee::Volunteers(c)) => format!(
            "{}志愿者",
            roster.community(c).map_or(c.as_str(), |x| x.name.as_str())
        ),
    }
}

/// An event's action in Chinese, with its text.
fn action_text(roster: &Roster, a: &Action) -> (String, String) {
    let (label, text): (&str, String) = match a {
        Action::Reported { assignee } => (
            "上报",
            format!("交 {}", assignee_label(roster, Some(assignee))),
        ),
        Action::HandledOnSpot { note, .. } => ("自行处置", note.clone()),
        Action::Forwarded { to, note } => {
            ("转交", format!("转交 {}：{note}", person_name(roster, to)))
        }
        Action::Accepted => ("受理", String::new()),
        Action::Escalated { to, reason, .. } => (
            "上报上级",
            format!("交 {}：{reason}", assignee_label(roster, Some(to))),
        ),
        Action::Dispatched { departments, note } => (
            "派遣",
            format!(
                "派 {}：{note}",
                assignee_label(roster, Some(&Assignee::Departments(departments.clone())))
            ),
        ),
        Action::DispatchedToVolunteers { note } => ("派给志愿者", note.clone()),
        Action::Claimed => ("志愿者领取", String::new()),
        Action::Note { text } => ("备注", text.clone()),
        Action::Resolved { note, .. } => ("办结", note.clone()),
        Action::Verified { note } => ("核查通过", note.clone()),
        Action::Reworked { reason } => ("退回重办", reason.clone()),
        Action::Extended { hours, reason, .. } => ("延期", format!("{hours} 小时：{reason}")),
        Action::Closed { note } => ("结案", note.clone()),
        Action::Voided { reason } => ("作废", reason.clone()),
        Action::MarkedDuplicate { of } => ("标为重复", format!("与案件 {of} 重复")),
        Action::ServerVoid { reason, .. } => ("系统撤销", reason.clone()),
        Action::Unknown { type_name, .. } => ("新版本操作", type_name.clone()),
    };
    (label.to_string(), text)
}

/// The deadline in words: time left or overdue, on the case's clock.
fn deadline_text(v: &CaseView) -> (String, &'static str) {
    let s = &v.case.state;
    if s.status.is_terminal() {
        return ("已完结".into(), "done");
    }
    let working = v.case.facts.clock == Some(LimitClock::Working);
    let cal = &v.catalogue.calendar;
    let (from, to, late) = if v.now > s.deadline {
        (s.deadline, v.now, true)
    } else {
        (v.now, s.deadline, false)
    };
    let minutes = if working {
        working_minutes(cal, from, to)
    } else {
        (to - from) / 60_000
    };
    let span = format!("{} 小时 {} 分", minutes / 60, minutes % 60);
    let clock = if working { "（按工作时间）" } else { "" };
    if late {
        (format!("已超期 {span}{clock}"), "late")
    } else {
        (format!("剩余 {span}{clock}"), "open")
    }
}

/// Working minutes between two instants on the calendar, counted in 15-minute steps (at most
/// 60 days' worth of steps: a deadline further away reads as that).
fn working_minutes(cal: &xiangying_model::org::Calendar, from: i64, to: i64) -> i64 {
    const STEP: i64 = 15 * 60_000;
    let mut t = from;
    let mut n = 0;
    let end = to.min(from + 60 * 24 * 3_600_000);
    while t < end {
        if cal.is_working_time(t) {
            n += 1;
        }
        t += STEP;
    }
    n * 15
}

/// The page body.
fn render(user: &DeskUser, v: &CaseView, flash: Option<&Flash>) -> Markup {
    let f = &v.case.facts;
    let s = &v.case.state;
    let roster = &v.roster;
    let offset = v.catalogue.calendar.utc_offset_minutes();
    let (left, left_class) = deadline_text(v);
    let grid = roster
        .grid(&f.grid)
        .map_or(f.grid.clone(), |g| g.name.clone());
    let community = roster
        .community(&f.community)
        .map_or(f.community.clone(), |c| c.name.clone());
    let segment = f.segment.as_deref().map(|seg| {
        roster
            .segment(seg)
            .map_or(seg.to_string(), |x| x.name.clone())
    });
    html! {
        @match flash {
            Some(Flash::Ok(m)) => p.flash.ok role="status" { (m) },
            Some(Flash::Error(m)) => p.flash.error role="alert" { (m) },
            None => {},
        }
        div.grid3 {
            div {
                section.panel aria-labelledby="facts-h" {
                    h2 #facts-h { "基本信息" }
                    table.facts {
                        tr { th { "状态" } td { span class={"badge " (left_class)} { (s.status.label_zh()) } } }
                        tr { th { "层级" } td { (s.level.label_zh()) } }
                        tr { th { "类别" } td { (f.category_name) " " span.muted { (f.category) } } }
                        tr { th { "问题描述" } td { (f.description) } }
                        tr { th { "位置" } td {
                            (community) " · " (grid)
                            @if let Some(seg) = &segment { " · " (seg) }
                            br; span.muted { (format!("{:.6}, {:.6}", f.location.lat, f.location.lon)) }
                        } }
                        tr { th { "上报人" } td { (person_name(roster, &f.reporter)) } }
                        tr { th { "上报时间" } td { (time::format(f.created_at, offset)) } }
                        tr { th { "当前办理" } td { (assignee_label(roster, s.assignee.as_ref())) } }
                        tr { th { "办理时限" } td {
                            (time::format(s.deadline, offset)) " "
                            span class={"badge " (left_class)} #deadline-left { (left) }
                        } }
                    }
                }
                section.panel aria-labelledby="photos-h" {
                    h2 #photos-h { "照片（" (v.photos.len()) "）" }
                    @if v.photos.is_empty() {
                        p.muted { "没有照片" }
                    } @else {
                        div.photos {
                            @for p in &v.photos {
                                a href=(format!("/desk/cases/{}/photos/{}", v.id, p.hash)) target="_blank" rel="noopener" {
                                    img loading="lazy"
                                        src=(format!("/desk/cases/{}/photos/{}", v.id, p.thumb))
                                        alt=(format!("{}照片，{} 添加", stage_label(p.stage), person_name(roster, &p.added_by)));
                                }
                            }
                        }
                    }
                }
                section.panel aria-labelledby="timeline-h" {
                    h2 #timeline-h { "办理过程" }
                    ol.timeline {
                        @for e in &s.history {
                            @let (label, text) = action_text(roster, &e.event.action);
                            li class=(outcome_class(&e.outcome)) {
                                div.when { (time::format(e.event.at, offset)) " · " (author(roster, &e.event.by)) }
                                div { strong { (label) } @if !text.is_empty() { " " (text) } }
                                @match &e.outcome {
                                    Outcome::Applied => {},
                                    Outcome::Rejected(d) => div.muted { "未生效（" (d.code()) "）" },
                                    Outcome::VoidedByServer(why) => div.muted { "已被系统撤销：" (why) },
                                    Outcome::NotUnderstood => div.muted { "新版本的操作，此版本不能显示" },
                                }
                            }
                        }
                    }
                }
            }
            div {
                section.panel.actions aria-labelledby="actions-h" {
                    h2 #actions-h { "办理" }
                    @if v.allowed.is_empty() {
                        p.muted { "您现在不能对此案件进行操作" }
                    }
                    @for key in &v.allowed {
                        (action_form(user, v, key))
                    }
                }
                section.panel aria-labelledby="map-h" {
                    h2 #map-h { "位置" }
                    (super::place_map(roster, Some((f.location.lat, f.location.lon)), &f.grid))
                }
            }
        }
    }
}

fn stage_label(stage: PhotoStage) -> &'static str {
    match stage {
        PhotoStage::Before => "处置前",
        PhotoStage::After => "处置后",
        PhotoStage::Evidence => "佐证",
    }
}

fn outcome_class(o: &Outcome) -> &'static str {
    match o {
        Outcome::Applied => "applied",
        _ => "not-applied",
    }
}

fn author(roster: &Roster, by: &Author) -> String {
    match by {
        Author::Person(c) => format!(
            "{}（{}）",
            person_name(roster, &c.person),
            c.role.label_zh()
        ),
        Author::Server { .. } => "系统".into(),
    }
}

/// One action's form.
fn action_form(user: &DeskUser, v: &CaseView, key: &str) -> Markup {
    let label = actions::label_of(key);
    let id = |field: &str| format!("{key}-{field}");
    html! {
        form method="post" action=(format!("/desk/cases/{}", v.id)) data-action=(key) {
            (csrf_field(user))
            input type="hidden" name="action" value=(key);
            @match key {
                "dispatch" => {
                    fieldset {
                        legend { "部门" }
                        @for d in &v.roster.departments {
                            label { input type="checkbox" name="department" value=(d.id); " " (d.name) }
                        }
                    }
                    label for=(id("note")) { "派遣说明" }
                    input type="text" id=(id("note")) name="note" maxlength="2000";
                },
                "escalate" | "rework" | "void" => {
                    label for=(id("reason")) { "理由" }
                    input type="text" id=(id("reason")) name="reason" required maxlength="2000";
                },
                "extend" => {
                    label for=(id("hours")) { "延长小时数" }
                    input type="number" id=(id("hours")) name="hours" min="1" max="720" value="24" required;
                    label for=(id("reason")) { "理由" }
                    input type="text" id=(id("reason")) name="reason" required maxlength="2000";
                },
                "duplicate" => {
                    label for=(id("of")) { "与哪个案件重复（案件编号）" }
                    input type="text" id=(id("of")) name="of" required maxlength="64";
                },
                "note" => {
                    label for=(id("text")) { "备注" }
                    input type="text" id=(id("text")) name="text" required maxlength="2000";
                },
                "resolve" => {
                    label for=(id("note")) { "办理结果" }
                    input type="text" id=(id("note")) name="note" required maxlength="2000";
                },
                "accept" => {},
                _ => {
                    label for=(id("note")) { "说明" }
                    input type="text" id=(id("note")) name="note" maxlength="2000";
                },
            }
            button type="submit" class=[(key == "void").then_some("danger")] { (label) }
        }
    }
}

async fn photo(
    State(state): State<Shared>,
    user: DeskUser,
    Path((id, hash)): Path<(String, String)>,
) -> Result<Response, DeskError> {
    if !crate::blobs::valid_hash(&hash) || uuid::Uuid::parse_str(&id).is_err() {
        return Err(DeskError::NotFound("没有这张照片".into()));
    }
    let st = state.clone();
    let blob = blocking(move || {
        let ok = with_tx(st.storage.as_ref(), |tx| {
            photo_allowed(tx, &st, &user, &id, &hash, super::now_ms())
        })?;
        if !ok {
            return Err(ServerError::NotFound);
        }
        st.blobs.open(&hash)
    })
    .await
    .map_err(|e| match e {
        ServerError::NotFound => DeskError::NotFound("没有这张照片，或您无权查看".into()),
        other => DeskError::Server(other),
    })?;
    let len = blob.len;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            (header::CONTENT_LENGTH, HeaderValue::from(len)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400, immutable"),
            ),
        ],
        Body::from_stream(blob.into_stream()),
    )
        .into_response())
}

/// Whether `user` may read file `hash` through case `id`: they may see the case, the case
/// cites the file, and (as for phones) whoever cited it uploaded it, unless no uploader was
/// recorded.
fn photo_allowed(
    tx: &mut dyn Tx,
    state: &crate::state::AppState,
    user: &DeskUser,
    id: &str,
    hash: &str,
    now: i64,
) -> Result<bool, ServerError> {
    let Some(view) = load(tx, state, user, id, now)? else {
        return Ok(false);
    };
    let citers: Vec<&str> = view
        .photos
        .iter()
        .filter(|p| p.hash == hash || p.thumb == hash)
        .map(|p| p.added_by.as_str())
        .collect();
    if citers.is_empty() {
        return Ok(false);
    }
    let uploaders = tx.photo_uploaders(&PhotoHash::from(hash.to_string()))?;
    Ok(uploaders.is_empty()
        || uploaders
            .iter()
            .any(|u| citers.contains(&u.person.as_str())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_action_is_refused_by_name() {
        let fields = vec![("action".to_string(), "launch".to_string())];
        let e = parse_action(&fields).unwrap_err();
        assert!(e.to_string().contains("launch"), "{e}");
    }

    #[test]
    fn extension_hours_must_be_a_number() {
        let fields = vec![
            ("action".to_string(), "extend".to_string()),
            ("hours".to_string(), "lots".to_string()),
        ];
        assert!(matches!(
            parse_action(&fields),
            Err(DeskError::BadRequest(_))
        ));
    }

    #[test]
    fn dispatch_takes_every_checked_department() {
        let fields = vec![
            ("action".to_string(), "dispatch".to_string()),
            ("department".to_string(), "d1".to_string()),
            ("department".to_string(), "d2".to_string()),
            ("note".to_string(), " 尽快 ".to_string()),
        ];
        let (_, a) = parse_action(&fields).unwrap();
        assert_eq!(
            a,
            DeskAction::Dispatch {
                departments: vec!["d1".into(), "d2".into()],
                note: "尽快".into()
            }
        );
    }
}
