//! The desk's map (地图, `/desk/map`): the street drawn from the roster's geometry as
//! server-side SVG (grids coloured by community, road segments, names), case pins coloured by
//! state and deadline, each a link to its case page; filters in the query string; an optional
//! tile layer from the configuration file (`[desk] tile_url`, `tile_datum`) drawn under the
//! geometry, which is then converted to the tiles' datum so that the roads line up.
//!
//! Projection (decision 0042): Web Mercator, in units of the whole world's width, scaled to a
//! view box [`VIEW_W`] wide and fitted to the visible area (the street, a community or a grid).
//! At a street's scale this is the equirectangular projection scaled by the cosine of the
//! latitude (they differ by far less than a pixel), and it places XYZ tiles exactly.
//! [`mini_map`] draws one case's grid and its neighbours with the case's pin, for the case page.

use super::Shared;
use super::error::DeskError;
use super::index::{self, CaseQuery, DeskCase, StatusFilter};
use super::layout::{self, Nav};
use super::session::DeskUser;
use crate::error::ServerError;
use crate::state::DeskSettings;
use crate::storage::{Tx, with_tx};
pub use crate::tiles::{TileDatum, TileLayer};
use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use maud::{Markup, html};
use serde::Deserialize;
use std::f64::consts::PI;
use xiangying_model::case::Status;
use xiangying_model::org::{Datum, Grid, Point, Roster, distance_m, polygon_centroid};
use xiangying_model::sync::scope::ReadScope;

/// The view box's width, in SVG units (the map is drawn at about this many pixels).
pub const VIEW_W: f64 = 1000.0;
/// The view box's least and greatest height (a tall street is narrowed, a wide one padded).
const VIEW_H: (f64, f64) = (420.0, 640.0);
/// The most pins one map shows (the page stays well under 500 KB with them).
pub const MAX_PINS: usize = 1500;
/// About how many pixels wide the map is shown on a 1366-pixel screen: picks the tiles' zoom.
const SHOWN_PX: f64 = 1050.0;
/// The most tiles one map asks for.
const MAX_TILES: usize = 48;
/// The deepest tile zoom asked for.
const MAX_ZOOM: u8 = 19;
/// The least span of a view, in world widths (about 100 m): a lone point still gets a map.
const MIN_SPAN: f64 = 3e-6;
/// A day, ms: a case due within it is drawn as due soon.
const DAY_MS: i64 = 86_400_000;
/// The longest value a filter field may have, bytes.
const MAX_FIELD: usize = 64;
/// How far from its grid's centre a case's point may lie and still widen the mini map, m.
const MINI_REACH_M: f64 = 1_500.0;
/// Community fill classes (`c0`…`c7` in the stylesheet), in roster order.
const COMMUNITY_COLOURS: usize = 8;

// ---------------------------------------------------------------------------------------
// Tile layer
// ---------------------------------------------------------------------------------------

/// The tile layer the `[desk]` table configures, if any.
pub fn tile_layer(cfg: &DeskSettings) -> Result<Option<TileLayer>, String> {
    cfg.tile_url
        .as_deref()
        .map(|url| TileLayer::new(url, cfg.tile_datum.unwrap_or_default()))
        .transpose()
        .map_err(|e| format!("desk.tile_url: {e}"))
}

/// The origin (scheme and host) of the configured tile layer, for the page's
/// Content-Security-Policy; `None` without a (valid) tile address.
pub fn tile_origin(cfg: &DeskSettings) -> Option<String> {
    tile_layer(cfg)
        .ok()
        .flatten()
        .map(|t| t.origin().to_string())
}

// ---------------------------------------------------------------------------------------
// Projection
// ---------------------------------------------------------------------------------------

/// Web Mercator of a point, in world widths from the antimeridian and from the north edge.
fn mercator(p: Point) -> (f64, f64) {
    let x = (p.lon + 180.0) / 360.0;
    let lat = p.lat.clamp(-85.051_128_78, 85.051_128_78).to_radians();
    let y = (1.0 - lat.tan().asinh() / PI) / 2.0;
    (x, y)
}

/// A box in Web Mercator units.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Bbox {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Bbox {
    const EMPTY: Bbox = Bbox {
        x0: f64::INFINITY,
        y0: f64::INFINITY,
        x1: f64::NEG_INFINITY,
        y1: f64::NEG_INFINITY,
    };

    fn add(&mut self, (x, y): (f64, f64)) {
        if x.is_finite() && y.is_finite() {
            self.x0 = self.x0.min(x);
            self.y0 = self.y0.min(y);
            self.x1 = self.x1.max(x);
            self.y1 = self.y1.max(y);
        }
    }

    fn is_empty(&self) -> bool {
        self.x0 > self.x1
    }

    fn intersects(&self, o: &Bbox) -> bool {
        !self.is_empty()
            && !o.is_empty()
            && self.x0 <= o.x1
            && o.x0 <= self.x1
            && self.y0 <= o.y1
            && o.y0 <= self.y1
    }
}

/// How geometry is drawn: the datum points are converted to, then Web Mercator scaled and
/// shifted into a view box `w` × `h`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Frame {
    datum: Datum,
    x0: f64,
    y0: f64,
    scale: f64,
    /// The view box's width.
    pub w: f64,
    /// The view box's height.
    pub h: f64,
}

impl Frame {
    /// A frame showing `points` (WGS-84) whole in a view box `w` wide and between `min_h` and
    /// `max_h` high, in `datum`'s coordinates, centred on the points, their span times `pad`.
    fn fit(
        points: impl Iterator<Item = Point>,
        datum: Datum,
        w: f64,
        (min_h, max_h): (f64, f64),
        pad: f64,
    ) -> Frame {
        let mut b = Bbox::EMPTY;
        for p in points {
            b.add(mercator(datum.from_wgs84(p)));
        }
        if b.is_empty() {
            b.add((0.5, 0.5));
        }
        let (cx, cy) = ((b.x0 + b.x1) / 2.0, (b.y0 + b.y1) / 2.0);
        let dx = (b.x1 - b.x0).max(MIN_SPAN) * pad;
        let dy = (b.y1 - b.y0).max(MIN_SPAN) * pad;
        let scale = (w / dx).min(max_h / dy);
        let h = (dy * scale).clamp(min_h, max_h);
        Frame {
            datum,
            x0: cx - w / (2.0 * scale),
            y0: cy - h / (2.0 * scale),
            scale,
            w,
            h,
        }
    }

    /// Where a WGS-84 point is drawn.
    pub fn at(&self, p: Point) -> (f64, f64) {
        let (x, y) = mercator(self.datum.from_wgs84(p));
        ((x - self.x0) * self.scale, (y - self.y0) * self.scale)
    }

    /// Whether a drawn position lies in the view box.
    fn shows(&self, (x, y): (f64, f64)) -> bool {
        (0.0..=self.w).contains(&x) && (0.0..=self.h).contains(&y)
    }

    /// The view box, in Mercator units.
    fn bbox(&self) -> Bbox {
        Bbox {
            x0: self.x0,
            y0: self.y0,
            x1: self.x0 + self.w / self.scale,
            y1: self.y0 + self.h / self.scale,
        }
    }

