//! The desk's case index (decision 0040): one row per case document, written from the folded
//! case inside every push ([`update`], called by `sync::push_case` right after `save_case`, so
//! desk actions that go through the push judgement keep it current too), filled for a store
//! written before it existed ([`catch_up`]), and read by the case list, the map's pins and the
//! overview ([`list`], [`pins`], [`count`], [`daily`]), always within the reader's
//! [`ReadScope`].

use crate::error::ServerError;
use crate::storage::desk_index::{DeskRow, GroupBy, IndexFilter, IndexSort, Overdue};
use crate::storage::{DeskIndexTx, DocTx, Result, Storage, Tx, with_tx};
use automerge::ActorId;
use xiangying_model::case::{Action, Assignee, CaseDoc, CaseState, Facts, Outcome, Status, fold};
use xiangying_model::document::Document;
use xiangying_model::ids::DocId;
use xiangying_model::org::{Level, Roster};
use xiangying_model::sync::scope::ReadScope;
use xiangying_model::sync::synced::SyncedDoc;

/// The index's version, kept in `server_meta` under [`VERSION_KEY`]: a store whose recorded
/// version differs is re-indexed whole when the server opens it ([`catch_up`]).
pub const VERSION: &str = "1";
/// The `server_meta` key of the index's version.
pub const VERSION_KEY: &str = "desk_index_version";
/// The longest searchable text kept per case (characters).
const SEARCH_CHARS: usize = 400;
/// The longest summary kept per case (characters).
const SUMMARY_CHARS: usize = 60;
/// How many cases one catch-up transaction indexes.
const BATCH: u32 = 500;
/// The longest text filter (characters).
pub const MAX_TEXT: usize = 50;
/// The longest id filter (bytes).
pub const MAX_ID: usize = 64;
/// The most rows a page holds.
pub const MAX_PER_PAGE: u32 = 100;
/// The last page a list may be read to.
pub const MAX_PAGE: u32 = 1_000;

/// One case as the desk lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskCase {
    /// The case id (the case page is `/desk/cases/{case_id}`).
    pub case_id: String,
    /// Human number, once given.
    pub number: Option<String>,
    /// Status (`Status::as_str`).
    pub status: String,
    /// Status in Chinese.
    pub status_label: &'static str,
    /// Level (`Level::as_str`).
    pub level: String,
    /// Level in Chinese.
    pub level_label: &'static str,
    /// Category code.
    pub category: String,
    /// Category name, as the case recorded it.
    pub category_label: String,
    /// Grid id.
    pub grid: String,
    /// Community id.
    pub community: String,
    /// Reporter's person id.
    pub reporter: String,
    /// Who the case waits on, in Chinese ("" once finished).
    pub assignee_label: String,
    /// Departments it was dispatched to (ids).
    pub departments: Vec<String>,
    /// Deadline (ms).
    pub deadline: Option<i64>,
    /// Open work past its deadline now.
    pub overdue: bool,
    /// Raised at (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// Closed at (ms).
    pub closed_at: Option<i64>,
    /// Latitude (WGS-84).
    pub lat: Option<f64>,
    /// Longitude (WGS-84).
    pub lon: Option<f64>,
    /// The start of the description.
    pub summary: String,
}

impl DeskCase {
    /// A stored row as the desk shows it at `now`.
    pub fn of_row(r: DeskRow, now: i64) -> DeskCase {
        let status = Status::parse(&r.status);
        let overdue = status.is_some_and(Status::is_open) && r.deadline.is_some_and(|d| now > d);
        DeskCase {
            status_label: status.map(Status::label_zh).unwrap_or("未知"),
            level_label: Level::parse(&r.level)
                .map(Level::label_zh)
                .unwrap_or("未知"),
            case_id: r.case_id,
            number: r.number,
            status: r.status,
            level: r.level,
            category: r.category,
            category_label: r.category_name,
            grid: r.grid,
            community: r.community,
            reporter: r.reporter,
            assignee_label: r.assignee,
            departments: r.departments,
            deadline: r.deadline,
            overdue,
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
            lat: r.lat,
            lon: r.lon,
            summary: r.summary,
        }
    }
}

