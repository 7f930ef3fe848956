//! 案件: the case list at `/desk/cases`: a filter form (status or group, category, grid,
//! community, department, period, overdue), a search box for a number or text, sortable
//! column headers, paging and the total, every row linking to its case page. The filters live
//! in the query string, so a list can be bookmarked; a hostile query string is refused in
//! Chinese naming the field ([`parse_query`]). Data ([`load`]) and rendering ([`render`]) are
//! apart, so both are tested without a browser.

use super::Shared;
use super::error::DeskError;
use super::index::{self, CaseList, CaseQuery, DeskCase, MAX_PER_PAGE, SortKey, StatusFilter};
use super::layout::{self, Nav};
use super::session::DeskUser;
use crate::error::ServerError;
use crate::storage::{Storage, with_tx};
use axum::Router;
use axum::extract::{Query, State};
use axum::routing::get;
use maud::{Markup, html};
use xiangying_model::case::Status;
use xiangying_model::org::{Catalogue, Roster};
use xiangying_model::sync::scope::ReadScope;

/// The longest query string the list reads (bytes).
pub const MAX_QUERY: usize = 2_048;
/// A day, in ms.
const DAY_MS: i64 = 86_400_000;
pub use super::time::{china_day_start, china_time};

/// Reads the list's query string; unknown keys are ignored, empty values mean "any".
pub fn parse_query(pairs: &[(String, String)]) -> Result<CaseQuery, DeskError> {
    let bad = |m: String| DeskError::BadRequest(m);
    let total: usize = pairs.iter().map(|(k, v)| k.len() + v.len() + 2).sum();
    if total > MAX_QUERY || pairs.len() > 32 {
        return Err(bad(format!("查询条件过长（最多 {MAX_QUERY} 字节）")));
    }
    let mut q = CaseQuery::default();
    let opt = |v: &str| {
        let v = v.trim();
        (!v.is_empty()).then(|| v.to_string())
    };
    for (k, v) in pairs {
        match k.as_str() {
            "status" => {
                q.status = match opt(v) {
                    None => None,
                    Some(s) => Some(
                        StatusFilter::parse(&s).ok_or_else(|| bad("“状态”的取值无效".into()))?,
                    ),
                }
            }
            "category" => q.category = opt(v),
            "grid" => q.grid = opt(v),
            "community" => q.community = opt(v),
            "department" => q.department = opt(v),
            "reporter" => q.reporter = opt(v),
            "overdue" => q.overdue = matches!(v.as_str(), "1" | "on" | "true"),
            "from" => {
                q.created_from = opt(v)
                    .map(|d| crate::reports::day_start_ms(&d))
                    .transpose()
                    .map_err(|_| bad("“上报日期（起）”须是 2026-01-31 这样的日期".into()))?
            }
            "to" => {
                q.created_to = opt(v)
                    .map(|d| crate::reports::day_start_ms(&d).map(|t| t + DAY_MS))
                    .transpose()
                    .map_err(|_| bad("“上报日期（止）”须是 2026-01-31 这样的日期".into()))?
            }
            "q" => {
                q.number = None;
                q.text = None;
                if let Some(s) = opt(v) {
                    if looks_like_number(&s) {
                        q.number = Some(s);
                    } else {
                        q.text = Some(s);
                    }
                }
            }
            "sort" => q.sort = SortKey::parse(v).ok_or_else(|| bad("“排序”的取值无效".into()))?,
            "dir" => {
                q.desc = match v.as_str() {
                    "desc" => true,
                    "asc" => false,
                    _ => return Err(bad("“排序方向”须是 asc 或 desc".into())),
                }
            }
            "page" => {
                q.page = v
                    .parse()
                    .map_err(|_| bad(format!("“页码”须是 1 到 {} 的整数", index::MAX_PAGE)))?
            }
            "per_page" => {
                q.per_page = v
                    .parse()
                    .map_err(|_| bad(format!("“每页条数”须是 1 到 {MAX_PER_PAGE} 的整数")))?
            }
            _ => {}
        }
    }
    q.check().map_err(bad)?;
    Ok(q)
}