    /// The box of a ring or line, in Mercator units.
    fn bbox_of(&self, pts: &[Point]) -> Bbox {
        let mut b = Bbox::EMPTY;
        for &p in pts {
            b.add(mercator(self.datum.from_wgs84(p)));
        }
        b
    }

    /// The tiles covering the view at the zoom that draws them about their own size:
    /// `(z, x, y, left, top, size)` in view box units.
    fn tiles(&self) -> Vec<(u8, u32, u32, f64, f64, f64)> {
        let b = self.bbox();
        let span = b.x1 - b.x0;
        let mut z = (SHOWN_PX / (256.0 * span))
            .log2()
            .round()
            .clamp(0.0, f64::from(MAX_ZOOM)) as u8;
        loop {
            let n = f64::from(1u32 << z);
            let last = (1u32 << z) - 1;
            let t = |v: f64| ((v * n).floor().max(0.0) as u32).min(last);
            let (tx0, tx1, ty0, ty1) = (t(b.x0), t(b.x1), t(b.y0), t(b.y1));
            let count = (tx1 - tx0 + 1) as usize * (ty1 - ty0 + 1) as usize;
            if count <= MAX_TILES || z == 0 {
                let size = self.scale / n;
                let mut out = Vec::with_capacity(count);
                for ty in ty0..=ty1 {
                    for tx in tx0..=tx1 {
                        let left = (f64::from(tx) / n - self.x0) * self.scale;
                        let top = (f64::from(ty) / n - self.y0) * self.scale;
                        out.push((z, tx, ty, left, top, size));
                    }
                }
                return out;
            }
            z -= 1;
        }
    }
}

/// A coordinate, rounded to a tenth of a unit, without a trailing `.0`.
fn num(v: f64) -> String {
    let r = (v * 10.0).round() / 10.0;
    if r == r.trunc() {
        format!("{}", r as i64)
    } else {
        format!("{r:.1}")
    }
}

/// An SVG path through `pts`, closed for a ring.
fn path_d(frame: &Frame, pts: &[Point], closed: bool) -> String {
    let mut d = String::with_capacity(pts.len() * 12);
    for (i, &p) in pts.iter().enumerate() {
        let (x, y) = frame.at(p);
        d.push(if i == 0 { 'M' } else { 'L' });
        d.push_str(&num(x));
        d.push(' ');
        d.push_str(&num(y));
    }
    if closed && !d.is_empty() {
        d.push('Z');
    }
    d
}

// ---------------------------------------------------------------------------------------
// Pins
// ---------------------------------------------------------------------------------------

/// How a pin is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum PinKind {
    /// Voided or a duplicate.
    Void,
    /// Closed.
    Closed,
    /// Resolved or verified: waiting for verification or closing.
    Awaiting,
    /// Open, its deadline more than a day away (or none).
    OnTime,
    /// Open, due within a day.
    DueSoon,
    /// Open and past its deadline.
    Overdue,
}

impl PinKind {
    /// The legend's order.
    pub const LEGEND: [PinKind; 6] = [
        PinKind::OnTime,
        PinKind::DueSoon,
        PinKind::Overdue,
        PinKind::Awaiting,
        PinKind::Closed,
        PinKind::Void,
    ];

    /// The kind of a case at `now`.
    pub fn of(c: &DeskCase, now: i64) -> PinKind {
        match Status::parse(&c.status) {
            Some(Status::Closed) => PinKind::Closed,
            Some(s) if s.is_terminal() => PinKind::Void,
            Some(Status::Resolved | Status::Verified) => PinKind::Awaiting,
            _ if c.overdue || c.deadline.is_some_and(|d| d <= now) => PinKind::Overdue,
            _ if c.deadline.is_some_and(|d| d - now <= DAY_MS) => PinKind::DueSoon,
            _ => PinKind::OnTime,
        }
    }

    /// The stylesheet class.
    pub fn class(self) -> &'static str {
        match self {
            PinKind::OnTime => "k-ok",
            PinKind::DueSoon => "k-soon",
            PinKind::Overdue => "k-late",
            PinKind::Awaiting => "k-wait",
            PinKind::Closed => "k-done",
            PinKind::Void => "k-void",
        }
    }

    /// The legend's words.
    pub fn label(self) -> &'static str {
        match self {
            PinKind::OnTime => "办理中（未到期）",
            PinKind::DueSoon => "24 小时内到期",
            PinKind::Overdue => "已超期",
            PinKind::Awaiting => "已办结待核查",
            PinKind::Closed => "已结案",
            PinKind::Void => "已作废／重复",
        }
    }
}

/// `s` percent-encoded but for unreserved characters (a path segment or a query value).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A case's address, its id percent-encoded as one path segment.
pub fn case_href(case_id: &str) -> String {
    format!("/desk/cases/{}", percent_encode(case_id))
}

/// A pin's tooltip: number, category, status.
fn pin_title(c: &DeskCase, kind: PinKind) -> String {
    let number = c.number.as_deref().unwrap_or("（未编号）");
    let mut t = format!("{number} · {} · {}", c.category_label, c.status_label);
    if matches!(kind, PinKind::Overdue | PinKind::DueSoon) {
        t.push_str(" · ");
        t.push_str(kind.label());
    }
    t
}

// ---------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------

/// The query string as sent (every field optional text).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct MapParams {
    /// Community id.
    pub community: Option<String>,
    /// Grid id.
    pub grid: Option<String>,
    /// Status group ([`StatusGroup::as_str`]).
    pub state: Option<String>,
    /// Category code.
    pub category: Option<String>,
    /// `1` for overdue cases only.
    pub overdue: Option<String>,
    /// First day, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD`.
    pub to: Option<String>,
}

/// Which cases by state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StatusGroup {
    /// Somebody still has work to do.
    #[default]
    Open,
    /// Resolved or verified, waiting for the centre.
    Awaiting,
    /// Closed.
    Closed,
    /// Every case, voided and duplicates too.
    All,
}

impl StatusGroup {
    /// Every group, in the form's order.
    pub const ALL: [StatusGroup; 4] = [
        StatusGroup::Open,
        StatusGroup::Awaiting,
        StatusGroup::Closed,
        StatusGroup::All,
    ];

    /// The query string's word.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusGroup::Open => "open",
            StatusGroup::Awaiting => "awaiting",
            StatusGroup::Closed => "closed",
            StatusGroup::All => "all",
        }
    }

    /// The form's words.
    pub fn label(self) -> &'static str {
        match self {
            StatusGroup::Open => "未办结",
            StatusGroup::Awaiting => "待核查",
            StatusGroup::Closed => "已结案",
            StatusGroup::All => "全部",
        }
    }

    /// The case index's filter for the group (`None`: any status).
    pub fn filter(self) -> Option<StatusFilter> {
        match self {
            StatusGroup::Open => Some(StatusFilter::Open),
            StatusGroup::Awaiting => Some(StatusFilter::Awaiting),
            StatusGroup::Closed => Some(StatusFilter::One(Status::Closed)),
            StatusGroup::All => None,
        }
    }
}