/// A status filter: one status or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// One status.
    One(Status),
    /// 未结: not finished (every status but closed, voided, duplicate).
    Unfinished,
    /// 已结: finished.
    Finished,
    /// 超期: open work past its deadline.
    Overdue,
    /// 办理中: at work (not finished, not awaiting verification or closing).
    Open,
    /// 待核查: resolved or verified, awaiting the next step.
    Awaiting,
}

impl StatusFilter {
    /// The groups' query values, and then each status's `as_str`.
    pub fn parse(s: &str) -> Option<StatusFilter> {
        match s {
            "unfinished" => Some(StatusFilter::Unfinished),
            "finished" => Some(StatusFilter::Finished),
            "overdue" => Some(StatusFilter::Overdue),
            "open" => Some(StatusFilter::Open),
            "awaiting" => Some(StatusFilter::Awaiting),
            other => Status::parse(other).map(StatusFilter::One),
        }
    }

    /// Its query value.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusFilter::One(s) => s.as_str(),
            StatusFilter::Unfinished => "unfinished",
            StatusFilter::Finished => "finished",
            StatusFilter::Overdue => "overdue",
            StatusFilter::Open => "open",
            StatusFilter::Awaiting => "awaiting",
        }
    }

    /// In Chinese.
    pub fn label_zh(self) -> &'static str {
        match self {
            StatusFilter::One(s) => s.label_zh(),
            StatusFilter::Unfinished => "未结（全部）",
            StatusFilter::Finished => "已结（全部）",
            StatusFilter::Overdue => "超期",
            StatusFilter::Open => "办理中（全部）",
            StatusFilter::Awaiting => "待核查（全部）",
        }
    }
}

/// What a list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    /// 上报时间.
    Created,
    /// 更新时间.
    Updated,
    /// 期限.
    Deadline,
    /// 编号.
    Number,
}

impl SortKey {
    /// Every key.
    pub const ALL: [SortKey; 4] = [
        SortKey::Created,
        SortKey::Updated,
        SortKey::Deadline,
        SortKey::Number,
    ];

    /// Its query value.
    pub fn as_str(self) -> &'static str {
        match self {
            SortKey::Created => "created",
            SortKey::Updated => "updated",
            SortKey::Deadline => "deadline",
            SortKey::Number => "number",
        }
    }

    /// Parses [`SortKey::as_str`].
    pub fn parse(s: &str) -> Option<SortKey> {
        SortKey::ALL.into_iter().find(|k| k.as_str() == s)
    }

    fn index(self) -> IndexSort {
        match self {
            SortKey::Created => IndexSort::Created,
            SortKey::Updated => IndexSort::Updated,
            SortKey::Deadline => IndexSort::Deadline,
            SortKey::Number => IndexSort::Number,
        }
    }
}

/// A desk query: every filter optional, a sort and a page. Build it checked with
/// [`CaseQuery::check`] (the case list parses one from its query string).
#[derive(Debug, Clone, PartialEq)]
pub struct CaseQuery {
    /// Status or group.
    pub status: Option<StatusFilter>,
    /// Category code.
    pub category: Option<String>,
    /// Grid id.
    pub grid: Option<String>,
    /// Community id.
    pub community: Option<String>,
    /// Department id.
    pub department: Option<String>,
    /// Reporter's person id.
    pub reporter: Option<String>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Raised at or after (ms).
    pub created_from: Option<i64>,
    /// Raised before (ms).
    pub created_to: Option<i64>,
    /// Number, exact or a prefix.
    pub number: Option<String>,
    /// Text in the number, description or place names.
    pub text: Option<String>,
    /// Sort key.
    pub sort: SortKey,
    /// Descending.
    pub desc: bool,
    /// Page, from 1.
    pub page: u32,
    /// Rows per page.
    pub per_page: u32,
}

