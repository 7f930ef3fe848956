//! 考核: the rankings of grids, communities, departments and people over a period (China
//! time), with a bar of each unit's score, the weekly accompaniment count (三陪同), and the
//! same tables as CSV and Excel downloads.
//!
//! The rankings are the street's (they are published), computed by
//! [`reports::rankings`] over every stored case exactly as the admin CLI does; only the
//! presentation is the desk's. A period is bounded ([`MAX_DAYS`]) and every query field is
//! checked before any work, with a refusal in Chinese naming the field.
//!
//! Data loading ([`load`]) is kept apart from rendering ([`body`], [`csv`], [`xlsx`]), which
//! are pure functions of what was loaded.

use super::Shared;
use super::download;
use super::error::DeskError;
use super::layout::{self, Nav};
use super::session::DeskUser;
use crate::error::ServerError;
use crate::reports;
use crate::storage::Storage;
use crate::tasks::blocking;
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use cache::RankingsCache;
use chrono::{Datelike, NaiveDate, Utc};
use maud::{Markup, html};
use rust_xlsxwriter::{Format, Workbook, XlsxError};
use std::sync::Arc;
use xiangying_model::org::Roster;
use xiangying_model::patrol::weekly::OFFICIAL_PER_WEEK;
use xiangying_model::report::{RankedUnit, Rankings, UnitKind};

/// The longest period shown, in days (both ends included).
pub const MAX_DAYS: i64 = 366;
/// The longest query field accepted, in bytes.
const MAX_FIELD: usize = 32;
/// The most weeks of the accompaniment table (a period of [`MAX_DAYS`] touches 54).
const MAX_WEEKS: usize = 54;
/// The four kinds, in the tabs' order.
pub const KINDS: [UnitKind; 4] = [
    UnitKind::Grid,
    UnitKind::Community,
    UnitKind::Department,
    UnitKind::Person,
];

/// The query of the page and its downloads, as sent (checked by [`Params::check`]).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct Params {
    /// First day, `YYYY-MM-DD` (China time); the first of the month by default.
    pub from: Option<String>,
    /// Last day, included; today by default.
    pub to: Option<String>,
    /// `grid`, `community`, `department` or `person`; `grid` by default.
    pub by: Option<String>,
}

/// A checked period: whole days in China time, `from` to `to` included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// First day.
    pub from: NaiveDate,
    /// Last day (included).
    pub to: NaiveDate,
}

impl Period {
    /// `[from, to)` in ms since the epoch.
    pub fn ms(&self) -> Result<(i64, i64), ServerError> {
        reports::period(&self.from.to_string(), &self.to.to_string())
    }

    /// `2026-12-01 至 2026-12-06`.
    pub fn label(&self) -> String {
        format!("{} 至 {}", self.from, self.to)
    }
}

/// A checked query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    /// The period.
    pub period: Period,
    /// The kind of unit shown (and downloaded as CSV).
    pub kind: UnitKind,
}

impl Checked {
    /// The query string that asks for this period and `kind`.
    pub fn query(&self, kind: UnitKind) -> String {
        format!(
            "from={}&to={}&by={}",
            self.period.from,
            self.period.to,
            kind.as_str()
        )
    }
}

/// Today in China time.
pub fn today_china(now_ms: i64) -> NaiveDate {
    let local = now_ms.saturating_add(i64::from(super::time::CHINA_OFFSET_S) * 1000);
    chrono::DateTime::from_timestamp_millis(local)
        .map_or_else(|| Utc::now().date_naive(), |t| t.date_naive())
}

/// A date field: absent when missing or empty (an empty date input), else `YYYY-MM-DD`.
fn date_field(
    value: Option<&str>,
    label: &str,
    name: &str,
) -> Result<Option<NaiveDate>, DeskError> {
    let Some(v) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let bad = || {
        DeskError::BadRequest(format!(
            "{label}（{name}）不是有效日期，应写成 2026-01-31 这样的形式"
        ))
    };
    if v.len() != 10 {
        return Err(bad());
    }
    NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .filter(|d| (2000..=2100).contains(&d.year()))
        .map(Some)
        .ok_or_else(bad)
}