/// The map's filters, checked against the roster.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapFilter {
    /// Community id (one of the roster's).
    pub community: Option<String>,
    /// Grid id (one of the roster's, in `community` when both are given).
    pub grid: Option<String>,
    /// Cases by state.
    pub group: StatusGroup,
    /// Category code (checked against the catalogue by [`load`]).
    pub category: Option<String>,
    /// Overdue cases only.
    pub overdue: bool,
    /// First day, as given and as ms.
    pub from: Option<(String, i64)>,
    /// Last day, as given, and the end of that day in ms.
    pub to: Option<(String, i64)>,
}

/// A filter field: trimmed, empty as none, refused when too long.
fn field(v: &Option<String>, name: &str) -> Result<Option<String>, DeskError> {
    match v.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) if s.len() > MAX_FIELD => Err(DeskError::BadRequest(format!(
            "筛选条件“{name}”过长（最多 {MAX_FIELD} 字节）"
        ))),
        Some(s) => Ok(Some(s.to_string())),
    }
}

/// A day, `YYYY-MM-DD`, as the ms of its start (China time).
fn day(v: Option<String>, name: &str) -> Result<Option<(String, i64)>, DeskError> {
    v.map(|d| {
        crate::reports::day_start_ms(&d)
            .map(|ms| (d.clone(), ms))
            .map_err(|_| DeskError::BadRequest(format!("{name}“{d}”不是形如 2026-01-31 的日期")))
    })
    .transpose()
}

impl MapFilter {
    /// Checks the query string against the roster; every refusal names the field.
    pub fn parse(p: &MapParams, roster: &Roster) -> Result<MapFilter, DeskError> {
        let community = field(&p.community, "社区")?;
        if let Some(c) = &community
            && roster.community(c).is_none()
        {
            return Err(DeskError::BadRequest(format!("没有这个社区：{c}")));
        }
        let grid = field(&p.grid, "网格")?;
        if let Some(g) = &grid {
            let Some(found) = roster.grid(g) else {
                return Err(DeskError::BadRequest(format!("没有这个网格：{g}")));
            };
            if community.as_ref().is_some_and(|c| *c != found.community) {
                return Err(DeskError::BadRequest(format!(
                    "网格“{}”不在所选社区",
                    found.name
                )));
            }
        }
        let group = match field(&p.state, "状态")? {
            None => StatusGroup::default(),
            Some(s) => StatusGroup::ALL
                .into_iter()
                .find(|g| g.as_str() == s)
                .ok_or_else(|| DeskError::BadRequest(format!("没有这个状态分组：{s}")))?,
        };
        let overdue = match field(&p.overdue, "超期")?.as_deref() {
            None | Some("0") => false,
            Some("1" | "on") => true,
            Some(other) => {
                return Err(DeskError::BadRequest(format!("“仅超期”的值无效：{other}")));
            }
        };
        let from = day(field(&p.from, "起始日期")?, "起始日期")?;
        let to = day(field(&p.to, "截止日期")?, "截止日期")?.map(|(d, ms)| (d, ms + DAY_MS));
        if let (Some((_, f)), Some((_, t))) = (&from, &to)
            && t <= f
        {
            return Err(DeskError::BadRequest("截止日期早于起始日期".into()));
        }
        Ok(MapFilter {
            community,
            grid,
            group,
            category: field(&p.category, "类别")?,
            overdue,
            from,
            to,
        })
    }

    /// The case index's query for these filters (the one place that knows its fields).
    pub fn query(&self) -> CaseQuery {
        CaseQuery {
            community: self.community.clone(),
            grid: self.grid.clone(),
            status: self.group.filter(),
            category: self.category.clone(),
            overdue: self.overdue,
            created_from: self.from.as_ref().map(|(_, ms)| *ms),
            created_to: self.to.as_ref().map(|(_, ms)| *ms),
            ..CaseQuery::default()
        }
    }
}

// ---------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------

/// What the map page shows besides the roster.
#[derive(Debug, Clone, Default)]
pub struct MapData {
    /// The pins, at most [`MAX_PINS`].
    pub pins: Vec<DeskCase>,
    /// True when more cases matched than [`MAX_PINS`].
    pub capped: bool,
    /// The catalogue's categories (code, big category · name), for the filter.
    pub categories: Vec<(String, String)>,
}

