//! Public notice boards (街长公示栏): for every road segment of the street, the people who
//! answer for it — its party-member and merchant street chiefs, the grid workers of the grids
//! it runs along, the staff of the enforcement department, and the greening department's
//! staff when the street has one — with name, phone, patrol range and duties.
//!
//! [`NoticeBoard::of`] builds the board from a roster; [`NoticeBoard::html`] renders it as one
//! printable, self-contained HTML page (inline CSS, A4 print styles, one block per segment);
//! [`NoticeBoard::segment_svg`] renders one segment's block as a standalone SVG (text left to
//! the viewer's CJK fonts). PDF and PNG are not produced here: the server's `board` module
//! prints them from the same [`NoticeBoard`] (decision 0012).

use crate::org::{Department, Person, Role, Roster, polyline_length_m};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// Duty text of a party-member street chief.
pub const DUTY_PARTY_CHIEF: &str = "早晚巡查责任路段，小事即时处置，其余拍照转交网格员";
/// Duty text of a merchant street chief.
pub const DUTY_MERCHANT_CHIEF: &str = "营业时间巡查门前及路段，小事即时处置，其余拍照转交网格员";
/// Duty text of a grid worker.
pub const DUTY_GRID_WORKER: &str = "每日陪同街长巡查，受理转交问题，网格内处置或上报社区";
/// Duty text of the enforcement department's staff.
pub const DUTY_ENFORCEMENT: &str = "联合执法，陪同网格员和街长开展专项巡查";
/// Duty text of the greening department's staff.
pub const DUTY_GREENING: &str = "路段绿化养护，受理绿化问题";

/// One responsible person on a segment's board.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeEntry {
    /// Role label, e.g. 党员街长, 网格员, or the department's name.
    pub role: String,
    /// The person's id.
    pub person: String,
    /// Name.
    pub name: String,
    /// Phone.
    pub phone: String,
    /// Short duty text.
    pub duty: String,
}

/// One segment's block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentBoard {
    /// The segment's id.
    pub segment: String,
    /// The segment's name: its patrol range.
    pub name: String,
    /// The road's name, when the roster has it.
    pub road: Option<String>,
    /// The community that answers for it, by name.
    pub community: Option<String>,
    /// Length of the patrol range in metres, rounded.
    pub length_m: u32,
    /// The responsible people, in the order street chiefs, grid workers, enforcement,
    /// greening.
    pub people: Vec<NoticeEntry>,
}

/// The notice boards of a whole street.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoticeBoard {
    /// The street's name.
    pub street: String,
    /// One block per segment, in roster order.
    pub segments: Vec<SegmentBoard>,
}

/// The enforcement departments: those named 综合执法, else those named 执法, else the one
/// with id `enforcement`.
fn enforcement(roster: &Roster) -> Vec<&Department> {
    let by = |needle: &str| -> Vec<&Department> {
        roster
            .departments
            .iter()
            .filter(|d| d.name.contains(needle))
            .collect()
    };
    let mut found = by("综合执法");
    if found.is_empty() {
        found = by("执法");
    }
    if found.is_empty() {
        found = roster
            .departments
            .iter()
            .filter(|d| d.id == "enforcement")
            .collect();
    }
    found
}

/// The greening department: the first whose name contains 绿化 or 园林, if any.
fn greening(roster: &Roster) -> Option<&Department> {
    roster
        .departments
        .iter()
        .find(|d| d.name.contains("绿化") || d.name.contains("园林"))
}

fn entry(p: &Person, role: &str, duty: &str) -> NoticeEntry {
    NoticeEntry {
        role: role.to_string(),
        person: p.id.clone(),
        name: p.name.clone(),
        phone: p.phone.clone(),
        duty: duty.to_string(),
    }
}

fn staff_of<'a>(roster: &'a Roster, d: &'a Department) -> impl Iterator<Item = &'a Person> {
    roster.people.iter().filter(move |p| {
        p.role == Role::DepartmentStaff
            && matches!(&p.scope, crate::org::Scope::Department(id) if *id == d.id)
    })
}

impl NoticeBoard {
    /// The boards of every segment of `roster`.
    pub fn of(roster: &Roster) -> NoticeBoard {
        let enforcement = enforcement(roster);
        let greening = greening(roster);
        let segments = roster
            .segments
            .iter()
            .map(|s| {
                let mut people = Vec::new();
                for p in roster.street_chiefs_of(&s.id) {
                    let duty = if p.role == Role::PartyStreetChief {
                        DUTY_PARTY_CHIEF
                    } else {
                        DUTY_MERCHANT_CHIEF
                    };
                    people.push(entry(p, p.role.label_zh(), duty));
                }
                for g in roster.grids_along(&s.id) {
                    if let Some(p) = roster.grid_worker_of(&g.id) {
                        let role = format!("{}（{}）", Role::GridWorker.label_zh(), g.name);
                        people.push(entry(p, &role, DUTY_GRID_WORKER));
                    }
                }
                for d in &enforcement {
                    for p in staff_of(roster, d) {
                        people.push(entry(p, &d.name, DUTY_ENFORCEMENT));
                    }
                }
                if let Some(d) = greening {
                    for p in staff_of(roster, d) {
                        people.push(entry(p, &d.name, DUTY_GREENING));
                    }
                }
                // A segment's length is a few km at most: far inside u32.
                let length_m = polyline_length_m(&s.polyline).round().max(0.0) as u32;
                SegmentBoard {
                    segment: s.id.clone(),
                    name: s.name.clone(),
                    road: roster.road(&s.road).map(|r| r.name.clone()),
                    community: roster.community(&s.community).map(|c| c.name.clone()),
                    length_m,
                    people,
                }
            })
            .collect();
        NoticeBoard {
            street: roster.street.name.clone(),
            segments,
        }
    }

