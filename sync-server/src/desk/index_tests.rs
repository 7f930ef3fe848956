//! The desk index through real pushes: a real server on loopback, real devices (the
//! `xiangying-core` device store) and a real store, SQLite and (with `XY_PG_URL`)
//! PostgreSQL: the index follows reports, actions, dispatches and server voids, skips
//! patrols, answers every filter within the reader's scope, refuses bounds, and a store
//! written before the index is indexed when it is opened.

use super::*;
use crate::blobs::BlobStore;
use crate::state::{AppState, Limits};
use crate::storage::postgres::{PgOptions, PostgresStorage};
use crate::storage::sqlite::SqliteStorage;
use std::collections::BTreeMap;
use std::sync::Arc;
use xiangying_core::{Device, NewReport};
use xiangying_model::org::{Scope, sample};
use xiangying_model::patrol::PatrolPlace;

const PEOPLE: [&str; 9] = [
    "center", "cc1", "cc2", "gw1", "gw3", "psc1", "police1", "enf1", "res1",
];

/// A server on loopback over `storage` with the sample street, and devices for [`PEOPLE`].
pub(crate) struct Street {
    dir: tempfile::TempDir,
    server: crate::Running,
    devices: BTreeMap<&'static str, Device>,
}

impl Street {
    pub(crate) fn new(storage: Arc<dyn Storage>, dir: tempfile::TempDir) -> Street {
        let limits = Limits::default();
        let state = AppState::new(
            storage,
            BlobStore::new(dir.path().join("photos"), limits.max_photo),
            limits,
        );
        crate::admin::publish(
            state.storage.as_ref(),
            &sample::roster_json().unwrap(),
            &sample::catalogue_json().unwrap(),
        )
        .unwrap();
        let server = crate::spawn(Arc::new(state), "127.0.0.1:0".parse().unwrap()).unwrap();
        let mut devices = BTreeMap::new();
        for p in PEOPLE {
            let code = crate::admin::issue_code(server.state.storage.as_ref(), p).unwrap();
            let d = Device::open(&dir.path().join(p)).unwrap();
            d.enrol(&server.url(), &code, "phone").unwrap();
            devices.insert(p, d);
        }
        Street {
            dir,
            server,
            devices,
        }
    }

    fn dev(&self, p: &str) -> &Device {
        &self.devices[p]
    }

    fn sync(&self, p: &str) {
        self.dev(p).sync_now(&|_| {}).unwrap();
    }

    fn settle(&self) {
        for _ in 0..2 {
            for p in PEOPLE {
                self.sync(p);
            }
        }
    }

    pub(crate) fn storage(&self) -> &dyn Storage {
        self.server.state.storage.as_ref()
    }

    /// The list `person` reads for `q`.
    fn list(&self, person: &str, q: &CaseQuery) -> CaseList {
        let roster = crate::reports::roster(self.storage()).unwrap();
        let scope = xiangying_model::sync::scope::read_scope(
            &xiangying_model::sync::kind::claim_of(&roster, person).unwrap(),
        );
        with_tx(self.storage(), |tx| list(tx, &scope, q, NOW)).unwrap()
    }

    /// The ids `person` reads for `q`, sorted.
    fn ids(&self, person: &str, q: &CaseQuery) -> Vec<String> {
        let mut ids: Vec<String> = self
            .list(person, q)
            .rows
            .into_iter()
            .map(|c| c.case_id)
            .collect();
        ids.sort();
        ids
    }

    pub(crate) fn row(&self, id: &str) -> DeskCase {
        self.list("center", &CaseQuery::default())
            .rows
            .into_iter()
            .find(|c| c.case_id == id)
            .unwrap()
    }
}

/// Well after the sample cases are raised (so their deadlines have passed).
const NOW: i64 = 4_000_000_000_000;

fn report(category: &str, at: xiangying_model::org::Point, text: &str) -> NewReport {
    NewReport {
        category: category.into(),
        location: at,
        grid: None,
        segment: None,
        description: text.into(),
    }
}

fn q() -> CaseQuery {
    CaseQuery::default()
}

