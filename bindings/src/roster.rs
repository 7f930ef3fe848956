//! The roster read API on [`XiangyingDevice`]: the people this device's person may see
//! (decision 0016), searched by name and pinyin; departments, communities, grids with their
//! polygons and road segments with their lines; categories with the deadline a report would
//! get; the working calendar. All offline, from the device's roster copy through the core's
//! `Directory` (the view and its search index are built once per roster install and person),
//! so these are blocking calls like the other quick queries.
//!
//! Every position that leaves here goes through [`XiangyingDevice::out_point`], the one place
//! that decides how a roster point is given to the app.

use crate::datum::{GeoPoint, map_point};
use crate::device::XiangyingDevice;
use crate::error::ApiResult;
use crate::roster_types::{
    CategoryDeadline, PublicHoliday, RosterCommunity, RosterDepartment, RosterGrid, RosterPerson,
    RosterSegment, Weekday, WorkingCalendar, WorkingPeriod,
};
use xiangying_core::Directory;
use xiangying_core::org::{self as core_org, polygon_area_m2, polygon_centroid, polyline_length_m};

impl XiangyingDevice {
    /// A roster point as the app receives it: in the datum of the app's map
    /// (`set_map_datum`). Every outgoing position of this file goes through here.
    fn out_point(&self, p: core_org::Point) -> GeoPoint {
        map_point(p, self.map_datum.get())
    }

    fn out_points(&self, points: &[core_org::Point]) -> Vec<GeoPoint> {
        points.iter().map(|&p| self.out_point(p)).collect()
    }
}

fn person(dir: &Directory, p: &core_org::Person) -> RosterPerson {
    let m = dir.membership(p);
    RosterPerson {
        id: p.id.clone(),
        name: p.name.clone(),
        role: p.role.into(),
        role_label: p.role.label_zh().to_string(),
        scope: p.scope.clone().into(),
        community: m.community,
        grid: m.grid,
        segment: m.segment,
        department: m.department,
        phone: (!p.phone.is_empty()).then(|| p.phone.clone()),
    }
}

/// A `HH:MM` time of day from minutes after midnight.
fn hh_mm(minutes: i64) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

#[uniffi::export]
impl XiangyingDevice {
    // ---- people -------------------------------------------------------------------------

    /// The people this device's person may see, in roster order, with role, places and the
    /// phone numbers they may see (decision 0016: the centre sees everybody; other staff all
    /// staff and the volunteers or residents of their own place; volunteers and residents
    /// only the people cases route to, and no phone numbers). Before a person is set, the
    /// public view. `NotSetUp` without a roster.
    pub fn people(&self) -> ApiResult<Vec<RosterPerson>> {
        let dir = self.device.directory()?;
        Ok(dir.people().iter().map(|p| person(&dir, p)).collect())
    }

    /// One person, if this device's person may see them (`None` otherwise, or for an unknown
    /// id): what a case or patrol screen shows for an author's id.
    pub fn person(&self, id: String) -> ApiResult<Option<RosterPerson>> {
        let dir = self.device.directory()?;
        Ok(dir.person(&id).map(|p| person(&dir, p)))
    }

    /// The people this device may see whose name matches `query`, as Chinese users look a
    /// colleague up: the name or its start (张三, 张), pinyin initials (`zs`), full pinyin
    /// (`zhangsan`) or its prefix (`zhangs`), case-insensitive, spaces and apostrophes
    /// ignored, any reading of a character with several (曾 `zeng`/`ceng`, 单 `shan`/`dan`),
    /// `ü` typed `v` or `u`. Best first: the exact name, then initials of the whole name,
    /// full pinyin of the whole name, the typed start of the name, initials of its start,
    /// other splits, then matches inside the name (the given name); ties in roster order.
    /// At most `limit` (default 20); an empty query finds nobody. The pinyin of every name is
    /// computed once per roster install, not per call.
    #[uniffi::method(default(limit = 20))]
    pub fn search_people(&self, query: String, limit: u32) -> ApiResult<Vec<RosterPerson>> {
        let dir = self.device.directory()?;
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(dir
            .search(&query, limit)
            .into_iter()
            .map(|p| person(&dir, p))
            .collect())
    }

    // ---- places -------------------------------------------------------------------------

    /// The departments stationed in the street, in roster order (a dispatch picker).
    pub fn departments(&self) -> ApiResult<Vec<RosterDepartment>> {
        let dir = self.device.directory()?;
        Ok(dir
            .roster()
            .departments
            .iter()
            .map(|d| RosterDepartment {
                id: d.id.clone(),
                name: d.name.clone(),
            })
            .collect())
    }

    /// The communities, in roster order, with their chief, grids and road segments.
    pub fn communities(&self) -> ApiResult<Vec<RosterCommunity>> {
        let dir = self.device.directory()?;
        let r = dir.roster();
        Ok(r.communities
            .iter()
            .map(|c| RosterCommunity {
                id: c.id.clone(),
                name: c.name.clone(),
                chief: r.community_chief_of(&c.id).map(|p| p.id.clone()),
                grids: r.grids_of(&c.id).map(|g| g.id.clone()).collect(),
                segments: r.segments_of(&c.id).map(|s| s.id.clone()).collect(),
            })
            .collect())
    }