    /// The whole board as one printable HTML page: inline CSS, A4 print styles, one block per
    /// segment (each starting on a new page when printed). All roster text is escaped.
    pub fn html(&self) -> String {
        let street = escape(&self.street);
        let mut out = String::with_capacity(4096 + self.segments.len() * 2048);
        let _ = write!(
            out,
            r#"<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{street}街长公示栏</title>
<style>
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif; margin: 1.5em; color: #111; }}
h1 {{ text-align: center; font-size: 22pt; margin: 0 0 0.8em; }}
section.board {{ border: 3px solid #b71c1c; border-radius: 6px; padding: 0.8em 1em; margin: 0 0 1.5em; }}
section.board h2 {{ background: #b71c1c; color: #fff; margin: -0.8em -1em 0.6em; padding: 0.4em 1em; font-size: 16pt; }}
p.range {{ margin: 0.2em 0 0.6em; font-size: 11pt; }}
table {{ width: 100%; border-collapse: collapse; font-size: 11pt; }}
th, td {{ border: 1px solid #555; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }}
th {{ background: #f3e5e5; }}
td.phone {{ white-space: nowrap; font-family: monospace; }}
p.none {{ color: #555; }}
footer {{ text-align: center; font-size: 9pt; color: #555; }}
@page {{ size: A4 portrait; margin: 15mm; }}
@media print {{
  body {{ margin: 0; }}
  section.board {{ page-break-after: always; break-after: page; page-break-inside: avoid; break-inside: avoid; }}
  section.board:last-of-type {{ page-break-after: auto; break-after: auto; }}
  th {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
  section.board h2 {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
}}
</style>
</head>
<body>
<h1>{street}街长公示栏</h1>
"#
        );
        for s in &self.segments {
            let _ = write!(
                out,
                "<section class=\"board\" id=\"seg-{}\">\n<h2>{}</h2>\n<p class=\"range\">巡查范围：{}，全长约 {} 米",
                escape(&s.segment),
                escape(&s.name),
                escape(&s.name),
                s.length_m
            );
            if let Some(r) = &s.road {
                let _ = write!(out, "；所在道路：{}", escape(r));
            }
            if let Some(c) = &s.community {
                let _ = write!(out, "；责任社区：{}", escape(c));
            }
            out.push_str("</p>\n");
            if s.people.is_empty() {
                out.push_str("<p class=\"none\">暂无责任人</p>\n");
            } else {
                out.push_str(
                    "<table>\n<thead><tr><th>职责</th><th>姓名</th><th>电话</th><th>巡查范围</th><th>职责内容</th></tr></thead>\n<tbody>\n",
                );
                for e in &s.people {
                    let _ = writeln!(
                        out,
                        "<tr><td>{}</td><td>{}</td><td class=\"phone\">{}</td><td>{}（{} 米）</td><td>{}</td></tr>",
                        escape(&e.role),
                        escape(&e.name),
                        escape(&e.phone),
                        escape(&s.name),
                        s.length_m,
                        escape(&e.duty)
                    );
                }
                out.push_str("</tbody>\n</table>\n");
            }
            out.push_str("</section>\n");
        }
        let _ = write!(
            out,
            "<footer>网格化管理有呼必应 · 精细化治理一呼百应 · 社会化治理全民响应</footer>\n</body>\n</html>\n"
        );
        out
    }

    /// One segment's block as a standalone SVG (A4-proportioned, 595 × 842 units), or `None`
    /// for an unknown segment id. Text is drawn with the viewer's fonts; all text is escaped.
    pub fn segment_svg(&self, segment: &str) -> Option<String> {
        let s = self.segments.iter().find(|s| s.segment == segment)?;
        let mut out = String::with_capacity(4096);
        let _ = write!(
            out,
            r##"<svg xmlns="http://www.w3.org/2000/svg" width="595" height="842" viewBox="0 0 595 842" font-family="Noto Sans CJK SC, Source Han Sans SC, sans-serif">
<rect x="10" y="10" width="575" height="822" fill="#fff" stroke="#b71c1c" stroke-width="4"/>
<rect x="10" y="10" width="575" height="56" fill="#b71c1c"/>
<text x="297.5" y="46" font-size="22" fill="#fff" text-anchor="middle">{} · 街长公示栏</text>
<text x="24" y="92" font-size="16" fill="#111">{}</text>
<text x="24" y="114" font-size="11" fill="#333">巡查范围：{}，全长约 {} 米</text>
"##,
            escape(&self.street),
            escape(&s.name),
            escape(&s.name),
            s.length_m
        );
        let mut y = 144;
        for e in &s.people {
            if y > 820 {
                break;
            }
            let _ = writeln!(
                out,
                r##"<text x="24" y="{y}" font-size="11" fill="#111">{}：{}  {}</text>
<text x="40" y="{}" font-size="9" fill="#555">{}</text>"##,
                escape(&e.role),
                escape(&e.name),
                escape(&e.phone),
                y + 14,
                escape(&e.duty)
            );
            y += 34;
        }
        out.push_str("</svg>\n");
        Some(out)
    }
}

/// Escapes text for HTML and SVG content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}