/// A: psc1's report in g1, forwarded to gw1. B: gw3's report in g3, escalated to cc2, then to
/// the centre, dispatched to the police.
pub(crate) fn raise(s: &Street) -> (String, String) {
    let a = s
        .dev("psc1")
        .report(&report(
            sample::MANHOLE,
            sample::IN_G1,
            "井盖缺失，行人易摔 100%",
        ))
        .unwrap();
    s.dev("psc1").forward(&a, "").unwrap();
    let b = s
        .dev("gw3")
        .report(&report(sample::LITTER, sample::IN_G3, "垃圾堆放_影响通行"))
        .unwrap();
    s.dev("gw3").escalate(&b, "需社区").unwrap();
    s.settle();
    s.dev("cc2").accept(&b).unwrap();
    s.dev("cc2").escalate(&b, "需执法").unwrap();
    s.settle();
    s.dev("center")
        .dispatch(&b, &["police".into()], "")
        .unwrap();
    s.settle();
    (a, b)
}

/// Everything the index answers, on one store.
fn index_follows_pushes_and_answers_filters(storage: Arc<dyn Storage>, dir: tempfile::TempDir) {
    let s = Street::new(storage, dir);
    assert_eq!(s.list("center", &q()).total, 0);
    let (a, b) = raise(&s);

    // The rows follow the pushes.
    let ra = s.row(&a);
    assert_eq!(ra.status, "forwarded");
    assert_eq!(ra.status_label, Status::Forwarded.label_zh());
    assert_eq!((ra.grid.as_str(), ra.community.as_str()), ("g1", "c1"));
    assert_eq!(ra.reporter, "psc1");
    assert_eq!(ra.category, sample::MANHOLE);
    assert!(!ra.category_label.is_empty());
    let gw1 = sample::roster()
        .unwrap()
        .person("gw1")
        .unwrap()
        .name
        .clone();
    assert_eq!(ra.assignee_label, gw1);
    assert!(ra.number.as_deref().unwrap().starts_with("YL-"), "{ra:?}");
    assert!(ra.lat.is_some() && ra.lon.is_some());
    assert!(ra.overdue, "deadline passed at NOW: {ra:?}");
    assert_eq!(ra.summary, "井盖缺失，行人易摔 100%");
    let rb = s.row(&b);
    assert_eq!(rb.status, "dispatched");
    assert_eq!(rb.departments, vec!["police".to_string()]);
    assert_eq!(rb.assignee_label, "派出所");
    assert_eq!(
        (rb.level.as_str(), rb.level_label),
        ("street", "街道"),
        "{rb:?}"
    );

    // An action changes the row.
    s.sync("gw1");
    s.dev("gw1").accept(&a).unwrap();
    s.sync("gw1");
    assert_eq!(s.row(&a).status, "in_progress");

    // Each filter.
    let one = |f: CaseQuery| s.ids("center", &f);
    assert_eq!(one(q()), {
        let mut v = vec![a.clone(), b.clone()];
        v.sort();
        v
    });
    let text = |t: &str| CaseQuery {
        text: Some(t.into()),
        ..q()
    };
    assert_eq!(one(text("井盖")), vec![a.clone()]);
    assert_eq!(one(text("影响通行")), vec![b.clone()]);
    assert_eq!(one(text("100%")), vec![a.clone()]);
    assert_eq!(
        one(text("%")),
        vec![a.clone()],
        "% is a character, not a wildcard"
    );
    assert_eq!(
        one(text("_")),
        vec![b.clone()],
        "_ is a character, not a wildcard"
    );
    assert_eq!(
        one(text("大街一段")),
        vec![a.clone()],
        "the segment's name is searched"
    );
    assert_eq!(one(text("无此文字")), Vec::<String>::new());
    let number = ra.number.clone().unwrap();
    let num = |n: &str| CaseQuery {
        number: Some(n.into()),
        ..q()
    };
    assert_eq!(one(num(&number)), vec![a.clone()]);
    assert_eq!(one(num("YL-")).len(), 2);
    assert_eq!(one(num("ZZ")), Vec::<String>::new());
    assert_eq!(
        one(CaseQuery {
            grid: Some("g1".into()),
            ..q()
        }),
        vec![a.clone()]
    );
    assert_eq!(
        one(CaseQuery {
            community: Some("c2".into()),
            ..q()
        }),
        vec![b.clone()]
    );
    assert_eq!(
        one(CaseQuery {
            category: Some(sample::LITTER.into()),
            ..q()
        }),
        vec![b.clone()]
    );
    assert_eq!(
        one(CaseQuery {
            reporter: Some("gw3".into()),
            ..q()
        }),
        vec![b.clone()]
    );
    assert_eq!(
        one(CaseQuery {
            department: Some("police".into()),
            ..q()
        }),
        vec![b.clone()]
    );
    assert_eq!(
        one(CaseQuery {
            department: Some("enforcement".into()),
            ..q()
        }),
        Vec::<String>::new()
    );
    let status = |f: StatusFilter| CaseQuery {
        status: Some(f),
        ..q()
    };
    assert_eq!(one(status(StatusFilter::Unfinished)).len(), 2);
    assert_eq!(one(status(StatusFilter::Finished)).len(), 0);
    assert_eq!(
        one(status(StatusFilter::One(Status::Dispatched))),
        vec![b.clone()]
    );
    assert_eq!(one(status(StatusFilter::Overdue)).len(), 2);
    let early = CaseQuery {
        overdue: true,
        ..q()
    };
    assert_eq!(
        with_tx(s.storage(), |tx| list(
            tx,
            &ReadScope {
                all: true,
                keys: vec![]
            },
            &early,
            0
        ))
        .unwrap()
        .total,
        0,
        "nothing is overdue before its deadline"
    );
    let created = s.row(&a).created_at;
    let period = |from: i64, to: i64| CaseQuery {
        created_from: Some(from),
        created_to: Some(to),
        ..q()
    };
    assert_eq!(one(period(created, created + 1)), vec![a.clone()]);
    assert_eq!(one(period(0, 1)), Vec::<String>::new());

    // Sorts and pages.
    let page = |sort: SortKey, desc: bool, page: u32| {
        s.list(
            "center",
            &CaseQuery {
                sort,
                desc,
                page,
                per_page: 1,
                ..q()
            },
        )
    };
    for key in SortKey::ALL {
        let p1 = page(key, true, 1);
        let p2 = page(key, true, 2);
        assert_eq!((p1.total, p1.rows.len(), p2.rows.len()), (2, 1, 1));
        assert_ne!(p1.rows[0].case_id, p2.rows[0].case_id, "{key:?}");
        let asc = page(key, false, 1);
        assert_eq!(asc.rows[0].case_id, p2.rows[0].case_id, "{key:?}");
    }
    assert!(page(SortKey::Created, true, 3).rows.is_empty());

    // Scope: a community chief, a department, a grid worker of another grid.
    assert_eq!(s.ids("cc1", &q()), vec![a.clone()]);
    assert_eq!(s.ids("cc2", &q()), vec![b.clone()]);
    assert_eq!(s.ids("police1", &q()), vec![b.clone()]);
    assert_eq!(s.ids("enf1", &q()), Vec::<String>::new());
    assert_eq!(
        s.ids(
            "cc1",
            &CaseQuery {
                community: Some("c2".into()),
                ..q()
            }
        ),
        Vec::<String>::new(),
        "a filter never widens the scope"
    );
    let pins_of = |p: &str| {
        let roster = crate::reports::roster(s.storage()).unwrap();
        let scope = xiangying_model::sync::scope::read_scope(
            &xiangying_model::sync::kind::claim_of(&roster, p).unwrap(),
        );
        with_tx(s.storage(), |tx| pins(tx, &scope, &q(), NOW, 10)).unwrap()
    };
    assert_eq!(pins_of("center").len(), 2);
    assert_eq!(pins_of("police1").len(), 1);

    // A patrol is not indexed.
    s.dev("gw1")
        .start_patrol(PatrolPlace::Grid("g1".into()))
        .unwrap();
    s.sync("gw1");
    let (docs, _, _) = with_tx(s.storage(), |tx| tx.counts()).unwrap();
    assert_eq!(docs, 3, "the patrol reached the server");
    assert_eq!(s.list("center", &q()).total, 2);

    // A server void: gw1 resolves offline while moved to g3; the server voids it and the
    // index shows what the fold makes of it.
    s.dev("gw1").resolve(&a, "修好", &[]).unwrap();
    let mut roster = sample::roster().unwrap();
    for p in roster.people.iter_mut() {
        match p.id.as_str() {
            "gw1" => p.scope = Scope::Grid("g3".into()),
            "gw3" => p.scope = Scope::Grid("g1".into()),
            _ => {}
        }
    }
    crate::admin::publish(
        s.storage(),
        &serde_json::to_string(&roster).unwrap(),
        &sample::catalogue_json().unwrap(),
    )
    .unwrap();
    s.sync("gw1");
    assert_eq!(s.row(&a).status, "in_progress", "the resolve was voided");
    drop(s.dir);
}