impl Params {
    /// Checks every field against `today` (China time): dates well formed, `from` not after
    /// `to`, at most [`MAX_DAYS`] days, a known kind. A missing `to` is today, a missing
    /// `from` the first of `to`'s month (so no field at all is this month so far).
    pub fn check(&self, today: NaiveDate) -> Result<Checked, DeskError> {
        for (name, v) in [("from", &self.from), ("to", &self.to), ("by", &self.by)] {
            if v.as_ref().is_some_and(|v| v.len() > MAX_FIELD) {
                return Err(DeskError::BadRequest(format!("查询参数 {name} 过长")));
            }
        }
        let from = date_field(self.from.as_deref(), "开始日期", "from")?;
        let to = date_field(self.to.as_deref(), "结束日期", "to")?;
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| to.with_day(1).unwrap_or(to));
        if from > to {
            return Err(DeskError::BadRequest(format!(
                "开始日期（from）{from} 晚于结束日期（to）{to}"
            )));
        }
        let days = (to - from).num_days() + 1;
        if days > MAX_DAYS {
            return Err(DeskError::BadRequest(format!(
                "统计时段为 {days} 天，超过上限 {MAX_DAYS} 天，请缩短开始日期（from）到结束日期（to）的范围"
            )));
        }
        let kind = match self.by.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => UnitKind::Grid,
            Some(v) => UnitKind::parse(v).ok_or_else(|| {
                DeskError::BadRequest(
                    "统计对象（by）只能是 grid、community、department 或 person".to_string(),
                )
            })?,
        };
        Ok(Checked {
            period: Period { from, to },
            kind,
        })
    }
}

/// What the page and the downloads show.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    /// Every kind's ranking over the period.
    pub rankings: Rankings,
    /// The accompaniment count of each week overlapping the period, oldest first.
    pub weeks: Vec<reports::AccompanimentWeek>,
}

/// The rankings and accompaniments of `period`, from every stored case and patrol (the
/// handlers go through [`cache::RankingsCache`]).
pub fn load(storage: &dyn Storage, period: &Period) -> Result<Loaded, ServerError> {
    let (from, to) = period.ms()?;
    let (rankings, weeks) = reports::rankings_with_weeks(storage, from, to, MAX_WEEKS)?;
    Ok(Loaded { rankings, weeks })
}

// ------------------------------------------------------------------ the table's cells

/// One cell of a ranking table, typed so that each output writes it its own way.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Text (an id or a name).
    Text(String),
    /// A count.
    Count(u64),
    /// A number with two decimals; `None` when undefined.
    Fixed(Option<f64>),
    /// A rate (0–1) shown in percent with one decimal; `None` when undefined.
    Percent(Option<f64>),
    /// A place; `None` for an unranked unit.
    Rank(Option<u32>),
}

impl Cell {
    /// The cell as text (as `rankings_table` writes it); empty when undefined.
    pub fn text(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Count(n) => n.to_string(),
            Cell::Fixed(v) => v.map_or(String::new(), |v| format!("{v:.2}")),
            Cell::Percent(v) => v.map_or(String::new(), |v| format!("{:.1}%", v * 100.0)),
            Cell::Rank(r) => r.map_or(String::new(), |r| r.to_string()),
        }
    }

    /// Whether the cell is a number (right-aligned).
    fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }
}

/// The headings of a ranking table of `kind`, in Chinese, the columns and units of
/// [`reports::rankings_table`].
pub fn headings(kind: UnitKind) -> Vec<String> {
    let mut h = vec![
        "排名".to_string(),
        format!("{}编号", kind.label_zh()),
        "名称".to_string(),
    ];
    h.extend(
        [
            "立案数",
            "应结案数",
            "结案数",
            "结案率",
            "按期结案率",
            "返工率",
            "延期率",
            "自行处置数",
            "平均处置时长(小时)",
            "巡查次数",
            "巡查时长(小时)",
            "陪同巡查次数",
            "参与陪同次数",
            "综合得分",
        ]
        .map(String::from),
    );
    h
}

/// One unit's cells, in the order of [`headings`].
pub fn cells(u: &RankedUnit, name: &str) -> Vec<Cell> {
    let f = &u.figures;
    vec![
        Cell::Rank(u.rank),
        Cell::Text(u.unit.clone()),
        Cell::Text(name.to_string()),
        Cell::Count(f.raised),
        Cell::Count(f.due),
        Cell::Count(f.closed),
        Cell::Percent(f.close_rate()),
        Cell::Percent(f.on_time_rate()),
        Cell::Percent(f.rework_rate()),
        Cell::Percent(f.extension_rate()),
        Cell::Count(f.handled_on_spot),
        Cell::Fixed(f.avg_handling_hours()),
        Cell::Count(f.patrols),
        Cell::Fixed(Some(f.patrol_hours())),
        Cell::Count(f.accompanied),
        Cell::Count(f.accompaniments),
        Cell::Fixed(u.score),
    ]
}