/// A search that reads as a case number (letters, digits and dashes, with a digit): matched
/// as a number prefix; anything else is text.
fn looks_like_number(s: &str) -> bool {
    s.chars().any(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// The query string of `q` (default values left out), for links.
pub fn query_string(q: &CaseQuery) -> String {
    let d = CaseQuery::default();
    let mut out: Vec<(&str, String)> = Vec::new();
    if let Some(s) = q.status {
        out.push(("status", s.as_str().into()));
    }
    for (k, v) in [
        ("category", &q.category),
        ("grid", &q.grid),
        ("community", &q.community),
        ("department", &q.department),
        ("reporter", &q.reporter),
    ] {
        if let Some(v) = v {
            out.push((k, v.clone()));
        }
    }
    if q.overdue {
        out.push(("overdue", "1".into()));
    }
    if let Some(t) = q.created_from {
        out.push(("from", china_time(t, "%Y-%m-%d")));
    }
    if let Some(t) = q.created_to {
        out.push(("to", china_time(t - DAY_MS, "%Y-%m-%d")));
    }
    if let Some(s) = q.number.as_ref().or(q.text.as_ref()) {
        out.push(("q", s.clone()));
    }
    if q.sort != d.sort {
        out.push(("sort", q.sort.as_str().into()));
    }
    if q.desc != d.desc {
        out.push(("dir", if q.desc { "desc" } else { "asc" }.into()));
    }
    if q.page != d.page {
        out.push(("page", q.page.to_string()));
    }
    if q.per_page != d.per_page {
        out.push(("per_page", q.per_page.to_string()));
    }
    out.iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// `application/x-www-form-urlencoded` encoding of a value.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The list's address for `q`.
pub fn href(q: &CaseQuery) -> String {
    let qs = query_string(q);
    if qs.is_empty() {
        "/desk/cases".to_string()
    } else {
        format!("/desk/cases?{qs}")
    }
}

/// What the list page shows.
#[derive(Debug, Clone)]
pub struct CasesPage {
    /// The page of cases and the total.
    pub list: CaseList,
    /// The published catalogue (for the category filter), if any.
    pub catalogue: Option<Catalogue>,
}

/// Loads a page of the list for a reader's scope.
pub fn load(
    storage: &dyn Storage,
    scope: &ReadScope,
    q: &CaseQuery,
    now: i64,
) -> Result<CasesPage, ServerError> {
    with_tx(storage, |tx| {
        let list = index::list(tx, scope, q, now)?;
        let catalogue = super::published_catalogue(tx)?;
        Ok(CasesPage { list, catalogue })
    })
}

/// A status badge's class.
fn badge_class(c: &DeskCase) -> &'static str {
    match Status::parse(&c.status) {
        _ if c.overdue => "late",
        Some(Status::Closed) => "done",
        Some(s) if s.is_terminal() => "void",
        _ => "open",
    }
}

/// A grid's name (its id when the roster does not know it).
fn grid_name<'a>(roster: &'a Roster, id: &'a str) -> &'a str {
    roster.grid(id).map(|g| g.name.as_str()).unwrap_or(id)
}

/// A community's name.
fn community_name<'a>(roster: &'a Roster, id: &'a str) -> &'a str {
    roster.community(id).map(|g| g.name.as_str()).unwrap_or(id)
}

/// A sortable column header: a link that sorts by `key`, descending first, flipping when it
/// is already the sort; `aria-sort` on the current one.
fn sort_header(q: &CaseQuery, key: SortKey, label: &str) -> Markup {
    let current = q.sort == key;
    let mut next = q.clone();
    next.sort = key;
    next.desc = !(current && q.desc);
    next.page = 1;
    let aria = current.then_some(if q.desc { "descending" } else { "ascending" });
    let arrow = if current {
        if q.desc { " ↓" } else { " ↑" }
    } else {
        ""
    };
    html! {
        th aria-sort=[aria] {
            a href=(href(&next)) title={ "按" (label) "排序" } { (label) (arrow) }
        }
    }
}

/// Renders the list page.
pub fn render(user: &DeskUser, q: &CaseQuery, page: &CasesPage, now: i64) -> Markup {
    let roster = &user.roster;
    let list = &page.list;
    let pages = list.total.div_ceil(u64::from(q.per_page)).max(1);
    let first = u64::from(q.page - 1) * u64::from(q.per_page);
    let search = q
        .number
        .as_ref()
        .or(q.text.as_ref())
        .cloned()
        .unwrap_or_default();
    let status_value = q.status.map(StatusFilter::as_str).unwrap_or("");
    let prev_href = (q.page > 1).then(|| {
        let mut prev = q.clone();
        prev.page -= 1;
        href(&prev)
    });
    let next_href = (u64::from(q.page) < pages && q.page < index::MAX_PAGE).then(|| {
        let mut next = q.clone();
        next.page += 1;
        href(&next)
    });
    let body = html! {
        form.filters method="get" action="/desk/cases" role="search" aria-label="筛选案件" {
            label { "搜索（编号或文字）"
                input type="search" name="q" value=(search) maxlength=(index::MAX_TEXT)
                    placeholder="如 ZX-20260105 或 井盖";
            }
            label { "状态"
                select name="status" {
                    option value="" selected[status_value.is_empty()] { "全部" }
                    @for g in [StatusFilter::Unfinished, StatusFilter::Finished, StatusFilter::Overdue] {
                        option value=(g.as_str()) selected[status_value == g.as_str()] { (g.label_zh()) }
                    }
                    @for s in Status::ALL {
                        option value=(s.as_str()) selected[status_value == s.as_str()] { (s.label_zh()) }
                    }
                }
            }
            label { "分类"
                select name="category" {
                    option value="" { "全部" }
                    @if let Some(cat) = &page.catalogue {
                        @for c in &cat.categories {
                            option value=(c.code) selected[q.category.as_deref() == Some(c.code.as_str())] {
                                (c.big_name) " · " (c.name)
                            }
                        }
                    }
                }
            }
            label { "社区"
                select name="community" {
                    option value="" { "全部" }
                    @for c in &roster.communities {
                        option value=(c.id) selected[q.community.as_deref() == Some(c.id.as_str())] { (c.name) }
                    }
                }
            }
            label { "网格"
                select name="grid" {
                    option value="" { "全部" }
                    @for g in &roster.grids {
                        option value=(g.id) selected[q.grid.as_deref() == Some(g.id.as_str())] { (g.name) }
                    }
                }
            }
            label { "部门"
                select name="department" {
                    option value="" { "全部" }
                    @for d in &roster.departments {
                        option value=(d.id) selected[q.department.as_deref() == Some(d.id.as_str())] { (d.name) }
                    }
                }
            }
            label { "上报日期（起）"
                input type="date" name="from" value=[q.created_from.map(|t| china_time(t, "%Y-%m-%d"))];
            }
            label { "上报日期（止）"
                input type="date" name="to" value=[q.created_to.map(|t| china_time(t - DAY_MS, "%Y-%m-%d"))];
            }
            @if let Some(r) = &q.reporter {
                input type="hidden" name="reporter" value=(r);
            }
            label.check { span { "仅超期" }
                input type="checkbox" name="overdue" value="1" checked[q.overdue];
            }
            @if q.sort != SortKey::Created { input type="hidden" name="sort" value=(q.sort.as_str()); }
            @if !q.desc { input type="hidden" name="dir" value="asc"; }
            button type="submit" { "筛选" }
            a.button.secondary href="/desk/cases" { "清除" }
        }
        p #case-count role="status" {
            "共 " strong { (list.total) } " 件"
            @if list.total > 0 {
                "，第 " (first + 1) "–" (first + list.rows.len() as u64) " 件"
            }
        }
        table.cases {
            caption.skip { "案件列表" }
            thead {
                tr {
                    (sort_header(q, SortKey::Number, "编号"))
                    th { "状态" }
                    th { "分类" }
                    th { "摘要" }
                    th { "社区 / 网格" }
                    th { "当前处理" }
                    (sort_header(q, SortKey::Created, "上报时间"))
                    (sort_header(q, SortKey::Deadline, "期限"))
                    (sort_header(q, SortKey::Updated, "更新时间"))
                }
            }
            tbody {
                @if list.rows.is_empty() {
                    tr { td colspan="9" .muted { "没有符合条件的案件" } }
                }
                @for c in &list.rows {
                    tr.overdue[c.overdue] data-case=(c.case_id) {
                        td { a href={ "/desk/cases/" (c.case_id) } { (c.number.as_deref().unwrap_or("（待编号）")) } }
                        td {
                            span class={ "badge " (badge_class(c)) } { (c.status_label) }
                            @if c.overdue { " " span.badge.late { "超期" } }
                        }
                        td { (c.category_label) }
                        td { (c.summary) }
                        td { (community_name(roster, &c.community)) " / " (grid_name(roster, &c.grid)) }
                        td { (c.assignee_label) }
                        td.num { (china_time(c.created_at, "%m-%d %H:%M")) }
                        td.num { @if let Some(d) = c.deadline { (china_time(d, "%m-%d %H:%M")) } }
                        td.num { (china_time(c.updated_at, "%m-%d %H:%M")) }
                    }
                }
            }
        }
        nav.pager aria-label="翻页" {
            @if let Some(h) = &prev_href {
                a href=(h) rel="prev" { "上一页" }
            }
            span { "第 " (q.page) " / " (pages) " 页" }
            @if let Some(h) = &next_href {
                a href=(h) rel="next" { "下一页" }
            }
        }
        p.muted.no-print { "数据时间：" (china_time(now, "%Y-%m-%d %H:%M")) }
    };
    layout::page(user, Nav::Cases, "案件", body)
}

/// `GET /desk/cases`.
async fn cases_page(
    user: DeskUser,
    State(state): State<Shared>,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Result<Markup, DeskError> {
    let q = parse_query(&pairs)?;
    let scope = crate::sync::scope_of(&user.roster, &user.person);
    let storage = state.storage.clone();
    let now = chrono::Utc::now().timestamp_millis();
    let loaded = {
        let q = q.clone();
        crate::tasks::blocking(move || load(&*storage, &scope, &q, now)).await?
    };
    Ok(render(&user, &q, &loaded, now))
}

/// The list's route.
pub fn routes() -> Router<Shared> {
    Router::new().route("/desk/cases", get(cases_page))
}

#[cfg(test)]
#[path = "cases_tests.rs"]
mod tests;