#[test]
fn the_index_follows_real_pushes_and_answers_every_filter_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let storage = Arc::new(SqliteStorage::open(&dir.path().join("server")).unwrap());
    index_follows_pushes_and_answers_filters(storage, dir);
}

/// The PostgreSQL URL, or `None` when the PostgreSQL tests are explicitly skipped.
fn pg_url() -> Option<String> {
    match std::env::var("XY_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("XY_SKIP_PG").as_deref() == Ok("1") => None,
        _ => panic!("XY_PG_URL is not set (or set XY_SKIP_PG=1 to skip PostgreSQL knowingly)"),
    }
}

#[test]
fn the_index_follows_real_pushes_and_answers_every_filter_on_postgres() {
    let Some(url) = pg_url() else { return };
    let schema = format!("xyu_desk_index_{}", std::process::id());
    let storage = Arc::new(
        PostgresStorage::connect_with(
            &url,
            &PgOptions {
                schema: Some(schema.clone()),
                ..PgOptions::default()
            },
        )
        .unwrap(),
    );
    let dir = tempfile::tempdir().unwrap();
    index_follows_pushes_and_answers_filters(storage, dir);
    let mut c = ::postgres::Client::connect(&url, ::postgres::NoTls).unwrap();
    c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .unwrap();
}