    /// The grids with their polygons (a map overlay), in roster order, each with its label
    /// point, area and grid worker.
    pub fn grids(&self) -> ApiResult<Vec<RosterGrid>> {
        let dir = self.device.directory()?;
        let r = dir.roster();
        Ok(r.grids
            .iter()
            .map(|g| RosterGrid {
                id: g.id.clone(),
                name: g.name.clone(),
                community: g.community.clone(),
                polygon: self.out_points(&g.polygon),
                centroid: polygon_centroid(&g.polygon).map(|p| self.out_point(p)),
                area_m2: polygon_area_m2(&g.polygon),
                grid_worker: r.grid_worker_of(&g.id).map(|p| p.id.clone()),
            })
            .collect())
    }

    /// The road segments of the street chiefs (街长) with their lines, in roster order, each
    /// with its road, length and street chiefs.
    pub fn road_segments(&self) -> ApiResult<Vec<RosterSegment>> {
        let dir = self.device.directory()?;
        let r = dir.roster();
        Ok(r.segments
            .iter()
            .map(|s| {
                let road = r.road(&s.road);
                RosterSegment {
                    id: s.id.clone(),
                    name: s.name.clone(),
                    road: s.road.clone(),
                    road_name: road.map_or_else(|| s.road.clone(), |r| r.name.clone()),
                    main_road: road.is_some_and(|r| r.main),
                    community: s.community.clone(),
                    polyline: self.out_points(&s.polyline),
                    length_m: polyline_length_m(&s.polyline),
                    street_chiefs: r
                        .street_chiefs_of(&s.id)
                        .into_iter()
                        .map(|p| p.id.clone())
                        .collect(),
                }
            })
            .collect())
    }

    // ---- categories and the calendar ----------------------------------------------------

    /// Every category in catalogue order with the deadline a report of it raised at `at_ms`
    /// (default: now, the device clock) would get, counted as the report counts it: working
    /// hours of the working calendar, or natural hours for urgent categories; and the name of
    /// its department. `InvalidInput { field: "at_ms" }` for a time before 1970 or after
    /// 9999.
    #[uniffi::method(default(at_ms = None))]
    pub fn category_deadlines(&self, at_ms: Option<i64>) -> ApiResult<Vec<CategoryDeadline>> {
        let at = self.time_or_clock("at_ms", at_ms)?;
        let dir = self.device.directory()?;
        let catalogue = dir.catalogue();
        Ok(catalogue
            .categories
            .iter()
            .map(|c| CategoryDeadline {
                department_name: c
                    .department
                    .as_deref()
                    .and_then(|d| dir.roster().department(d))
                    .map(|d| d.name.clone()),
                deadline_ms: catalogue.calendar.add_hours(at, c.limit_hours, c.clock),
                category: c.clone().into(),
            })
            .collect())
    }

    /// The street's working calendar: UTC offset, daily working periods, working weekdays,
    /// public holidays with their make-up working days (published with the catalogue).
    pub fn working_calendar(&self) -> ApiResult<WorkingCalendar> {
        let dir = self.device.directory()?;
        let c = &dir.catalogue().calendar;
        let spec = c.spec();
        let minutes = c.period_minutes();
        Ok(WorkingCalendar {
            utc_offset_minutes: i32::try_from(c.utc_offset_minutes()).unwrap_or_default(),
            periods: minutes
                .iter()
                .map(|&(a, b)| WorkingPeriod {
                    start: hh_mm(a),
                    end: hh_mm(b),
                    start_minute: u32::try_from(a).unwrap_or_default(),
                    end_minute: u32::try_from(b).unwrap_or_default(),
                })
                .collect(),
            minutes_per_day: u32::try_from(c.minutes_per_day()).unwrap_or_default(),
            weekdays: Weekday::ALL
                .into_iter()
                .zip(c.working_weekdays())
                .filter_map(|(d, works)| works.then_some(d))
                .collect(),
            holidays: spec
                .holidays
                .iter()
                .map(|h| PublicHoliday {
                    name: h.name.clone(),
                    from: h.from.clone(),
                    to: h.to.clone(),
                    workdays: h.workdays.clone(),
                })
                .collect(),
        })
    }

    /// True when `at_ms` (default: now) falls in working time: a working period of a working
    /// day (a working weekday that is not a holiday, or a make-up working day).
    /// `InvalidInput { field: "at_ms" }` for a time before 1970 or after 9999.
    #[uniffi::method(default(at_ms = None))]
    pub fn is_working_time(&self, at_ms: Option<i64>) -> ApiResult<bool> {
        let at = self.time_or_clock("at_ms", at_ms)?;
        Ok(self
            .device
            .directory()?
            .catalogue()
            .calendar
            .is_working_time(at))
    }
}

#[cfg(test)]
mod tests;
