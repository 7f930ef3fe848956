//! The case list's query string and rendering, without a browser: refusals name the field,
//! links keep the filters, hostile text is escaped.

use super::*;
use crate::desk::session::DeskUser;
use std::sync::Arc;
use xiangying_model::case::Claim;
use xiangying_model::ids::PersonId;
use xiangying_model::org::{Role, Scope, sample};

fn user() -> DeskUser {
    DeskUser {
        person: PersonId::from("center".to_string()),
        name: "中心".into(),
        claim: Claim {
            person: "center".into(),
            role: Role::StreetCenter,
            scope: Scope::Street,
        },
        csrf: "token".into(),
        roster: Arc::new(sample::roster().unwrap()),
    }
}

fn pairs(s: &[(&str, &str)]) -> Vec<(String, String)> {
    s.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn case(id: &str, summary: &str, overdue: bool) -> DeskCase {
    DeskCase {
        case_id: id.into(),
        number: Some("YL-20260105-0001".into()),
        status: "in_progress".into(),
        status_label: "处置中",
        level: "grid".into(),
        level_label: "网格",
        category: sample::MANHOLE.into(),
        category_label: "井盖".into(),
        grid: "g1".into(),
        community: "c1".into(),
        reporter: "psc1".into(),
        assignee_label: "<b>某人</b>".into(),
        departments: vec![],
        deadline: Some(1_767_200_000_000),
        overdue,
        created_at: 1_767_196_800_000,
        updated_at: 1_767_196_800_000,
        closed_at: None,
        lat: None,
        lon: None,
        summary: summary.into(),
    }
}

#[test]
fn the_query_string_reads_every_filter_and_round_trips() {
    let q = parse_query(&pairs(&[
        ("status", "overdue"),
        ("category", "010101"),
        ("grid", "g1"),
        ("community", "c1"),
        ("department", "police"),
        ("from", "2026-01-01"),
        ("to", "2026-01-31"),
        ("q", "井盖 缺失"),
        ("sort", "deadline"),
        ("dir", "asc"),
        ("page", "3"),
        ("per_page", "50"),
        ("unknown", "x"),
    ]))
    .unwrap();
    assert_eq!(q.status, Some(StatusFilter::Overdue));
    assert_eq!(q.text.as_deref(), Some("井盖 缺失"));
    assert_eq!(q.number, None);
    assert_eq!(
        q.created_from,
        Some(crate::reports::day_start_ms("2026-01-01").unwrap())
    );
    assert_eq!(
        q.created_to,
        Some(crate::reports::day_start_ms("2026-02-01").unwrap())
    );
    assert_eq!(
        (q.sort, q.desc, q.page, q.per_page),
        (SortKey::Deadline, false, 3, 50)
    );
    // The link of a query reads back as the same query.
    let qs = query_string(&q);
    let back: Vec<(String, String)> = qs
        .split('&')
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            let v = v.replace('+', " ");
            let bytes: Vec<u8> = {
                let b = v.as_bytes();
                let mut out = Vec::new();
                let mut i = 0;
                while i < b.len() {
                    if b[i] == b'%' {
                        out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                        i += 3;
                    } else {
                        out.push(b[i]);
                        i += 1;
                    }
                }
                out
            };
            (k.to_string(), String::from_utf8(bytes).unwrap())
        })
        .collect();
    assert_eq!(parse_query(&back).unwrap(), q);
    // A number-like search is a number prefix.
    let n = parse_query(&pairs(&[("q", "YL-2026")])).unwrap();
    assert_eq!((n.number.as_deref(), n.text), (Some("YL-2026"), None));
}

#[test]
fn hostile_query_strings_are_refused_naming_the_field() {
    let refused = |p: &[(&str, &str)]| match parse_query(&pairs(p)) {
        Err(DeskError::BadRequest(m)) => m,
        other => panic!("{other:?}"),
    };
    assert!(refused(&[("sort", "case_id; DROP TABLE cases")]).contains("排序"));
    assert!(refused(&[("dir", "up")]).contains("排序方向"));
    assert!(refused(&[("status", "nope")]).contains("状态"));
    assert!(refused(&[("page", "-1")]).contains("页码"));
    assert!(refused(&[("page", "1001")]).contains("页码"));
    assert!(refused(&[("per_page", "101")]).contains("每页条数"));
    assert!(refused(&[("from", "2026-13-01")]).contains("上报日期（起）"));
    assert!(refused(&[("to", "yesterday")]).contains("上报日期（止）"));
    assert!(refused(&[("from", "2026-02-01"), ("to", "2026-01-01")]).contains("上报时间"));
    let long = "井".repeat(index::MAX_TEXT + 1);
    assert!(refused(&[("q", &long)]).contains("搜索"));
    let huge = "x".repeat(MAX_QUERY);
    assert!(refused(&[("grid", &huge)]).contains("查询条件过长"));
    assert!(refused(&[("grid", &"g".repeat(index::MAX_ID + 1))]).contains("网格"));
}

#[test]
fn the_list_escapes_hostile_text_links_rows_and_marks_overdue() {
    let page = CasesPage {
        list: CaseList {
            rows: vec![
                case("c-1", "<script>alert(1)</script>\"'&", true),
                case("c-2", "正常", false),
            ],
            total: 45,
        },
        catalogue: Some(sample::catalogue()),
    };
    let q = CaseQuery {
        text: Some("\"><img src=x onerror=alert(1)>".into()),
        page: 2,
        ..CaseQuery::default()
    };
    let html = render(&user(), &q, &page, 1_767_300_000_000).into_string();
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;'&amp;"),
        "{html}"
    );
    assert!(!html.contains("<img src=x"), "{html}");
    assert!(!html.contains("<b>某人</b>"));
    assert!(html.contains("href=\"/desk/cases/c-1\""));
    assert!(html.contains("href=\"/desk/cases/c-2\""));
    assert_eq!(html.matches("<tr class=\"overdue\"").count(), 1, "{html}");
    assert!(html.contains("共 <strong>45</strong> 件"), "{html}");
    assert!(html.contains("第 2 / 3 页"));
    assert!(html.contains("rel=\"prev\"") && html.contains("rel=\"next\""));
    // Pager and sort links keep the search.
    assert!(
        html.contains("q=%22%3E%3Cimg+src%3Dx+onerror%3Dalert%281%29%3E&amp;page=3"),
        "{html}"
    );
    // Filters come from the roster and the catalogue, each with a label.
    assert!(html.contains("一社区") && html.contains("第g1网格") && html.contains("派出所"));
    assert!(html.contains("aria-sort=\"descending\""));
    for name in [
        "q",
        "status",
        "category",
        "community",
        "grid",
        "department",
        "from",
        "to",
        "overdue",
    ] {
        assert!(html.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(html.len() < 500_000);
}

#[test]
fn an_empty_list_says_so() {
    let page = CasesPage {
        list: CaseList {
            rows: vec![],
            total: 0,
        },
        catalogue: None,
    };
    let html = render(&user(), &CaseQuery::default(), &page, 0).into_string();
    assert!(html.contains("没有符合条件的案件"));
    assert!(!html.contains("rel=\"next\""));
}

#[test]
fn china_days_start_at_midnight_utc_plus_eight() {
    let t = crate::reports::day_start_ms("2026-01-05").unwrap();
    assert_eq!(china_day_start(t), t);
    assert_eq!(china_day_start(t + 86_399_999), t);
    assert_eq!(china_day_start(t - 1), t - 86_400_000);
    assert_eq!(china_time(t, "%Y-%m-%d %H:%M"), "2026-01-05 00:00");
}
