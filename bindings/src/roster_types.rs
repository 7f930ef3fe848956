//! The records of the roster read API ([`crate::roster`]): people as the device's person may
//! see them, departments, communities, grids with their polygons, road segments with their
//! lines, categories with the deadline a report would get, and the working calendar. Ids are
//! the roster's; times are milliseconds since the Unix epoch; positions are [`GeoPoint`]s
//! (made by the device's one outgoing-point function); lengths metres, areas square metres.

use crate::datum::GeoPoint;
use crate::types::{Category, Role, Scope};

/// A person as this device's person may see them (decision 0016): staff see all staff, the
/// centre everybody, volunteers and residents only the people cases route to.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RosterPerson {
    /// The person's id in the roster.
    pub id: String,
    /// Their name, e.g. 张三.
    pub name: String,
    /// Their one role.
    pub role: Role,
    /// The role's Chinese name, e.g. 网格员, for a list's second line.
    pub role_label: String,
    /// Where their role applies.
    pub scope: Scope,
    /// Their community: the scope's own, or that of their grid or road segment.
    pub community: Option<String>,
    /// Their grid (grid workers, grid informants, residents).
    pub grid: Option<String>,
    /// Their road segment (street chiefs).
    pub segment: Option<String>,
    /// Their department (department staff).
    pub department: Option<String>,
    /// Their phone number, when this device may see it (staff duty phones for staff; a
    /// volunteer's or resident's only for the centre and the head of their place); never
    /// on a volunteer's or resident's device.
    pub phone: Option<String>,
}

/// An enforcement department stationed in the street (驻街执法部门).
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RosterDepartment {
    /// The department's id, e.g. `police` (what `dispatch` takes).
    pub id: String,
    /// Its name, e.g. 派出所.
    pub name: String,
}

/// A community (社区) with what it holds.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct RosterCommunity {
    /// The community's id.
    pub id: String,
    /// Its name, e.g. 兴隆社区.
    pub name: String,
    /// Its community grid chief (社区网格长), a person id.
    pub chief: Option<String>,
    /// Its grids' ids, in roster order.
    pub grids: Vec<String>,
    /// The ids of the road segments it answers for, in roster order.
    pub segments: Vec<String>,
}

/// A grid (网格) with its boundary, for a map overlay.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RosterGrid {
    /// The grid's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// The community it belongs to.
    pub community: String,
    /// Its boundary, a closed ring (the last point does not repeat the first).
    pub polygon: Vec<GeoPoint>,
    /// Where to put its label: the polygon's centroid (none for a degenerate polygon).
    pub centroid: Option<GeoPoint>,
    /// Its area in square metres.
    pub area_m2: f64,
    /// Its grid worker (网格员), a person id.
    pub grid_worker: Option<String>,
}

/// A responsibility road segment (责任路段) of the street chiefs (街长), with its centre line.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct RosterSegment {
    /// The segment's id.
    pub id: String,
    /// Its name, e.g. 兴隆街（一段）.
    pub name: String,
    /// The road it runs along (id).
    pub road: String,
    /// That road's name, e.g. 兴隆街.
    pub road_name: String,
    /// True on a main street (主街), false on a secondary one (次街).
    pub main_road: bool,
    /// The community that answers for it.
    pub community: String,
    /// Its centre line.
    pub polyline: Vec<GeoPoint>,
    /// Its length in metres.
    pub length_m: f64,
    /// Its street chiefs (party-member, then merchant, in roster order), person ids.
    pub street_chiefs: Vec<String>,
}

/// A category with the deadline a report of it raised at a given time would get.
#[derive(Debug, Clone, PartialEq, uniffi::Record)]
pub struct CategoryDeadline {
    /// The category, with its limit in hours and the clock they count on.
    pub category: Category,
    /// The name of the department that answers for it, if any.
    pub department_name: Option<String>,
    /// When a case of it raised at the asked time would be due: the limit counted on its
    /// clock (working hours of the working calendar, or natural hours), as the report records.
    pub deadline_ms: i64,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum Weekday {
    /// 星期一.
    Monday,
    /// 星期二.
    Tuesday,
    /// 星期三.
    Wednesday,
    /// 星期四.
    Thursday,
    /// 星期五.
    Friday,
    /// 星期六.
    Saturday,
    /// 星期日.
    Sunday,
}

impl Weekday {
    /// Every day, Monday first.
    pub const ALL: [Weekday; 7] = [
        Weekday::Monday,
        Weekday::Tuesday,
        Weekday::Wednesday,
        Weekday::Thursday,
        Weekday::Friday,
        Weekday::Saturday,
        Weekday::Sunday,
    ];
}

/// One daily working period, local time.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkingPeriod {
    /// When it starts, `HH:MM`.
    pub start: String,
    /// When it ends, `HH:MM` (`24:00` for midnight).
    pub end: String,
    /// Its start in minutes after local midnight.
    pub start_minute: u32,
    /// Its end in minutes after local midnight.
    pub end_minute: u32,
}

/// A public holiday as published (放假调休): days off and the make-up working days that go
/// with it. Dates are the street's local dates, `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct PublicHoliday {
    /// Its name, e.g. 国庆节.
    pub name: String,
    /// The first day off.
    pub from: String,
    /// The last day off (the same as `from` for one day).
    pub to: String,
    /// Weekend days worked for it (调休上班).
    pub workdays: Vec<String>,
}

/// The street's working calendar (decision 0011), in which working-hour limits count.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct WorkingCalendar {
    /// The street's offset from UTC in minutes (China: 480).
    pub utc_offset_minutes: i32,
    /// The daily working periods, in order.
    pub periods: Vec<WorkingPeriod>,
    /// The working time of an ordinary working day, in minutes (450 for 7.5 h).
    pub minutes_per_day: u32,
    /// The working weekdays, Monday first.
    pub weekdays: Vec<Weekday>,
    /// The public holidays and their make-up working days, as published.
    pub holidays: Vec<PublicHoliday>,
}