/// Loads the pins the person may see under `filter` (a category not in the catalogue is
/// refused), and the catalogue's categories for the form.
pub fn load(
    tx: &mut dyn Tx,
    scope: &ReadScope,
    filter: &MapFilter,
    now: i64,
) -> Result<MapData, ServerError> {
    let categories: Vec<(String, String)> = super::published_catalogue(tx)?
        .map(|cat| {
            cat.big_categories(xiangying_model::org::CategoryKind::Event)
                .into_iter()
                .chain(cat.big_categories(xiangying_model::org::CategoryKind::Component))
                .flat_map(|(big, _)| {
                    cat.in_big(big)
                        .map(|c| (c.code.clone(), format!("{} · {}", c.big_name, c.name)))
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .unwrap_or_default();
    if let Some(c) = &filter.category
        && !categories.iter().any(|(code, _)| code == c)
    {
        return Err(ServerError::BadRequest(format!("没有这个类别：{c}")));
    }
    let mut pins = index::pins(tx, scope, &filter.query(), now, MAX_PINS + 1)?;
    let capped = pins.len() > MAX_PINS;
    pins.truncate(MAX_PINS);
    Ok(MapData {
        pins,
        capped,
        categories,
    })
}

// ---------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------

/// The WGS-84 points the view is fitted to: the grid's, else the community's grids and
/// segments, else the whole street's (and, with no geometry at all, the pins').
fn focus_points<'a>(roster: &'a Roster, filter: &'a MapFilter, pins: &'a [DeskCase]) -> Vec<Point> {
    let grids = roster
        .grids
        .iter()
        .filter(|g| match (&filter.grid, &filter.community) {
            (Some(id), _) => g.id == *id,
            (None, Some(c)) => g.community == *c,
            (None, None) => true,
        });
    let mut pts: Vec<Point> = grids.flat_map(|g| g.polygon.iter().copied()).collect();
    if filter.grid.is_none() {
        pts.extend(
            roster
                .segments
                .iter()
                .filter(|s| filter.community.as_ref().is_none_or(|c| s.community == *c))
                .flat_map(|s| s.polyline.iter().copied()),
        );
    }
    if pts.is_empty() {
        pts.extend(pins.iter().filter_map(pin_point));
    }
    pts.retain(|p| p.is_valid());
    pts
}

/// A case's place, when it has a valid one.
fn pin_point(c: &DeskCase) -> Option<Point> {
    let p = Point::new(c.lon?, c.lat?);
    p.is_valid().then_some(p)
}

/// A grid's label: its name without its community's name in front (the colour and the
/// tooltip say the community), so that it fits inside the grid.
fn short_name<'a>(roster: &Roster, g: &'a Grid) -> &'a str {
    roster
        .community(&g.community)
        .and_then(|c| g.name.strip_prefix(c.name.as_str()))
        .filter(|rest| !rest.trim().is_empty())
        .unwrap_or(&g.name)
}

/// The fill class of a grid: its community's colour, dimmed outside the focus.
fn grid_class(roster: &Roster, g: &Grid, focus: &MapFilter) -> String {
    let idx = roster
        .communities
        .iter()
        .position(|c| c.id == g.community)
        .unwrap_or(0)
        % COMMUNITY_COLOURS;
    let dim = match (&focus.grid, &focus.community) {
        (Some(id), _) => g.id != *id,
        (None, Some(c)) => g.community != *c,
        (None, None) => false,
    };
    if dim {
        format!("g c{idx} dim")
    } else {
        format!("g c{idx}")
    }
}

/// The street as SVG: tiles (when configured), grids, road segments, names and pins.
/// Returns the SVG and how many pins fell outside the view.
pub fn map_svg(
    roster: &Roster,
    filter: &MapFilter,
    pins: &[DeskCase],
    tiles: Option<&TileLayer>,
    now: i64,
) -> (Markup, usize) {
    let datum = tiles.map_or(Datum::Wgs84, TileLayer::datum);
    let frame = Frame::fit(
        focus_points(roster, filter, pins).into_iter(),
        datum,
        VIEW_W,
        VIEW_H,
        1.08,
    );
    let view = frame.bbox();
    let grids: Vec<&Grid> = roster
        .grids
        .iter()
        .filter(|g| frame.bbox_of(&g.polygon).intersects(&view))
        .collect();
    let mut placed: Vec<(PinKind, (f64, f64), &DeskCase)> = pins
        .iter()
        .filter_map(|c| {
            let at = frame.at(pin_point(c)?);
            frame.shows(at).then(|| (PinKind::of(c, now), at, c))
        })
        .collect();
    let outside = pins.len() - placed.len();
    // The most urgent drawn last, on top.
    placed.sort_by_key(|(k, _, _)| *k);
    let community_name = |id: &str| roster.community(id).map_or("", |c| c.name.as_str());
    let svg = html! {
        svg.map #desk-map xmlns="http://www.w3.org/2000/svg"
            viewBox={ "0 0 " (num(frame.w)) " " (num(frame.h)) }
            data-w=(num(frame.w)) data-h=(num(frame.h))
            role="group" aria-label="街道地图：网格、责任路段与案件位置" {
            @if let Some(t) = tiles {
                g.tiles aria-hidden="true" {
                    @for (z, x, y, left, top, size) in frame.tiles() {
                        image href=(t.url(z, x, y)) x=(num(left)) y=(num(top))
                            width=(num(size + 0.5)) height=(num(size + 0.5)) {}
                    }
                }
            }
            g.grids {
                @for g in &grids {
                    path class=(grid_class(roster, g, filter)) d=(path_d(&frame, &g.polygon, true)) {
                        title { (g.name) "（" (community_name(&g.community)) "）" }
                    }
                }
            }
            g.roads {
                @for s in roster.segments.iter().filter(|s| frame.bbox_of(&s.polyline).intersects(&view)) {
                    @let main = roster.road(&s.road).is_some_and(|r| r.main);
                    path class=(if main { "rd m" } else { "rd" }) d=(path_d(&frame, &s.polyline, false)) {
                        title { (s.name) }
                    }
                }
            }
            g.labels aria-hidden="true" {
                @for g in &grids {
                    @if let Some(c) = polygon_centroid(&g.polygon) {
                        @let (x, y) = frame.at(c);
                        @if frame.shows((x, y)) {
                            text x=(num(x)) y=(num(y)) { (short_name(roster, g)) }
                        }
                    }
                }
            }
            g.pins {
                @for (kind, (x, y), c) in &placed {
                    a href=(case_href(&c.case_id)) {
                        title { (pin_title(c, *kind)) }
                        circle class=(kind.class()) cx=(num(*x)) cy=(num(*y)) r="6" {}
                    }
                }
            }
        }
    };
    (svg, outside)
}

/// The page's body: the filter form, the map and its legend.
pub fn render(
    user: &DeskUser,
    filter: &MapFilter,
    data: &MapData,
    tiles: Option<&TileLayer>,
    now: i64,
) -> Markup {
    let roster = &*user.roster;
    let (svg, outside) = map_svg(roster, filter, &data.pins, tiles, now);
    let mut counts = [0usize; 6];
    for c in &data.pins {
        let k = PinKind::of(c, now);
        if let Some(i) = PinKind::LEGEND.iter().position(|l| *l == k) {
            counts[i] += 1;
        }
    }
    let body = html! {
        form.filters method="get" action="/desk/map" {
            label { "社区"
                select name="community" {
                    option value="" { "全部社区" }
                    @for c in &roster.communities {
                        option value=(c.id) selected[filter.community.as_deref() == Some(c.id.as_str())] { (c.name) }
                    }
                }
            }
            label { "网格"
                select name="grid" {
                    option value="" { "全部网格" }
                    @for c in &roster.communities {
                        optgroup label=(c.name) {
                            @for g in roster.grids.iter().filter(|g| g.community == c.id) {
                                option value=(g.id) selected[filter.grid.as_deref() == Some(g.id.as_str())] { (g.name) }
                            }
                        }
                    }
                }
            }
            label { "状态"
                select name="state" {
                    @for g in StatusGroup::ALL {
                        option value=(g.as_str()) selected[filter.group == g] { (g.label()) }
                    }
                }
            }
            label { "类别"
                select name="category" {
                    option value="" { "全部类别" }
                    @for (code, name) in &data.categories {
                        option value=(code) selected[filter.category.as_deref() == Some(code.as_str())] { (name) }
                    }
                }
            }
            label { "起始日期"
                input type="date" name="from" value=[filter.from.as_ref().map(|f| &f.0)];
            }
            label { "截止日期"
                input type="date" name="to" value=[filter.to.as_ref().map(|t| &t.0)];
            }
            label.check { "仅超期"
                input type="checkbox" name="overdue" value="1" checked[filter.overdue];
            }
            button type="submit" { "筛选" }
            a.button.secondary href="/desk/map" { "清除" }
        }
        div.map-layout {
            div.map-wrap {
                div.map-tools.no-print {
                    button.secondary type="button" data-map-zoom="in" aria-label="放大地图" { "＋" }
                    button.secondary type="button" data-map-zoom="out" aria-label="缩小地图" { "－" }
                    button.secondary type="button" data-map-zoom="reset" { "复位" }
                    span.muted { "拖动平移，滚轮缩放；Tab 键逐个选中案件，回车打开" }
                }
                (svg)
            }
            aside.panel.map-legend aria-label="图例" {
                h2 { "图例" }
                ul.legend {
                    @for (i, k) in PinKind::LEGEND.iter().enumerate() {
                        li {
                            svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" {
                                circle class=(k.class()) cx="7" cy="7" r="6" {}
                            }
                            " " (k.label()) " "
                            span.muted { (counts[i]) }
                        }
                    }
                }
                p { "共显示 " strong { (data.pins.len() - outside) } " 个案件" }
                @if data.capped {
                    p.flash.error { "案件过多，显示前 " (MAX_PINS) " 个；请用筛选条件缩小范围" }
                }
                @if outside > 0 {
                    p.muted { (outside) " 个案件位于当前视图之外" }
                }
                h2 { "社区" }
                ul.legend {
                    @for (i, c) in roster.communities.iter().enumerate() {
                        li {
                            svg width="14" height="14" viewBox="0 0 14 14" aria-hidden="true" {
                                rect class={ "g c" (i % COMMUNITY_COLOURS) } x="1" y="1" width="12" height="12" {}
                            }
                            " "
                            a href={ "/desk/map?community=" (percent_encode(&c.id)) } { (c.name) }
                        }
                    }
                }
                p.muted { "红线为主街责任路段，灰线为次街路段。" }
            }
        }
    };
    layout::page(user, Nav::Map, "地图", body)
}