/// A unit's name from the roster, its id when the roster does not know it.
fn name_of(roster: &Roster, kind: UnitKind, id: &str) -> String {
    reports::unit_name(roster, kind, id).unwrap_or_else(|| id.to_string())
}

/// Every row of one kind's table.
pub fn rows(r: &Rankings, roster: &Roster, kind: UnitKind) -> Vec<Vec<Cell>> {
    r.by(kind)
        .iter()
        .map(|u| cells(u, &name_of(roster, kind, &u.unit)))
        .collect()
}

/// The date (China time) of a week's Monday.
fn week_day(week_ms: i64) -> NaiveDate {
    today_china(week_ms)
}

// ------------------------------------------------------------------ the page

/// A cell as the page shows it: `-` for an undefined figure (no due or resolved cases).
fn shown(c: &Cell) -> String {
    let t = c.text();
    if t.is_empty() { "-".to_string() } else { t }
}

/// The score as a bar (0–100 → 0–120 px), for the eye only: the number is in the cell.
fn bar(score: Option<f64>) -> Markup {
    let w = score.unwrap_or(0.0).clamp(0.0, 100.0) * 1.2;
    html! {
        svg.bar width="120" height="10" viewBox="0 0 120 10" aria-hidden="true" focusable="false" {
            rect.track x="0" y="0" width="120" height="10" {}
            rect.fill x="0" y="0" width=(format!("{w:.1}")) height="10" {}
        }
    }
}

/// The page's content under the heading: the period form, the tabs, the chosen kind's table
/// with bars, the downloads and the accompaniment table.
pub fn body(q: &Checked, data: &Loaded, roster: &Roster) -> Markup {
    let kind = q.kind;
    let heads = headings(kind);
    let lines = rows(&data.rankings, roster, kind);
    html! {
        form.filters method="get" action=(Nav::Rankings.href()) {
            label { "开始日期" input type="date" name="from" value=(q.period.from) required; }
            label { "结束日期" input type="date" name="to" value=(q.period.to) required; }
            input type="hidden" name="by" value=(kind.as_str());
            button type="submit" { "查询" }
        }
        p.muted {
            "统计时段：" (q.period.label()) "（北京时间，含首尾两天）。全街道统一计算，"
            "综合得分 = 结案率 40% + 按期结案率 30% + (1 − 返工率) 20% + (1 − 延期率) 10%，"
            "无应结案件的单位不计分、不排名。"
        }
        nav.tabs aria-label="统计对象" {
            ul {
                @for k in KINDS {
                    li {
                        a href={ (Nav::Rankings.href()) "?" (q.query(k)) }
                            aria-current=[(k == kind).then_some("page")] {
                            (k.label_zh()) " (" (data.rankings.by(k).len()) ")"
                        }
                    }
                }
            }
        }
        p.downloads.no-print {
            a.button.secondary href={ "/desk/rankings.csv?" (q.query(kind)) } download {
                "下载 CSV（" (kind.label_zh()) "）"
            }
            " "
            a.button.secondary href={ "/desk/rankings.xlsx?" (q.query(kind)) } download {
                "下载 Excel（全部四类及陪巡）"
            }
        }
        div.table-wrap {
            table.rankings {
                caption { (kind.label_zh()) "考核排名，" (q.period.label()) }
                thead {
                    tr {
                        @for h in &heads {
                            th scope="col" { (h) }
                        }
                    }
                }
                tbody {
                    @if lines.is_empty() {
                        tr { td colspan=(heads.len()) .muted { "本时段没有计入考核的案件或巡查" } }
                    }
                    @for (unit, line) in data.rankings.by(kind).iter().zip(&lines) {
                        tr {
                            @for (i, c) in line.iter().enumerate() {
                                @if i + 1 == line.len() {
                                    td.num.score { (bar(unit.score)) " " (shown(c)) }
                                } @else if i == 2 {
                                    th scope="row" { (shown(c)) }
                                } @else if c.numeric() {
                                    td.num { (shown(c)) }
                                } @else {
                                    td { (shown(c)) }
                                }
                            }
                        }
                    }
                }
            }
        }
        (accompaniment_table(&data.weeks, roster))
    }
}