impl Default for CaseQuery {
    fn default() -> Self {
        CaseQuery {
            status: None,
            category: None,
            grid: None,
            community: None,
            department: None,
            reporter: None,
            overdue: false,
            created_from: None,
            created_to: None,
            number: None,
            text: None,
            sort: SortKey::Created,
            desc: true,
            page: 1,
            per_page: 20,
        }
    }
}

impl CaseQuery {
    /// Refuses what the index will not be asked: over-long texts, pages past the limit, a
    /// period that ends before it starts; each refusal in Chinese, naming the field.
    pub fn check(&self) -> std::result::Result<(), String> {
        for (name, v) in [
            ("分类", &self.category),
            ("网格", &self.grid),
            ("社区", &self.community),
            ("部门", &self.department),
            ("上报人", &self.reporter),
            ("案件编号", &self.number),
        ] {
            if let Some(v) = v
                && (v.len() > MAX_ID || v.chars().any(char::is_control))
            {
                return Err(format!(
                    "“{name}”过长或含有不可见字符（最多 {MAX_ID} 字节）"
                ));
            }
        }
        if let Some(t) = &self.text
            && (t.chars().count() > MAX_TEXT || t.chars().any(char::is_control))
        {
            return Err(format!(
                "“搜索”过长或含有不可见字符（最多 {MAX_TEXT} 个字）"
            ));
        }
        if self.per_page == 0 || self.per_page > MAX_PER_PAGE {
            return Err(format!("“每页条数”须在 1 到 {MAX_PER_PAGE} 之间"));
        }
        if self.page == 0 || self.page > MAX_PAGE {
            return Err(format!("“页码”须在 1 到 {MAX_PAGE} 之间"));
        }
        if let (Some(a), Some(b)) = (self.created_from, self.created_to)
            && b <= a
        {
            return Err("“上报时间”的结束日期早于开始日期".to_string());
        }
        Ok(())
    }

    /// The storage filter within `scope`, at `now`.
    pub fn filter(&self, scope: &ReadScope, now: i64) -> IndexFilter {
        let overdue = || Overdue {
            now,
            open: statuses(Status::is_open),
        };
        let mut f = IndexFilter {
            scope_all: scope.all,
            scope_keys: scope.keys.iter().map(ToString::to_string).collect(),
            category: self.category.clone(),
            grid: self.grid.clone(),
            community: self.community.clone(),
            department: self.department.clone(),
            reporter: self.reporter.clone(),
            created_from: self.created_from,
            created_to: self.created_to,
            number_prefix: self.number.clone(),
            text: self.text.as_ref().map(|t| t.to_lowercase()),
            overdue: self.overdue.then(overdue),
            ..IndexFilter::default()
        };
        match self.status {
            None => {}
            Some(StatusFilter::One(s)) => f.statuses = vec![s.as_str().to_string()],
            Some(StatusFilter::Unfinished) => f.statuses = statuses(|s| !s.is_terminal()),
            Some(StatusFilter::Finished) => f.statuses = statuses(Status::is_terminal),
            Some(StatusFilter::Overdue) => f.overdue = Some(overdue()),
            Some(StatusFilter::Open) => f.statuses = statuses(Status::is_open),
            Some(StatusFilter::Awaiting) => {
                f.statuses = statuses(|s| matches!(s, Status::Resolved | Status::Verified));
            }
        }
        f
    }
}

/// The statuses (as stored) that `pred` holds for.
fn statuses(pred: impl Fn(Status) -> bool) -> Vec<String> {
    Status::ALL
        .into_iter()
        .filter(|s| pred(*s))
        .map(|s| s.as_str().to_string())
        .collect()
}

/// A page of a list and how many cases the filters select in all.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseList {
    /// The page's rows.
    pub rows: Vec<DeskCase>,
    /// How many cases match.
    pub total: u64,
}

fn refused(m: String) -> ServerError {
    ServerError::BadRequest(m)
}