// ---------------------------------------------------------------------------------------
// The case page's small map
// ---------------------------------------------------------------------------------------

/// A small SVG of a case's grid (its neighbours faintly) with the case's pin at `point`
/// (`(lat, lon)`, WGS-84, as the case page passes it), for the case page. Without a known grid it centres on the point;
/// without either it says there is no place.
pub fn mini_map(roster: &Roster, point: Option<(f64, f64)>, grid: &str) -> Markup {
    let point = point
        .map(|(lat, lon)| Point::new(lon, lat))
        .filter(|p| p.is_valid());
    let own = roster.grid(grid);
    // A point far from its grid (a bad fix) does not stretch the map over the country.
    let near = |g: &Grid, p: Point| {
        polygon_centroid(&g.polygon).is_none_or(|c| distance_m(c, p) <= MINI_REACH_M)
    };
    let focus: Vec<Point> = match own {
        Some(g) => g
            .polygon
            .iter()
            .copied()
            .chain(point.filter(|&p| near(g, p)))
            .collect(),
        None => point.into_iter().collect(),
    };
    if focus.is_empty() {
        return html! { p.muted.mini-map { "无位置信息" } };
    }
    // Wide margins, so that the neighbours show around the grid.
    let frame = Frame::fit(focus.into_iter(), Datum::Wgs84, 320.0, (200.0, 240.0), 2.2);
    let view = frame.bbox();
    html! {
        svg.mini-map xmlns="http://www.w3.org/2000/svg"
            viewBox={ "0 0 " (num(frame.w)) " " (num(frame.h)) }
            role="img" aria-label={ "案件位置：" (own.map_or("未知网格", |g| g.name.as_str())) } {
            @for g in roster.grids.iter().filter(|g| frame.bbox_of(&g.polygon).intersects(&view)) {
                path class=(if g.id == grid { "g hl" } else { "g dim" }) d=(path_d(&frame, &g.polygon, true)) {
                    title { (g.name) }
                }
            }
            @for s in roster.segments.iter().filter(|s| frame.bbox_of(&s.polyline).intersects(&view)) {
                path.rd d=(path_d(&frame, &s.polyline, false)) {}
            }
            @if let Some(p) = point {
                @let (x, y) = frame.at(p);
                @if frame.shows((x, y)) {
                    circle.k-late cx=(num(x)) cy=(num(y)) r="6" {}
                }
            }
        }
        @if point.is_some_and(|p| !frame.shows(frame.at(p))) {
            p.muted { "案件位置在所属网格以外较远处" }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Route
// ---------------------------------------------------------------------------------------

async fn map_page(
    State(state): State<Shared>,
    user: DeskUser,
    params: Result<Query<MapParams>, QueryRejection>,
) -> Result<Response, DeskError> {
    let Query(params) =
        params.map_err(|_| DeskError::BadRequest("地图的筛选条件格式不正确".into()))?;
    let filter = MapFilter::parse(&params, &user.roster)?;
    let scope = crate::sync::scope_of(&user.roster, &user.person);
    let now = super::now_ms();
    let st = state.clone();
    let f = filter.clone();
    let data = crate::tasks::blocking(move || {
        with_tx(st.storage.as_ref(), |tx| load(tx, &scope, &f, now))
    })
    .await
    .map_err(|e| match e {
        ServerError::BadRequest(m) => DeskError::BadRequest(m),
        e => DeskError::Server(e),
    })?;
    let tiles = state.desk_tiles.get();
    let page = render(&user, &filter, &data, tiles, now);
    Ok(match tiles.map(TileLayer::origin) {
        // The tiles' host joins the images the page may load; nothing else changes.
        Some(origin) => {
            let csp = super::CSP.replace(
                "img-src 'self' data:",
                &format!("img-src 'self' data: {origin}"),
            );
            let mut res = page.into_response();
            if let Ok(v) = HeaderValue::from_str(&csp) {
                res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
            }
            res
        }
        None => page.into_response(),
    })
}

/// The map's route.
pub fn routes() -> Router<Shared> {
    Router::new().route("/desk/map", get(map_page))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::sqlite::SqliteStorage;
    use std::sync::Arc;
    use xiangying_model::case::Claim;
    use xiangying_model::ids::PersonId;
    use xiangying_model::org::{Role, Scope, sample, zhenxing};

    const NOW: i64 = 1_790_000_000_000;

    fn case(id: &str, p: Option<Point>, status: Status, deadline: Option<i64>) -> DeskCase {
        DeskCase {
            case_id: id.into(),
            number: Some(format!("ZX-20261206-{id}")),
            status: status.as_str().into(),
            status_label: "处理中",
            level: "grid".into(),
            level_label: "网格",
            category: "010101".into(),
            category_label: "公用设施 · 井盖".into(),
            grid: String::new(),
            community: String::new(),
            reporter: "p1".into(),
            assignee_label: String::new(),
            departments: Vec::new(),
            deadline,
            overdue: deadline.is_some_and(|d| d < NOW) && status.is_open(),
            created_at: NOW - 1000,
            updated_at: NOW - 1000,
            closed_at: None,
            lat: p.map(|p| p.lat),
            lon: p.map(|p| p.lon),
            summary: String::new(),
        }
    }

    fn centre_of(roster: &Roster, grid: usize) -> Point {
        polygon_centroid(&roster.grids[grid].polygon).unwrap()
    }

    fn user(roster: Roster) -> DeskUser {
        DeskUser {
            person: PersonId::from("centre1"),
            name: "中心<员>".into(),
            claim: Claim {
                person: "centre1".into(),
                role: Role::StreetCenter,
                scope: Scope::Street,
            },
            csrf: "t".into(),
            roster: Arc::new(roster),
        }
    }

    /// Parses `xml` and fails on any error or unbalanced tag; returns the element names.
    fn well_formed(xml: &str) -> Vec<String> {
        use quick_xml::events::Event;
        let mut r = quick_xml::Reader::from_str(xml);
        r.config_mut().check_end_names = true;
        let (mut depth, mut names) = (0i32, Vec::new());
        loop {
            match r.read_event() {
                Ok(Event::Start(e)) => {
                    depth += 1;
                    names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                Ok(Event::Empty(e)) => {
                    names.push(String::from_utf8_lossy(e.name().as_ref()).into_owned());
                }
                Ok(Event::End(_)) => depth -= 1,
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(e) => panic!("not well-formed at {}: {e}\n{xml}", r.buffer_position()),
            }
        }
        assert_eq!(depth, 0, "unbalanced: {xml}");
        names
    }

    /// The `(x, y)` of every pin circle in `svg`.
    fn pin_positions(svg: &str) -> Vec<(f64, f64)> {
        svg.split("<circle ")
            .skip(1)
            .map(|c| {
                let attr = |name: &str| -> f64 {
                    let start = c.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
                    let end = start + c[start..].find('"').unwrap();
                    c[start..end].parse().unwrap()
                };
                (attr("cx"), attr("cy"))
            })
            .collect()
    }

    #[test]
    fn the_street_fits_the_view_box_with_its_aspect_kept() {
        let roster = zhenxing::roster();
        let all: Vec<Point> = roster
            .grids
            .iter()
            .flat_map(|g| g.polygon.clone())
            .collect();
        let f = Frame::fit(all.iter().copied(), Datum::Wgs84, VIEW_W, VIEW_H, 1.08);
        assert_eq!(f.w, VIEW_W);
        assert!((VIEW_H.0..=VIEW_H.1).contains(&f.h), "{}", f.h);
        let (mut minx, mut maxx) = (f64::MAX, f64::MIN);
        for &p in &all {
            let (x, y) = f.at(p);
            assert!(
                f.shows((x, y)),
                "{p:?} → ({x}, {y}) outside {}×{}",
                f.w,
                f.h
            );
            minx = minx.min(x);
            maxx = maxx.max(x);
        }
        // It fills the view's width or height (fitted, not a speck).
        assert!(maxx - minx > 0.8 * f.w || f.h == VIEW_H.1, "{minx}..{maxx}");
        // 200 m east and 200 m north are drawn the same length (a conformal projection).
        let c = centre_of(&roster, 0);
        let k = 200.0 / distance_m(c, Point::new(c.lon + 0.001, c.lat)) * 0.001;
        let east = Point::new(c.lon + k, c.lat);
        let k = 200.0 / distance_m(c, Point::new(c.lon, c.lat + 0.001)) * 0.001;
        let north = Point::new(c.lon, c.lat + k);
        let (x0, y0) = f.at(c);
        let (xe, ye) = f.at(east);
        let (xn, yn) = f.at(north);
        let (de, dn) = ((xe - x0).hypot(ye - y0), (xn - x0).hypot(yn - y0));
        assert!((de / dn - 1.0).abs() < 0.005, "{de} vs {dn}");
        // North is up, east is right.
        assert!(xe > x0 && yn < y0);
    }

    #[test]
    fn one_community_is_drawn_larger_and_the_others_dimmed() {
        let roster = zhenxing::roster();
        let community = roster.communities[3].id.clone();
        let filter = MapFilter {
            community: Some(community.clone()),
            ..MapFilter::default()
        };
        let pts = focus_points(&roster, &filter, &[]);
        let f = Frame::fit(pts.iter().copied(), Datum::Wgs84, VIEW_W, VIEW_H, 1.08);
        let whole = Frame::fit(
            focus_points(&roster, &MapFilter::default(), &[]).into_iter(),
            Datum::Wgs84,
            VIEW_W,
            VIEW_H,
            1.08,
        );
        assert!(f.scale > 1.5 * whole.scale);
        for g in roster.grids.iter().filter(|g| g.community == community) {
            for &p in &g.polygon {
                assert!(f.shows(f.at(p)), "{} {p:?}", g.id);
            }
        }
        let (svg, _) = map_svg(&roster, &filter, &[], None, NOW);
        let svg = svg.into_string();
        assert!(svg.contains(" dim\""), "neighbours dimmed");
        // Grids far away are left out, so the page stays small.
        let drawn = svg.matches("<path class=\"g ").count();
        assert!(drawn < roster.grids.len(), "{drawn}");
    }

    #[test]
    fn the_map_is_well_formed_svg_with_pins_linking_to_case_pages() {
        let roster = zhenxing::roster();
        let pins = vec![
            case(
                "a1",
                Some(centre_of(&roster, 0)),
                Status::InProgress,
                Some(NOW + 3 * DAY_MS),
            ),
            case(
                "a2",
                Some(centre_of(&roster, 1)),
                Status::InProgress,
                Some(NOW + 3_600_000),
            ),
            case(
                "a3",
                Some(centre_of(&roster, 2)),
                Status::Dispatched,
                Some(NOW - 1),
            ),
            case("a4", Some(centre_of(&roster, 3)), Status::Resolved, None),
            case("a5", Some(centre_of(&roster, 4)), Status::Closed, None),
            case("a6", None, Status::InProgress, None),
        ];
        let (svg, outside) = map_svg(&roster, &MapFilter::default(), &pins, None, NOW);
        let svg = svg.into_string();
        let names = well_formed(&svg);
        assert_eq!(names[0], "svg");
        assert_eq!(names.iter().filter(|n| *n == "a").count(), 5);
        assert_eq!(outside, 1, "the case without a place is not drawn");
        for id in ["a1", "a2", "a3", "a4", "a5"] {
            assert!(svg.contains(&format!("<a href=\"/desk/cases/{id}\"><title>ZX-20261206-{id} · 公用设施 · 井盖 · 处理中")), "{id}: {svg}");
        }
        for class in ["k-ok", "k-soon", "k-late", "k-wait", "k-done"] {
            assert_eq!(
                svg.matches(&format!("class=\"{class}\"")).count(),
                1,
                "{class}"
            );
        }
        // Every grid and road segment of the street is drawn, with its name.
        assert_eq!(svg.matches("<path class=\"g ").count(), roster.grids.len());
        assert_eq!(
            svg.matches("<path class=\"rd").count(),
            roster.segments.len()
        );
        assert!(svg.contains(&roster.grids[0].name));
        // Labels leave out the community's name the colour already shows.
        let community = &roster.community(&roster.grids[0].community).unwrap().name;
        let short = roster.grids[0]
            .name
            .strip_prefix(community.as_str())
            .unwrap();
        assert!(svg.contains(&format!(">{short}</text>")), "{short}");
        // The pin sits where its point projects, inside the view.
        let f = Frame::fit(
            focus_points(&roster, &MapFilter::default(), &[]).into_iter(),
            Datum::Wgs84,
            VIEW_W,
            VIEW_H,
            1.08,
        );
        let (x, y) = f.at(centre_of(&roster, 0));
        assert!(
            pin_positions(&svg)
                .iter()
                .any(|&(px, py)| (px - x).abs() <= 0.05 && (py - y).abs() <= 0.05)
        );
        // Overdue on top: drawn last.
        assert!(svg.rfind("k-late").unwrap() > svg.rfind("k-ok").unwrap());
        // No tile layer configured: no tile, no outside request.
        assert!(!svg.contains("<image"));
        let no_ns = svg.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
        assert!(!no_ns.contains("http://") && !no_ns.contains("https://"));
    }

    #[test]
    fn pins_are_coloured_by_state_and_deadline() {
        let p = Some(Point::new(0.05, 0.05));
        let kind = |s, d| PinKind::of(&case("x", p, s, d), NOW);
        assert_eq!(kind(Status::InProgress, None), PinKind::OnTime);
        assert_eq!(
            kind(Status::InProgress, Some(NOW + DAY_MS + 1)),
            PinKind::OnTime
        );
        assert_eq!(
            kind(Status::InProgress, Some(NOW + DAY_MS)),
            PinKind::DueSoon
        );
        assert_eq!(kind(Status::Escalated, Some(NOW)), PinKind::Overdue);
        assert_eq!(kind(Status::Resolved, Some(NOW - 1)), PinKind::Awaiting);
        assert_eq!(kind(Status::Verified, None), PinKind::Awaiting);
        assert_eq!(kind(Status::Closed, Some(NOW - 1)), PinKind::Closed);
        assert_eq!(kind(Status::Voided, None), PinKind::Void);
        assert_eq!(kind(Status::Duplicate, None), PinKind::Void);
        // The index's own overdue flag wins (a deadline counted on the working calendar).
        let mut c = case("x", p, Status::InProgress, None);
        c.overdue = true;
        assert_eq!(PinKind::of(&c, NOW), PinKind::Overdue);
    }

    #[test]
    fn hostile_names_and_ids_are_escaped() {
        let mut roster = zhenxing::roster();
        roster.grids[0].name = "<script>alert(1)</script>&\"'".into();
        roster.segments[0].name = "</title><script>x</script>".into();
        let mut c = case(
            "\"><script>y</script>/../x?y#z",
            Some(centre_of(&roster, 0)),
            Status::InProgress,
            None,
        );
        c.category_label = "</title></a><script>z</script>".into();
        c.number = Some("<b>1</b>".into());
        let (svg, _) = map_svg(&roster, &MapFilter::default(), &[c], None, NOW);
        let svg = svg.into_string();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(!svg.contains("<b>"));
        well_formed(&svg);
        assert!(
            svg.contains(
                "href=\"/desk/cases/%22%3E%3Cscript%3Ey%3C%2Fscript%3E%2F..%2Fx%3Fy%23z\""
            ),
            "{svg}"
        );
        let mini = mini_map(&roster, Some((0.0, 0.0)), &roster.grids[0].id).into_string();
        assert!(!mini.contains("<script"));
        assert!(
            mini.contains("较远处"),
            "a far point is said, not drawn: {mini}"
        );
        well_formed(&mini.replace("<p class=\"muted\">案件位置在所属网格以外较远处</p>", ""));
        // The whole page too, with a hostile person name.
        let page = render(
            &user(roster),
            &MapFilter::default(),
            &MapData::default(),
            None,
            NOW,
        )
        .into_string();
        assert!(!page.contains("<script>"));
        assert!(!page.contains("<员>"));
    }

    fn tile_index(p: Point, z: u8) -> (u32, u32, f64, f64) {
        // The usual slippy-map formula, written independently of `mercator`.
        let n = f64::from(1u32 << z);
        let x = (p.lon + 180.0) / 360.0 * n;
        let lat = p.lat.to_radians();
        let y = (1.0 - (lat.tan() + 1.0 / lat.cos()).ln() / PI) / 2.0 * n;
        (x.floor() as u32, y.floor() as u32, x.fract(), y.fract())
    }

    /// The tile under a drawn position and where in it, from the tiles `svg` asks for.
    fn tile_under(svg: &str, (x, y): (f64, f64)) -> (u8, u32, u32, f64, f64) {
        for img in svg.split("<image ").skip(1) {
            let attr = |name: &str| -> &str {
                let start = img
                    .find(&format!(" {name}=\""))
                    .map(|i| i + name.len() + 3)
                    .or_else(|| {
                        img.starts_with(&format!("{name}=\""))
                            .then_some(name.len() + 2)
                    })
                    .unwrap();
                &img[start..start + img[start..].find('"').unwrap()]
            };
            let href = attr("href");
            let (left, top, size): (f64, f64, f64) = (
                attr("x").parse().unwrap(),
                attr("y").parse().unwrap(),
                attr("width").parse().unwrap(),
            );
            let size = size - 0.5;
            if (left..left + size).contains(&x) && (top..top + size).contains(&y) {
                let parts: Vec<&str> = href.trim_end_matches(".png").rsplit('/').take(3).collect();
                let (ty, tx, z) = (
                    parts[0].parse().unwrap(),
                    parts[1].parse().unwrap(),
                    parts[2].parse().unwrap(),
                );
                return (z, tx, ty, (x - left) / size, (y - top) / size);
            }
        }
        panic!("no tile under ({x}, {y})");
    }

    #[test]
    fn tiles_are_asked_for_at_the_right_place_in_the_tiles_datum() {
        let roster = zhenxing::roster();
        let filter = MapFilter::default();
        let c = centre_of(&roster, 5);
        let pins = [case("a1", Some(c), Status::InProgress, None)];
        for (datum, shifted) in [
            (TileDatum::Wgs84, c),
            (TileDatum::Gcj02, Datum::Gcj02.from_wgs84(c)),
        ] {
            let layer = TileLayer::new("https://tiles.example/{z}/{x}/{y}.png", datum).unwrap();
            let (svg, _) = map_svg(&roster, &filter, &pins, Some(&layer), NOW);
            let svg = svg.into_string();
            well_formed(&svg);
            let count = svg.matches("<image ").count();
            assert!((1..=MAX_TILES).contains(&count), "{count}");
            let at = pin_positions(&svg)[0];
            let (z, tx, ty, fx, fy) = tile_under(&svg, at);
            assert!((12..=MAX_ZOOM).contains(&z), "a street-sized zoom: {z}");
            let (ex, ey, efx, efy) = tile_index(shifted, z);
            assert_eq!((tx, ty), (ex, ey), "{datum:?}");
            // Within a pixel of a 256-pixel tile.
            assert!(
                (fx - efx).abs() < 1.0 / 256.0 && (fy - efy).abs() < 1.0 / 256.0,
                "{datum:?}: {fx},{fy} vs {efx},{efy}"
            );
            if datum == TileDatum::Gcj02 {
                // The shift near Panjin is hundreds of metres: the unconverted point would
                // sit elsewhere on the tiles.
                let (wx, wy, wfx, wfy) = tile_index(c, z);
                let off = ((f64::from(wx) + wfx) - (f64::from(ex) + efx))
                    .hypot((f64::from(wy) + wfy) - (f64::from(ey) + efy));
                assert!(off > 0.2, "{off} tiles");
            }
        }
    }

    #[test]
    fn a_tile_address_is_checked_and_its_origin_exposed() {
        let ok = DeskSettings {
            tile_url: Some("https://t1.example.cn:8443/maps/{z}/{x}/{y}.png?style=7".into()),
            tile_datum: Some(TileDatum::Gcj02),
            ..DeskSettings::default()
        };
        assert_eq!(
            tile_origin(&ok).as_deref(),
            Some("https://t1.example.cn:8443")
        );
        let layer = tile_layer(&ok).unwrap().unwrap();
        assert_eq!(layer.datum(), Datum::Gcj02);
        assert_eq!(
            layer.url(16, 54_001, 24_000),
            "https://t1.example.cn:8443/maps/16/54001/24000.png?style=7"
        );
        assert_eq!(tile_origin(&DeskSettings::default()), None);
        assert_eq!(tile_layer(&DeskSettings::default()), Ok(None));
        for bad in [
            "javascript:alert(1)//{z}{x}{y}",
            "https://{z}.example/{x}/{y}",
            "https://user@evil/{z}/{x}/{y}",
            "https://t.example/{z}/{x}/{y}\" onerror=\"x",
            "https://t.example/{x}/{y}",
            "https:///{z}/{x}/{y}",
        ] {
            assert!(TileLayer::new(bad, TileDatum::Wgs84).is_err(), "{bad}");
        }
    }

    #[test]
    fn filters_are_checked_and_refusals_name_the_field() {
        let roster = zhenxing::roster();
        let c0 = roster.communities[0].id.clone();
        let g_other = roster
            .grids
            .iter()
            .find(|g| g.community != c0)
            .unwrap()
            .id
            .clone();
        let p = |f: fn(&mut MapParams)| {
            let mut params = MapParams::default();
            f(&mut params);
            MapFilter::parse(&params, &roster)
        };
        assert_eq!(p(|_| {}).unwrap(), MapFilter::default());
        let refused = |r: Result<MapFilter, DeskError>, words: &str| match r {
            Err(DeskError::BadRequest(m)) => assert!(m.contains(words), "{m}"),
            other => panic!("{other:?}"),
        };
        refused(p(|q| q.community = Some("nowhere".into())), "社区");
        refused(p(|q| q.grid = Some("<g>".into())), "网格");
        refused(p(|q| q.state = Some("burning".into())), "状态");
        refused(p(|q| q.overdue = Some("yes".into())), "超期");
        refused(p(|q| q.from = Some("2026-13-01".into())), "起始日期");
        refused(p(|q| q.to = Some("x".repeat(65))), "过长");
        refused(
            p(|q| {
                q.from = Some("2026-12-02".into());
                q.to = Some("2026-12-01".into());
            }),
            "早于",
        );
        let mut params = MapParams {
            community: Some(c0.clone()),
            grid: Some(g_other.clone()),
            ..MapParams::default()
        };
        refused(MapFilter::parse(&params, &roster), "不在所选社区");
        params.grid = None;
        params.state = Some("awaiting".into());
        params.overdue = Some("1".into());
        params.from = Some(" 2026-12-01 ".into());
        params.to = Some("2026-12-01".into());
        let f = MapFilter::parse(&params, &roster).unwrap();
        let q = f.query();
        assert_eq!(q.community.as_deref(), Some(c0.as_str()));
        assert_eq!(q.status, Some(StatusFilter::Awaiting));
        assert!(q.overdue);
        assert_eq!(
            q.created_to.unwrap() - q.created_from.unwrap(),
            DAY_MS,
            "the last day is included"
        );
        assert_eq!(StatusGroup::All.filter(), None);
        assert_eq!(StatusGroup::Open.filter(), Some(StatusFilter::Open));
    }

    #[test]
    fn load_reads_the_catalogue_and_refuses_an_unknown_category() {
        let dir = tempfile::tempdir().unwrap();
        let storage = SqliteStorage::open(dir.path()).unwrap();
        with_tx(&storage, |tx| {
            tx.set_org(
                &sample::roster_json().unwrap(),
                &sample::catalogue_json().unwrap(),
            )
            .map(|_| ())
        })
        .unwrap();
        let scope = ReadScope {
            all: true,
            keys: Vec::new(),
        };
        let data = with_tx(&storage, |tx| load(tx, &scope, &MapFilter::default(), NOW)).unwrap();
        assert!(!data.categories.is_empty());
        assert!(!data.capped);
        let code = data.categories[0].0.clone();
        let f = MapFilter {
            category: Some(code),
            ..MapFilter::default()
        };
        assert!(with_tx(&storage, |tx| load(tx, &scope, &f, NOW)).is_ok());
        let f = MapFilter {
            category: Some("999999".into()),
            ..MapFilter::default()
        };
        match with_tx(&storage, |tx| load(tx, &scope, &f, NOW)) {
            Err(ServerError::BadRequest(m)) => assert!(m.contains("类别")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_page_has_a_labelled_filter_form_a_legend_and_the_cap_note() {
        let roster = zhenxing::roster();
        let u = user(roster.clone());
        let data = MapData {
            pins: vec![case(
                "a1",
                Some(centre_of(&roster, 0)),
                Status::InProgress,
                None,
            )],
            capped: true,
            categories: vec![("010101".into(), "公用设施 · 井盖".into())],
        };
        let filter = MapFilter {
            overdue: true,
            ..MapFilter::default()
        };
        let page = render(&u, &filter, &data, None, NOW).into_string();
        for name in [
            "community",
            "grid",
            "state",
            "category",
            "from",
            "to",
            "overdue",
        ] {
            assert!(page.contains(&format!("name=\"{name}\"")), "{name}");
        }
        assert_eq!(
            page.matches("<label").count(),
            7,
            "every input has its label"
        );
        assert!(page.contains(&format!("显示前 {MAX_PINS} 个")));
        for k in PinKind::LEGEND {
            assert!(page.contains(k.label()), "{k:?}");
        }
        assert!(page.contains("checked"));
        assert!(page.contains("id=\"desk-map\""));
        let uncapped = render(
            &u,
            &filter,
            &MapData {
                capped: false,
                ..data
            },
            None,
            NOW,
        )
        .into_string();
        assert!(!uncapped.contains("显示前"));
    }

    #[test]
    fn the_mini_map_shows_the_grid_its_neighbours_and_the_pin() {
        let roster = zhenxing::roster();
        let g = &roster.grids[10];
        let c = centre_of(&roster, 10);
        let svg = mini_map(&roster, Some((c.lat, c.lon)), &g.id).into_string();
        well_formed(&svg);
        assert_eq!(svg.matches("class=\"g hl\"").count(), 1);
        assert!(
            svg.matches("class=\"g dim\"").count() >= 2,
            "neighbours faintly"
        );
        assert!(
            svg.matches("class=\"g dim\"").count() < roster.grids.len() - 1,
            "not the whole street"
        );
        let pins = pin_positions(&svg);
        assert_eq!(pins.len(), 1);
        let (x, y) = pins[0];
        assert!((0.0..=320.0).contains(&x) && (0.0..=240.0).contains(&y));
        // Unknown grid: centred on the point; no place at all: said so.
        let lone = mini_map(&roster, Some((c.lat, c.lon)), "nowhere").into_string();
        assert_eq!(pin_positions(&lone).len(), 1);
        let none = mini_map(&roster, None, "nowhere").into_string();
        assert!(none.contains("无位置信息"));
        let nan = mini_map(&roster, Some((1.0, f64::NAN)), "nowhere").into_string();
        // (lat, lon): a latitude over 90 is no place.
        let swapped = mini_map(&roster, Some((c.lon, c.lat)), "nowhere").into_string();
        assert!(swapped.contains("无位置信息"), "{swapped}");
        assert!(nan.contains("无位置信息"));
    }
}