#[test]
fn a_store_written_before_the_index_is_indexed_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("server");
    let storage = Arc::new(SqliteStorage::open(&data).unwrap());
    let s = Street::new(storage, tempfile::tempdir().unwrap());
    let (a, b) = raise(&s);
    let before = s.list("center", &q());
    assert_eq!(before.total, 2);
    // What a store written before migration 6 (the desk index) holds: no index rows and
    // no recorded index version.
    let db = rusqlite::Connection::open(data.join(crate::storage::sqlite::DB_FILE)).unwrap();
    db.execute_batch(
        "DELETE FROM desk_cases; DELETE FROM desk_case_departments;
         DELETE FROM server_meta WHERE key = 'desk_index_version';",
    )
    .unwrap();
    assert_eq!(s.list("center", &q()).total, 0);
    assert_eq!(catch_up(s.storage()).unwrap(), 2);
    assert_eq!(s.list("center", &q()), before);
    assert_eq!(s.ids("police1", &q()), vec![b]);
    assert_eq!(s.row(&a).status, "forwarded");
    // The version is recorded: opening again does nothing.
    assert_eq!(catch_up(s.storage()).unwrap(), 0);
}

#[test]
fn bounds_are_refused_naming_the_field() {
    let refused = |q: CaseQuery| q.check().unwrap_err();
    assert!(
        refused(CaseQuery {
            text: Some("字".repeat(MAX_TEXT + 1)),
            ..q()
        })
        .contains("搜索")
    );
    assert!(
        refused(CaseQuery {
            grid: Some("g".repeat(MAX_ID + 1)),
            ..q()
        })
        .contains("网格")
    );
    assert!(
        refused(CaseQuery {
            per_page: MAX_PER_PAGE + 1,
            ..q()
        })
        .contains("每页条数")
    );
    assert!(
        refused(CaseQuery {
            page: MAX_PAGE + 1,
            ..q()
        })
        .contains("页码")
    );
    assert!(refused(CaseQuery { page: 0, ..q() }).contains("页码"));
    assert!(
        refused(CaseQuery {
            created_from: Some(10),
            created_to: Some(5),
            ..q()
        })
        .contains("上报时间")
    );
    assert!(
        refused(CaseQuery {
            text: Some("a\u{0}b".into()),
            ..q()
        })
        .contains("搜索")
    );
    assert!(q().check().is_ok());
    // A refused list reads nothing.
    let dir = tempfile::tempdir().unwrap();
    let storage = SqliteStorage::open(dir.path()).unwrap();
    let e = with_tx(&storage, |tx| {
        list(
            tx,
            &ReadScope {
                all: true,
                keys: vec![],
            },
            &CaseQuery { per_page: 0, ..q() },
            0,
        )
    })
    .unwrap_err();
    assert!(
        matches!(e, ServerError::BadRequest(ref m) if m.contains("每页条数")),
        "{e:?}"
    );
}

#[test]
fn every_status_and_level_has_a_distinct_chinese_label() {
    let mut s: Vec<_> = Status::ALL.iter().map(|s| s.label_zh()).collect();
    s.sort();
    s.dedup();
    assert_eq!(s.len(), Status::ALL.len());
    let mut l: Vec<_> = [
        Level::Grid,
        Level::Community,
        Level::Street,
        Level::JointEnforcement,
    ]
    .iter()
    .map(|l| l.label_zh())
    .collect();
    l.sort();
    l.dedup();
    assert_eq!(l.len(), 4);
}