/// The weekly accompaniment table: a grid worker a line, a week a column, confirmed patrols
/// walked along by a sub-district official in each cell (达标 when at least the rule's).
fn accompaniment_table(weeks: &[reports::AccompanimentWeek], roster: &Roster) -> Markup {
    let people: Vec<&str> = weeks
        .first()
        .map(|(_, rows)| rows.iter().map(|r| r.person.as_str()).collect())
        .unwrap_or_default();
    html! {
        h2 #accompaniments { "陪巡情况（三陪同）" }
        p.muted {
            "每周（周一至周日）网格员巡查中由街道干部陪同并确认的次数；每周不少于 "
            (OFFICIAL_PER_WEEK) " 次为达标（仅计已确认）。括号内为未确认的陪同。"
        }
        div.table-wrap {
            table.accompaniments {
                caption { "每周街道干部陪同巡查次数" }
                thead {
                    tr {
                        th scope="col" { "网格员" }
                        @for (week, _) in weeks {
                            th.num scope="col" { (week_day(*week).format("%m-%d")) " 起" }
                        }
                    }
                }
                tbody {
                    @if people.is_empty() {
                        tr { td colspan=(weeks.len() + 1) .muted { "名册中没有网格员" } }
                    }
                    @for (i, person) in people.iter().enumerate() {
                        tr {
                            th scope="row" { (name_of(roster, UnitKind::Person, person)) }
                            @for (_, rows) in weeks {
                                @if let Some(r) = rows.get(i) {
                                    td.num.met[r.meets_rule] {
                                        (r.official)
                                        @if r.official_unconfirmed > 0 { " (" (r.official_unconfirmed) ")" }
                                        @if r.meets_rule { " ✓" span.visually-hidden { "达标" } }
                                    }
                                } @else {
                                    td {}
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

// ------------------------------------------------------------------ downloads

/// The chosen kind's table as CSV (see [`download::csv`]); undefined figures are empty.
pub fn csv(q: &Checked, data: &Loaded, roster: &Roster) -> String {
    let head = std::iter::once(headings(q.kind));
    let body = rows(&data.rankings, roster, q.kind)
        .into_iter()
        .map(|r| r.iter().map(Cell::text).collect::<Vec<_>>());
    download::csv(head.chain(body))
}

/// The headings of the accompaniment sheet.
const WEEK_HEADINGS: [&str; 10] = [
    "周起始",
    "网格员编号",
    "姓名",
    "巡查次数",
    "巡查时长(小时)",
    "街道干部陪同(已确认)",
    "街道干部陪同(未确认)",
    "部门陪同(已确认)",
    "部门陪同(未确认)",
    "达标",
];

/// Every kind's table and the weekly accompaniments as an Excel workbook: a sheet each,
/// headings bold and frozen, numbers as numbers (rates as percentages), widths set.
pub fn xlsx(data: &Loaded, roster: &Roster) -> Result<Vec<u8>, XlsxError> {
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let pct = Format::new().set_num_format("0.0%");
    let fixed = Format::new().set_num_format("0.00");
    for kind in KINDS {
        let sheet = book.add_worksheet();
        sheet.set_name(kind.label_zh())?;
        let heads = headings(kind);
        for (c, h) in (0u16..).zip(&heads) {
            sheet.write_string_with_format(0, c, h, &bold)?;
            let width = match c {
                1 => 14.0,
                2 => 20.0,
                _ => 12.0,
            };
            sheet.set_column_width(c, width)?;
        }
        sheet.set_freeze_panes(1, 0)?;
        for (r, line) in (1u32..).zip(rows(&data.rankings, roster, kind)) {
            for (c, cell) in (0u16..).zip(&line) {
                match cell {
                    Cell::Text(s) => {
                        sheet.write_string(r, c, s)?;
                    }
                    Cell::Count(n) => {
                        sheet.write_number(r, c, *n as f64)?;
                    }
                    Cell::Rank(Some(n)) => {
                        sheet.write_number(r, c, f64::from(*n))?;
                    }
                    Cell::Fixed(Some(v)) => {
                        sheet.write_number_with_format(r, c, *v, &fixed)?;
                    }
                    Cell::Percent(Some(v)) => {
                        sheet.write_number_with_format(r, c, *v, &pct)?;
                    }
                    Cell::Rank(None) | Cell::Fixed(None) | Cell::Percent(None) => {}
                }
            }
        }
    }
    let sheet = book.add_worksheet();
    sheet.set_name("陪巡")?;
    for (c, h) in (0u16..).zip(WEEK_HEADINGS) {
        sheet.write_string_with_format(0, c, h, &bold)?;
        sheet.set_column_width(c, if c == 0 || c == 2 { 14.0 } else { 12.0 })?;
    }
    sheet.set_freeze_panes(1, 0)?;
    let mut r = 1u32;
    for (week, lines) in &data.weeks {
        for a in lines {
            sheet.write_string(r, 0, week_day(*week).to_string())?;
            sheet.write_string(r, 1, &a.person)?;
            sheet.write_string(r, 2, name_of(roster, UnitKind::Person, &a.person))?;
            sheet.write_number(r, 3, a.patrols)?;
            sheet.write_number_with_format(r, 4, a.patrol_ms as f64 / 3_600_000.0, &fixed)?;
            sheet.write_number(r, 5, a.official)?;
            sheet.write_number(r, 6, a.official_unconfirmed)?;
            sheet.write_number(r, 7, a.department)?;
            sheet.write_number(r, 8, a.department_unconfirmed)?;
            sheet.write_string(r, 9, if a.meets_rule { "是" } else { "否" })?;
            r += 1;
        }
    }
    book.save_to_buffer()
}

/// `2026-12-01至2026-12-06`, for file names.
fn span(p: &Period) -> String {
    format!("{}至{}", p.from, p.to)
}

// ------------------------------------------------------------------ handlers

/// Checks the query (a malformed one is refused in Chinese) against today.
fn checked(q: Result<Query<Params>, QueryRejection>) -> Result<Checked, DeskError> {
    let Query(p) =
        q.map_err(|_| DeskError::BadRequest("查询参数无法识别，请检查地址".to_string()))?;
    p.check(today_china(Utc::now().timestamp_millis()))
}

/// Loads the period off the async threads, through the process's cache.
async fn load_async(st: &Shared, q: &Checked) -> Result<Arc<Loaded>, DeskError> {
    let st = st.clone();
    let period = q.period;
    Ok(blocking(move || RankingsCache::global().get(st.storage.as_ref(), &period)).await?)
}

async fn page(
    user: DeskUser,
    State(st): State<Shared>,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Markup, DeskError> {
    let q = checked(q)?;
    let data = load_async(&st, &q).await?;
    Ok(layout::page(
        &user,
        Nav::Rankings,
        "考核",
        body(&q, &data, &user.roster),
    ))
}

async fn csv_download(
    user: DeskUser,
    State(st): State<Shared>,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Response, DeskError> {
    let q = checked(q)?;
    let data = load_async(&st, &q).await?;
    let text = csv(&q, &data, &user.roster);
    Ok(download::attachment(
        "text/csv; charset=utf-8",
        &format!(
            "rankings-{}-{}-{}.csv",
            q.kind.as_str(),
            q.period.from,
            q.period.to
        ),
        &format!("考核排名-{}-{}.csv", q.kind.label_zh(), span(&q.period)),
        text,
    ))
}

async fn xlsx_download(
    user: DeskUser,
    State(st): State<Shared>,
    q: Result<Query<Params>, QueryRejection>,
) -> Result<Response, DeskError> {
    let q = checked(q)?;
    let data = load_async(&st, &q).await?;
    let roster = user.roster.clone();
    let bytes = blocking(move || {
        xlsx(&data, &roster).map_err(|e| ServerError::Internal(format!("rankings workbook: {e}")))
    })
    .await?;
    Ok(download::attachment(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        &format!("rankings-{}-{}.xlsx", q.period.from, q.period.to),
        &format!("考核排名-{}.xlsx", span(&q.period)),
        bytes,
    ))
}

/// The rankings page and its downloads.
pub fn routes() -> Router<Shared> {
    Router::new()
        .route("/desk/rankings", get(page))
        .route("/desk/rankings.csv", get(csv_download))
        .route("/desk/rankings.xlsx", get(xlsx_download))
}

pub mod cache;

#[cfg(test)]
mod tests;
