//! 总览 at `/desk/`: in the reader's scope, today's new, open (未结), overdue and
//! closed-today counts, and the last 30 days' new cases by category (a line chart of the
//! busiest categories) and by grid (a bar chart of the busiest grids), drawn on the server
//! ([`super::charts`]). Days are China days (UTC+8). Data ([`load`]) apart from rendering
//! ([`render`]).

use super::Shared;
use super::cases::{china_day_start, china_time};
use super::charts;
use super::error::DeskError;
use super::index::{self, CaseQuery, StatusFilter};
use super::layout::{self, Nav};
use super::session::DeskUser;
use crate::error::ServerError;
use crate::storage::desk_index::{GroupBy, IndexFilter};
use crate::storage::{Storage, with_tx};
use axum::Router;
use axum::extract::State;
use axum::routing::get;
use maud::{Markup, html};
use std::collections::HashMap;
use xiangying_model::case::Status;
use xiangying_model::org::Roster;
use xiangying_model::sync::scope::ReadScope;

/// How many days the trends cover.
pub const DAYS: usize = 30;
/// How many categories the trend draws (the rest summed as 其他).
const TOP_CATEGORIES: usize = 5;
/// How many grids the bar chart shows.
const TOP_GRIDS: usize = 12;
/// A day, in ms.
const DAY_MS: i64 = 86_400_000;

/// What the overview shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overview {
    /// Raised today.
    pub today_new: u64,
    /// Not finished.
    pub open: u64,
    /// Open past their deadline.
    pub overdue: u64,
    /// Closed today.
    pub closed_today: u64,
    /// The trend's days, `MM-DD`, oldest first.
    pub days: Vec<String>,
    /// New cases per day by category (busiest first, then 其他).
    pub by_category: Vec<(String, Vec<u64>)>,
    /// New cases over the days by grid (busiest first).
    pub by_grid: Vec<(String, u64)>,
}

/// Loads the overview for a reader's scope at `now`.
pub fn load(
    storage: &dyn Storage,
    roster: &Roster,
    scope: &ReadScope,
    now: i64,
) -> Result<Overview, ServerError> {
    let today = china_day_start(now);
    let base = CaseQuery::default().filter(scope, now);
    let with = |q: CaseQuery| q.filter(scope, now);
    let since = today - (DAYS as i64 - 1) * DAY_MS;
    let (counts, cats, grids, catalogue) = with_tx(storage, |tx| {
        let today_new = index::count(
            tx,
            &IndexFilter {
                created_from: Some(today),
                ..base.clone()
            },
        )?;
        let open = index::count(
            tx,
            &with(CaseQuery {
                status: Some(StatusFilter::Unfinished),
                ..CaseQuery::default()
            }),
        )?;
        let overdue = index::count(
            tx,
            &with(CaseQuery {
                status: Some(StatusFilter::Overdue),
                ..CaseQuery::default()
            }),
        )?;
        let closed_today = index::count(
            tx,
            &IndexFilter {
                statuses: vec![Status::Closed.as_str().to_string()],
                closed_from: Some(today),
                ..base.clone()
            },
        )?;
        let recent = IndexFilter {
            created_from: Some(since),
            ..base.clone()
        };
        let cats = index::daily(tx, &recent, GroupBy::Category)?;
        let grids = index::daily(tx, &recent, GroupBy::Grid)?;
        let catalogue = super::published_catalogue(tx)?;
        Ok((
            [today_new, open, overdue, closed_today],
            cats,
            grids,
            catalogue,
        ))
    })?;
    let first_day = (since + 8 * 3_600_000).div_euclid(DAY_MS);
    let days: Vec<String> = (0..DAYS as i64)
        .map(|i| china_time(since + i * DAY_MS, "%m-%d"))
        .collect();
    // Per category: the daily series, busiest first; the rest summed as 其他.
    let mut per_cat: HashMap<String, Vec<u64>> = HashMap::new();
    for (cat, day, n) in cats {
        let i = day - first_day;
        if (0..DAYS as i64).contains(&i) {
            per_cat.entry(cat).or_insert_with(|| vec![0; DAYS])[i as usize] += n;
        }
    }
    let mut cat_list: Vec<(String, Vec<u64>)> = per_cat.into_iter().collect();
    cat_list.sort_by(|a, b| {
        b.1.iter()
            .sum::<u64>()
            .cmp(&a.1.iter().sum::<u64>())
            .then(a.0.cmp(&b.0))
    });
    let mut by_category: Vec<(String, Vec<u64>)> = Vec::new();
    let mut other = vec![0u64; DAYS];
    for (i, (code, series)) in cat_list.into_iter().enumerate() {
        if i < TOP_CATEGORIES {
            let name = catalogue
                .as_ref()
                .and_then(|c| c.get(&code))
                .map(|c| c.name.clone())
                .unwrap_or(code);
            by_category.push((name, series));
        } else {
            for (o, v) in other.iter_mut().zip(series) {
                *o += v;
            }
        }
    }
    if other.iter().any(|v| *v > 0) {
        by_category.push(("其他".to_string(), other));
    }
    let mut per_grid: HashMap<String, u64> = HashMap::new();
    for (grid, _, n) in grids {
        *per_grid.entry(grid).or_default() += n;
    }
    let mut by_grid: Vec<(String, u64)> = per_grid.into_iter().collect();
    by_grid.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by_grid.truncate(TOP_GRIDS);
    let by_grid = by_grid
        .into_iter()
        .map(|(g, n)| {
            let name = roster.grid(&g).map(|x| x.name.clone()).unwrap_or(g);
            (name, n)
        })
        .collect();
    let [today_new, open, overdue, closed_today] = counts;
    Ok(Overview {
        today_new,
        open,
        overdue,
        closed_today,
        days,
        by_category,
        by_grid,
    })
}