/// A page of the cases `q` selects within `scope`, and their total.
pub fn list(tx: &mut dyn Tx, scope: &ReadScope, q: &CaseQuery, now: i64) -> Result<CaseList> {
    q.check().map_err(refused)?;
    let f = q.filter(scope, now);
    let total = tx.desk_count(&f)?;
    let offset = u64::from(q.page - 1) * u64::from(q.per_page);
    let rows = tx
        .desk_cases(&f, q.sort.index(), q.desc, q.per_page, offset)?
        .into_iter()
        .map(|r| DeskCase::of_row(r, now))
        .collect();
    Ok(CaseList { rows, total })
}

/// The map's pins: the cases `q` selects within `scope` that have a place, in `q`'s order,
/// at most `max` (`q`'s page is ignored).
pub fn pins(
    tx: &mut dyn Tx,
    scope: &ReadScope,
    q: &CaseQuery,
    now: i64,
    max: usize,
) -> Result<Vec<DeskCase>> {
    q.check().map_err(refused)?;
    let mut f = q.filter(scope, now);
    f.with_place = true;
    let max = u32::try_from(max).unwrap_or(u32::MAX);
    Ok(tx
        .desk_cases(&f, q.sort.index(), q.desc, max, 0)?
        .into_iter()
        .map(|r| DeskCase::of_row(r, now))
        .collect())
}

/// How many cases `f` selects (the overview's figures).
pub fn count(tx: &mut dyn DeskIndexTx, f: &IndexFilter) -> Result<u64> {
    tx.desk_count(f)
}

/// Daily counts per category or grid (the overview's trends).
pub fn daily(
    tx: &mut dyn DeskIndexTx,
    f: &IndexFilter,
    by: GroupBy,
) -> Result<Vec<(String, i64, u64)>> {
    tx.desk_daily(f, by)
}

/// Re-indexes a pushed document if it is a case (patrols and other kinds are not listed at
/// the desk). Called by `sync::push_case` right after `save_case`, in the same transaction,
/// with the facts and state the push was judged on (`folded`); without them the document is
/// read and folded here.
pub fn update(
    tx: &mut dyn Tx,
    roster: Option<&Roster>,
    doc: &SyncedDoc,
    folded: Option<&(Facts, CaseState)>,
) -> Result<()> {
    let Some(case) = doc.downcast_ref::<CaseDoc>() else {
        return Ok(());
    };
    if let Some((facts, state)) = folded {
        return tx.put_desk_case(&row_of(roster, facts, state, case.number()));
    }
    let corrupt =
        |e: xiangying_model::case::DocError| ServerError::Internal(format!("case index: {e}"));
    let facts = case.facts().map_err(corrupt)?;
    let events = case.events().map_err(corrupt)?;
    let state = fold(&facts, &events);
    tx.put_desk_case(&row_of(roster, &facts, &state, case.number()))
}

/// The index row of a folded case.
/// Names come from `roster` when there is one (ids otherwise).
pub fn row_of(
    roster: Option<&Roster>,
    facts: &Facts,
    state: &CaseState,
    number: Option<String>,
) -> DeskRow {
    let mut departments: Vec<String> = Vec::new();
    for e in &state.history {
        if e.outcome == Outcome::Applied
            && let Action::Dispatched {
                departments: ds, ..
            } = &e.event.action
        {
            for d in ds {
                if !departments.contains(d) {
                    departments.push(d.clone());
                }
            }
        }
    }
    let assignee = if state.status.is_terminal() {
        String::new()
    } else {
        assignee_label(roster, state.assignee.as_ref())
    };
    let segment = facts
        .segment
        .as_deref()
        .and_then(|s| roster?.segment(s))
        .map(|s| s.name.as_str())
        .unwrap_or("");
    let grid = roster
        .and_then(|r| r.grid(&facts.grid))
        .map(|g| g.name.as_str())
        .unwrap_or("");
    let search: String = format!(
        "{} {} {} {} {}",
        number.as_deref().unwrap_or(""),
        facts.category_name,
        segment,
        grid,
        facts.description
    )
    .to_lowercase()
    .chars()
    .take(SEARCH_CHARS)
    .collect();
    let place = (facts.location.lat != 0.0 || facts.location.lon != 0.0)
        && facts.location.lat.is_finite()
        && facts.location.lon.is_finite();
    DeskRow {
        case_id: facts.id.clone(),
        number,
        status: state.status.as_str().to_string(),
        level: state.level.as_str().to_string(),
        category: facts.category.clone(),
        category_name: facts.category_name.clone(),
        grid: facts.grid.clone(),
        community: facts.community.clone(),
        reporter: facts.reporter.clone(),
        assignee,
        departments,
        deadline: Some(state.deadline),
        created_at: facts.created_at,
        updated_at: state.updated_at.max(facts.created_at),
        closed_at: state.closed_at,
        lat: place.then_some(facts.location.lat),
        lon: place.then_some(facts.location.lon),
        summary: facts.description.chars().take(SUMMARY_CHARS).collect(),
        search,
    }
}