/// Renders the overview.
pub fn render(user: &DeskUser, o: &Overview, now: i64) -> Markup {
    let today = china_time(now, "%Y-%m-%d");
    let body = html! {
        section.stats aria-label="今日概况" {
            a.stat href={ "/desk/cases?from=" (today) "&to=" (today) } {
                div.n { (o.today_new) } div.l { "今日新增" }
            }
            a.stat href="/desk/cases?status=unfinished" {
                div.n { (o.open) } div.l { "未结案件" }
            }
            a.stat href="/desk/cases?status=overdue" {
                div.n.late { (o.overdue) } div.l { "超期案件" }
            }
            div.stat {
                div.n { (o.closed_today) } div.l { "今日结案" }
            }
        }
        div.grid2 {
            section.panel {
                h2 { "近 " (DAYS) " 天新增案件（按分类）" }
                (charts::line_chart("近30天每日新增案件（按分类）", "件", &o.days, &o.by_category))
            }
            section.panel {
                h2 { "近 " (DAYS) " 天新增案件（按网格）" }
                (charts::bar_chart("近30天新增案件最多的网格", "件", &o.by_grid))
            }
        }
        p.muted { "统计时间：" (china_time(now, "%Y-%m-%d %H:%M")) "（北京时间），范围：您可查看的案件" }
    };
    layout::page(user, Nav::Overview, "总览", body)
}

/// `GET /desk/`.
async fn overview_page(user: DeskUser, State(state): State<Shared>) -> Result<Markup, DeskError> {
    let scope = crate::sync::scope_of(&user.roster, &user.person);
    let storage = state.storage.clone();
    let roster = user.roster.clone();
    let now = chrono::Utc::now().timestamp_millis();
    let o = crate::tasks::blocking(move || load(&*storage, &roster, &scope, now)).await?;
    Ok(render(&user, &o, now))
}

/// The overview's route.
pub fn routes() -> Router<Shared> {
    Router::new().route("/desk/", get(overview_page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::index::tests::{Street, raise};
    use crate::storage::sqlite::SqliteStorage;
    use std::sync::Arc;
    use xiangying_model::ids::PersonId;
    use xiangying_model::org::Scope;
    use xiangying_model::sync::scope::ReadScope;

    #[test]
    fn the_overview_counts_today_and_draws_the_trends_within_the_scope() {
        let dir = tempfile::tempdir().unwrap();
        let storage = Arc::new(SqliteStorage::open(&dir.path().join("server")).unwrap());
        let s = Street::new(storage, tempfile::tempdir().unwrap());
        let (a, b) = raise(&s);
        let roster = crate::reports::roster(s.storage()).unwrap();
        // The devices' clocks are real: the cases were raised moments ago (today, unless the
        // China day turned in between).
        let (ca, cb) = (s.row(&a).created_at, s.row(&b).created_at);
        let now = ca.max(cb);
        let today = crate::desk::cases::china_day_start(now);
        let new_today = |t: i64| u64::from(t >= today);
        let of = |p: &str| {
            let scope = crate::sync::scope_of(&roster, &PersonId::from(p.to_string()));
            load(s.storage(), &roster, &scope, now).unwrap()
        };
        let o = of("center");
        assert_eq!(
            (o.today_new, o.open, o.overdue, o.closed_today),
            (new_today(ca) + new_today(cb), 2, 0, 0),
            "{o:?}"
        );
        assert_eq!(o.days.len(), DAYS);
        assert_eq!(o.by_category.len(), 2, "{o:?}");
        assert!(
            o.by_category
                .iter()
                .all(|(_, v)| v.len() == DAYS && v.iter().sum::<u64>() == 1),
            "{o:?}"
        );
        let mut grids: Vec<&str> = o.by_grid.iter().map(|(g, _)| g.as_str()).collect();
        grids.sort();
        assert_eq!(grids, vec!["第g1网格", "第g3网格"]);
        // A community chief counts only their community's.
        let c = of("cc1");
        assert_eq!((c.today_new, c.open), (new_today(ca), 1));
        assert_eq!(c.by_grid, vec![("第g1网格".to_string(), 1)]);
        // Tomorrow nothing is new today, and the deadlines may have passed.
        let later = load(
            s.storage(),
            &roster,
            &ReadScope {
                all: true,
                keys: vec![],
            },
            now + 40 * 86_400_000,
        )
        .unwrap();
        assert_eq!((later.today_new, later.overdue), (0, 2));
        assert!(later.by_grid.is_empty(), "older than 30 days: {later:?}");
        let user = crate::desk::session::DeskUser {
            person: PersonId::from("center".to_string()),
            name: "中心".into(),
            claim: xiangying_model::case::Claim {
                person: "center".into(),
                role: xiangying_model::org::Role::StreetCenter,
                scope: Scope::Street,
            },
            csrf: "t".into(),
            roster: Arc::new(roster.clone()),
        };
        let html = render(&user, &o, now).into_string();
        assert!(html.contains("今日新增") && html.contains("超期案件"));
        assert_eq!(html.matches("role=\"img\"").count(), 2, "{html}");
        assert!(html.contains("href=\"/desk/cases?status=overdue\""));
    }
}