/// Who a case waits on, in Chinese, names from the roster (ids when it does not know them).
fn assignee_label(roster: Option<&Roster>, a: Option<&Assignee>) -> String {
    match a {
        None => String::new(),
        Some(Assignee::Person(p)) => roster
            .and_then(|r| r.person(p))
            .map(|x| x.name.clone())
            .unwrap_or_else(|| p.clone()),
        Some(Assignee::Center) => "街道网格中心".to_string(),
        Some(Assignee::Departments(ds)) => ds
            .iter()
            .map(|d| {
                roster
                    .and_then(|r| r.department(d))
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| d.clone())
            })
            .collect::<Vec<_>>()
            .join("、"),
        Some(Assignee::Volunteers(c)) => format!(
            "{}志愿者",
            roster
                .and_then(|r| r.community(c))
                .map(|x| x.name.as_str())
                .unwrap_or(c)
        ),
    }
}

/// Indexes every stored case when the store's index is behind (written before the index
/// existed, or by an older index version): in batches of `BATCH` cases, one transaction
/// each, logging progress; then records [`VERSION`]. Returns how many cases it indexed (0
/// when the index was current).
pub fn catch_up(storage: &dyn Storage) -> Result<u64> {
    if with_tx(storage, |tx| tx.meta(VERSION_KEY))?.as_deref() == Some(VERSION) {
        return Ok(0);
    }
    let roster =
        with_tx(storage, |tx| tx.org())?.and_then(|o| Roster::from_json("roster", &o.roster).ok());
    let (total, _, _) = with_tx(storage, |tx| tx.counts())?;
    tracing::info!(
        documents = total,
        "desk case index: indexing the stored cases"
    );
    let mut after = DocId::from(String::new());
    let mut done = 0u64;
    loop {
        let (last, n) = with_tx(storage, |tx| index_batch(tx, roster.as_ref(), &after))?;
        done += n;
        let Some(last) = last else { break };
        after = last;
        tracing::info!(done, total, "desk case index: indexing");
    }
    with_tx(storage, |tx| tx.set_meta(VERSION_KEY, VERSION))?;
    tracing::info!(cases = done, "desk case index: up to date");
    Ok(done)
}

/// Indexes the cases of one page after `after`; returns the page's last id (`None` at the
/// end) and how many cases it indexed.
fn index_batch(
    tx: &mut dyn Tx,
    roster: Option<&Roster>,
    after: &DocId,
) -> Result<(Option<DocId>, u64)> {
    // Read only: the actor id is never written with.
    let actor = ActorId::from(b"xiangying-desk-index".to_vec());
    let page = DocTx::cases_after(tx, after, BATCH)?;
    let mut n = 0;
    for stored in &page {
        let doc = SyncedDoc::load(&stored.row.snapshot, &actor)
            .map_err(|e| ServerError::Internal(format!("stored case {}: {e}", stored.case_id)))?;
        if doc.downcast_ref::<CaseDoc>().is_some() {
            update(tx, roster, &doc, None)?;
            n += 1;
        }
    }
    Ok((page.last().map(|s| s.case_id.clone()), n))
}

#[cfg(test)]
#[path = "index_tests.rs"]
pub(crate) mod tests;
