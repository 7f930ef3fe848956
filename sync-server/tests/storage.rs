//! Conformance suite for the storage backends: every test runs against SQLite (in a temporary
//! folder) and against PostgreSQL (a fresh schema per test in the database at `XY_PG_URL`).
//!
//! Without `XY_PG_URL` the PostgreSQL half fails, unless `XY_SKIP_PG=1`: skipping silently
//! would hide breakage. Get a local server with
//! `export XY_PG_URL="$(bash scripts/postgres | tail -n 1)"`.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;
use xiangying_model::ids::{DeviceId, DocId, PersonId};
use xiangying_model::sync::keys::AccessKey;
use xiangying_server::error::ServerError;
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::storage::{
    CaseMeta, DeskLockout, DeskSessionRow, DeviceRow, FeedScope, NewChange, RankingEntry, Storage,
    Tx, with_tx,
};

type R<T> = Result<T, ServerError>;

// ---------------------------------------------------------------- backends

/// A backend under test and what to clean up after it.
struct Backend {
    storage: Arc<dyn Storage>,
    /// A second instance over the same data (PostgreSQL: a second pool, like a second server
    /// process; SQLite: the same instance).
    second: Arc<dyn Storage>,
    _cleanup: Cleanup,
}

enum Cleanup {
    Dir(#[allow(dead_code)] tempfile::TempDir),
    Schema { url: String, schema: String },
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if let Cleanup::Schema { url, schema } = self
            && let Ok(mut c) = postgres::Client::connect(url, postgres::NoTls)
        {
            let _ = c.batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"));
        }
    }
}

fn sqlite() -> Backend {
    let dir = tempfile::tempdir().unwrap();
    let s: Arc<dyn Storage> = Arc::new(SqliteStorage::open(dir.path()).unwrap());
    Backend {
        storage: s.clone(),
        second: s,
        _cleanup: Cleanup::Dir(dir),
    }
}

/// The PostgreSQL URL, or `None` when the PostgreSQL half is explicitly skipped.
fn pg_url() -> Option<String> {
    match std::env::var("XY_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("XY_SKIP_PG").as_deref() == Ok("1") => None,
        _ => panic!(
            "XY_PG_URL is not set: the PostgreSQL storage tests need a server. Run \
             `export XY_PG_URL=\"$(bash scripts/postgres | tail -n 1)\"` first, or set \
             XY_SKIP_PG=1 to skip them knowingly."
        ),
    }
}

fn unique_schema(test: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "xyt_{test}_{}_{nanos}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
    .chars()
    .take(63)
    .collect()
}

fn postgres(test: &str) -> Option<Backend> {
    let url = pg_url()?;
    let schema = unique_schema(test);
    let cleanup = Cleanup::Schema {
        url: url.clone(),
        schema: schema.clone(),
    };
    let a = PostgresStorage::connect_with_schema(&url, &schema)
        .unwrap_or_else(|e| panic!("connecting to XY_PG_URL={url}: {e}"));
    let b = PostgresStorage::connect_with_schema(&url, &schema).unwrap();
    Some(Backend {
        storage: Arc::new(a),
        second: Arc::new(b),
        _cleanup: cleanup,
    })
}

/// Runs each named conformance test against both backends.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod on_sqlite {
            $(#[test] fn $name() { super::$name(&super::sqlite()); })*
        }
        mod on_postgres {
            $(#[test] fn $name() {
                if let Some(b) = super::postgres(stringify!($name)) { super::$name(&b); }
            })*
        }
    };
}

conformance!(
    org_publish_and_version,
    codes_are_single_use,
    devices_tokens_revoke_quarantine,
    actor_owner_is_first_writer,
    save_lock_and_read_cases,
    positions_are_contiguous_and_roll_back,
    feed_filters_by_keys_range_and_order,
    changes_between_excludes_device_and_respects_range,
    device_case_keeps_minimum,
    next_number_counts_per_key,
    counts_cases_changes_devices,
    ranking_rows_follow_the_last_save,
    reader_never_skips_a_late_commit,
    cases_after_pages_in_id_order,
    desk_passwords_sessions_lockouts_and_links,
);

// ---------------------------------------------------------------- helpers

fn tx<T>(s: &dyn Storage, f: impl FnMut(&mut dyn Tx) -> R<T>) -> T {
    with_tx(s, f).unwrap()
}

fn meta(case_id: &str) -> CaseMeta {
    CaseMeta {
        case_id: case_id.into(),
        number: None,
        status: "open".into(),
        level: "grid".into(),
        grid: "g1".into(),
        community: "c1".into(),
        reporter: "p1".into(),
        category: "cat".into(),
        created_at: 1,
        received_at: 2,
        ranking: (case_id != "c2").then(|| format!("row of {case_id}").into_bytes()),
    }
}

fn change(bytes: &str, device: Option<&str>) -> NewChange {
    NewChange {
        bytes: bytes.as_bytes().to_vec(),
        device: device.map(DeviceId::from),
    }
}

fn keys<T: for<'a> From<&'a str>>(k: &[&str]) -> Vec<T> {
    k.iter().map(|s| T::from(s)).collect()
}

fn access_keys(k: &[&str]) -> Vec<AccessKey> {
    k.iter().map(|s| s.parse().unwrap()).collect()
}

/// Saves `changes` to a case at freshly allocated positions; returns the first.
fn save(
    s: &dyn Storage,
    case_id: &str,
    changes: &[NewChange],
    access: &[&str],
    photos: &[&str],
) -> u64 {
    tx(s, |t| {
        let first = t.allocate_positions(changes.len() as u64)?;
        t.save_case(
            &meta(case_id),
            format!("snapshot of {case_id} at {first}").as_bytes(),
            changes,
            first,
            &access_keys(access),
            &keys(photos),
        )?;
        Ok(first)
    })
}

fn device(id: &str, token: &str, created_at: i64) -> DeviceRow {
    DeviceRow {
        id: id.into(),
        person: format!("person-{id}").into(),
        name: format!("phone {id}"),
        token_hash: token.into(),
        created_at,
        revoked: false,
        quarantined: None,
    }
}

fn strings(v: Vec<Vec<u8>>) -> Vec<String> {
    v.into_iter()
        .map(|b| String::from_utf8(b).unwrap())
        .collect()
}

// ---------------------------------------------------------------- conformance tests

fn org_publish_and_version(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.org_version()), 0);
    assert_eq!(tx(s, |t| t.org()), None);
    assert_eq!(tx(s, |t| t.set_org("r1", "c1")), 1);
    assert_eq!(tx(s, |t| t.set_org("r2", "c2")), 2);
    let org = tx(&*b.second, |t| t.org()).unwrap();
    assert_eq!(
        (org.version, org.roster.as_str(), org.catalogue.as_str()),
        (2, "r2", "c2")
    );
    assert_eq!(tx(s, |t| t.org_version()), 2);
}

fn codes_are_single_use(b: &Backend) {
    let s = &*b.storage;
    tx(s, |t| {
        t.insert_code("h1", &"alice".into(), 10)?;
        t.insert_code("h2", &"bob".into(), 10)
    });
    assert_eq!(tx(s, |t| t.take_code("h1", 20)), Some("alice".into()));
    assert_eq!(tx(s, |t| t.take_code("h1", 30)), None);
    assert_eq!(tx(s, |t| t.take_code("nope", 30)), None);
    assert!(
        !tx(s, |t| t.revoke_code("h1")),
        "a used code is not revoked"
    );
    assert!(tx(s, |t| t.revoke_code("h2")));
    assert!(!tx(s, |t| t.revoke_code("h2")));
    assert_eq!(tx(s, |t| t.take_code("h2", 40)), None);
    // A duplicate code is an error.
    assert!(with_tx(s, |t| t.insert_code("h1", &"carol".into(), 50)).is_err());
}

fn desk_passwords_sessions_lockouts_and_links(b: &Backend) {
    let s = &*b.storage;
    let alice = PersonId::from("alice");
    let bob = PersonId::from("bob");
    // Passwords: set, replaced, per person.
    assert_eq!(tx(s, |t| t.desk_password(&alice)), None);
    tx(s, |t| t.set_desk_password(&alice, "$argon2id$one", 1));
    tx(s, |t| t.set_desk_password(&alice, "$argon2id$two", 2));
    assert_eq!(
        tx(s, |t| t.desk_password(&alice)).as_deref(),
        Some("$argon2id$two")
    );
    assert_eq!(tx(s, |t| t.desk_password(&bob)), None);
    // Sessions: stored by hash, touched, ended one, all of a person, or stale.
    let row = |person: &PersonId, at: i64| DeskSessionRow {
        person: person.clone(),
        created_at: at,
        last_seen: at,
        user_agent: Some("浏览器".into()),
    };
    tx(s, |t| {
        t.insert_desk_session("s1", &row(&alice, 10))?;
        t.insert_desk_session("s2", &row(&alice, 20))?;
        t.insert_desk_session("s3", &row(&bob, 30))?;
        t.insert_desk_session("s4", &row(&bob, 5))
    });
    assert!(with_tx(s, |t| t.insert_desk_session("s1", &row(&bob, 1))).is_err());
    tx(s, |t| t.touch_desk_session("s1", 99));
    let s1 = tx(s, |t| t.desk_session("s1")).unwrap();
    assert_eq!(
        (s1.person.as_str(), s1.created_at, s1.last_seen),
        ("alice", 10, 99)
    );
    assert_eq!(s1.user_agent.as_deref(), Some("浏览器"));
    assert!(tx(s, |t| t.delete_desk_session("s2")));
    assert!(!tx(s, |t| t.delete_desk_session("s2")));
    // Stale: s4 opened before 6; s3 last used before 31 (s1 was touched at 99).
    assert_eq!(tx(s, |t| t.delete_stale_desk_sessions(31, 6)), 2);
    assert!(tx(s, |t| t.desk_session("s3")).is_none());
    assert!(tx(s, |t| t.desk_session("s1")).is_some());
    tx(s, |t| t.insert_desk_session("s5", &row(&alice, 100)));
    assert_eq!(tx(s, |t| t.delete_desk_sessions_of(&alice)), 2);
    assert!(tx(s, |t| t.desk_session("s5")).is_none());
    // Lockouts: counted atomically, locked, cleared.
    assert_eq!(tx(s, |t| t.desk_lockout("alice")), DeskLockout::default());
    assert_eq!(tx(s, |t| t.add_desk_failure("alice")), 1);
    assert_eq!(tx(s, |t| t.add_desk_failure("alice")), 2);
    tx(s, |t| t.lock_desk_subject("alice", 500));
    assert_eq!(
        tx(s, |t| t.desk_lockout("alice")),
        DeskLockout {
            failures: 2,
            locked_until: 500
        }
    );
    assert_eq!(tx(s, |t| t.add_desk_failure("?nobody")), 1);
    tx(s, |t| t.clear_desk_lockout("alice"));
    assert_eq!(tx(s, |t| t.desk_lockout("alice")), DeskLockout::default());
    assert_eq!(tx(s, |t| t.desk_lockout("?nobody")).failures, 1);
    // Concurrent failures on both instances are all counted.
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let st = if i % 2 == 0 {
                b.storage.clone()
            } else {
                b.second.clone()
            };
            std::thread::spawn(move || {
                for _ in 0..5 {
                    with_tx(st.as_ref(), |t| t.add_desk_failure("busy")).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(tx(s, |t| t.desk_lockout("busy")).failures, 20);
    // Links: spent once, only while fresh; a rolled-back spend leaves the link unspent.
    tx(s, |t| {
        t.insert_desk_link("l1", &alice, 1_000)?;
        t.insert_desk_link("l2", &bob, 1_000)
    });
    assert!(
        with_tx(s, |t| {
            t.take_desk_link("l1", 2_000, 0)?;
            Err::<(), _>(ServerError::Internal("roll back".into()))
        })
        .is_err()
    );
    assert_eq!(
        tx(s, |t| t.take_desk_link("l1", 2_000, 1_000)),
        None,
        "too old"
    );
    assert_eq!(
        tx(s, |t| t.take_desk_link("l1", 2_000, 999)),
        Some(alice.clone())
    );
    assert_eq!(tx(s, |t| t.take_desk_link("l1", 3_000, 0)), None, "spent");
    assert_eq!(tx(s, |t| t.take_desk_link("nope", 3_000, 0)), None);
    assert_eq!(tx(s, |t| t.take_desk_link("l2", 3_000, 0)), Some(bob));
}

fn devices_tokens_revoke_quarantine(b: &Backend) {
    let s = &*b.storage;
    let d1 = device("d1", "t1", 100);
    let d2 = device("d2", "t2", 50);
    tx(s, |t| {
        t.insert_device(&d1)?;
        t.insert_device(&d2)
    });
    assert_eq!(tx(s, |t| t.device_by_token("t1")), Some(d1.clone()));
    assert_eq!(tx(s, |t| t.device_by_token("zz")), None);
    assert_eq!(tx(s, |t| t.devices()), vec![d2.clone(), d1.clone()]);
    assert!(
        with_tx(s, |t| t.insert_device(&device("d3", "t1", 1))).is_err(),
        "tokens are unique"
    );
    assert!(tx(s, |t| t.revoke_device(&"d1".into())));
    assert!(!tx(s, |t| t.revoke_device(&"unknown".into())));
    tx(s, |t| t.quarantine_device(&"d2".into(), "edited an event"));
    let got = tx(&*b.second, |t| t.devices());
    assert!(got[1].revoked && got[1].quarantined.is_none());
    assert!(!got[0].revoked);
    assert_eq!(got[0].quarantined.as_deref(), Some("edited an event"));
    assert_eq!(
        tx(s, |t| t.device_by_token("t1")).map(|d| d.revoked),
        Some(true)
    );
}

fn actor_owner_is_first_writer(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.actor_owner(&"a1".into())), None);
    tx(s, |t| t.set_actor_owner(&"a1".into(), &"d1".into()));
    tx(s, |t| t.set_actor_owner(&"a1".into(), &"d2".into()));
    assert_eq!(tx(s, |t| t.actor_owner(&"a1".into())), Some("d1".into()));
}

fn cases_after_pages_in_id_order(b: &Backend) {
    let s = &*b.storage;
    assert!(tx(s, |t| t.cases_after(&"".into(), 10)).is_empty());
    // Case ids are UUIDv7 strings (lowercase hex and dashes), saved here out of order.
    let mut uuids: Vec<String> = [7, 2, 9, 0, 4, 11, 1]
        .iter()
        .map(|i| {
            format!(
                "01a2491d-e03e-7408-aad6-{:012x}",
                0xbfce_3b6c_9476_u64 + i * 0x1_0000
            )
        })
        .collect();
    for id in &uuids {
        save(s, id, &[change(id, None)], &[], &[]);
    }
    uuids.sort();
    let all = tx(&*b.second, |t| t.cases_after(&"".into(), 100));
    let ids: Vec<&str> = all.iter().map(|c| c.case_id.as_str()).collect();
    assert_eq!(ids, uuids);
    for c in &all {
        assert_eq!(tx(s, |t| t.case(&c.case_id)).as_ref(), Some(&c.row));
    }
    // Pages of any size cover every document once, in the same order.
    for limit in [1, 2, 3, 7] {
        let mut got = Vec::new();
        let mut after = DocId::default();
        loop {
            let page = tx(s, |t| t.cases_after(&after, limit));
            assert!(page.len() <= limit as usize);
            let Some(last) = page.last() else { break };
            after = last.case_id.clone();
            got.extend(page.into_iter().map(|c| c.case_id));
        }
        assert_eq!(got, uuids, "limit {limit}");
    }
    // Ids of other shapes are still listed exactly once.
    for id in ["A", "a", "a-b", "ab", "Z9", "中"] {
        save(s, id, &[change(id, None)], &[], &[]);
    }
    let mut got = Vec::new();
    let mut after = DocId::default();
    loop {
        let page = tx(s, |t| t.cases_after(&after, 2));
        let Some(last) = page.last() else { break };
        after = last.case_id.clone();
        got.extend(page.into_iter().map(|c| c.case_id));
    }
    let unique: HashSet<&DocId> = got.iter().collect();
    assert_eq!((got.len(), unique.len()), (13, 13));
}

fn save_lock_and_read_cases(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.lock_case(&"c1".into())), None);
    assert_eq!(tx(s, |t| t.case(&"c1".into())), None);
    let first = save(
        s,
        "c1",
        &[change("a", Some("d1")), change("b", None)],
        &["grid:g1"],
        &["p1"],
    );
    assert_eq!(first, 1);
    let row = tx(s, |t| t.lock_case(&"c1".into())).unwrap();
    assert_eq!(row.feed_pos, 2);
    assert_eq!(row.snapshot, b"snapshot of c1 at 1");
    assert_eq!(tx(&*b.second, |t| t.case(&"c1".into())), Some(row));
    // An update: new snapshot, index columns, more access keys and photos.
    tx(s, |t| {
        let cur = t.lock_case(&"c1".into())?.unwrap();
        assert_eq!(cur.feed_pos, 2);
        let p = t.allocate_positions(1)?;
        let mut m = meta("c1");
        m.number = Some("N-1".into());
        m.status = "closed".into();
        t.save_case(
            &m,
            b"v2",
            &[change("c", Some("d2"))],
            p,
            &access_keys(&["grid:g1", "person:p9"]),
            &keys(&["p2"]),
        )
    });
    let row = tx(s, |t| t.case(&"c1".into())).unwrap();
    assert_eq!((row.feed_pos, row.snapshot.as_slice()), (3, &b"v2"[..]));
    assert_eq!(
        tx(s, |t| t.access(&"c1".into())),
        access_keys(&["grid:g1", "person:p9"])
    );
    assert_eq!(
        tx(s, |t| t.photo_cases(&"p1".into())),
        keys::<DocId>(&["c1"])
    );
    assert_eq!(
        tx(s, |t| t.photo_cases(&"p2".into())),
        keys::<DocId>(&["c1"])
    );
    assert_eq!(tx(s, |t| t.photo_cases(&"p3".into())), Vec::<String>::new());
    save(s, "c2", &[change("x", None)], &[], &["p1"]);
    let mut both = tx(s, |t| t.photo_cases(&"p1".into()));
    both.sort();
    assert_eq!(both, keys::<DocId>(&["c1", "c2"]));
    assert_eq!(tx(s, |t| t.access(&"c2".into())), Vec::<AccessKey>::new());
}

fn positions_are_contiguous_and_roll_back(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.max_position()), 0);
    assert_eq!(tx(s, |t| t.allocate_positions(3)), 1);
    assert_eq!(tx(&*b.second, |t| t.allocate_positions(2)), 4);
    assert_eq!(tx(s, |t| t.max_position()), 5);
    // A transaction that fails gives its positions back.
    let r = with_tx(s, |t| {
        assert_eq!(t.allocate_positions(4)?, 6);
        Err::<(), _>(ServerError::BadRequest("no".into()))
    });
    assert!(r.is_err());
    assert_eq!(tx(s, |t| t.max_position()), 5);
    assert_eq!(
        tx(s, |t| Ok((
            t.allocate_positions(1)?,
            t.allocate_positions(1)?
        ))),
        (6, 7)
    );
    assert_eq!(tx(&*b.second, |t| t.max_position()), 7);
}

fn feed_filters_by_keys_range_and_order(b: &Backend) {
    let s = &*b.storage;
    save(s, "a", &[change("a1", None)], &["grid:g1"], &[]); // 1
    save(s, "b", &[change("b1", None)], &["grid:g2"], &[]); // 2
    save(
        s,
        "c",
        &[change("c1", None), change("c2", None)],
        &["grid:g1", "person:p"],
        &[],
    ); // 3..4
    save(s, "d", &[change("d1", None)], &["community:c"], &[]); // 5
    save(s, "a", &[change("a2", None)], &["grid:g1"], &[]); // 6: a moves to the end
    let max = tx(s, |t| t.max_position());
    assert_eq!(max, 6);
    let feed = |k: &[&str], all: bool, after: u64, upto: u64, limit: u32| {
        let k = access_keys(k);
        let scope = if all {
            FeedScope::All
        } else {
            FeedScope::Keys(&k)
        };
        tx(&*b.second, |t| t.feed_cases(scope, after, upto, limit))
    };
    let pairs = |v: &[(&str, u64)]| -> Vec<(DocId, u64)> {
        v.iter().map(|(c, p)| (DocId::from(*c), *p)).collect()
    };
    // Each case at its first change in the range, in that order.
    assert_eq!(
        feed(&[], true, 0, max, 100),
        pairs(&[("a", 1), ("b", 2), ("c", 3), ("d", 5)])
    );
    assert_eq!(
        feed(&["grid:g1"], false, 0, max, 100),
        pairs(&[("a", 1), ("c", 3)])
    );
    assert_eq!(
        feed(&["grid:g2", "community:c"], false, 0, max, 100),
        pairs(&[("b", 2), ("d", 5)])
    );
    assert_eq!(
        feed(&["person:p", "grid:g1"], false, 0, max, 100),
        pairs(&[("a", 1), ("c", 3)]),
        "a case visible through two keys is listed once"
    );
    assert_eq!(feed(&["person:nobody"], false, 0, max, 100), vec![]);
    assert_eq!(
        feed(&[], false, 0, max, 100),
        vec![],
        "no keys, not all: nothing"
    );
    // Range: (after, upto].
    assert_eq!(feed(&[], true, 2, 5, 100), pairs(&[("c", 3), ("d", 5)]));
    assert_eq!(feed(&[], true, 3, 4, 100), pairs(&[("c", 4)]));
    assert_eq!(feed(&[], true, 4, 4, 100), vec![]);
    assert_eq!(
        feed(&[], true, 2, max, 100),
        pairs(&[("c", 3), ("d", 5), ("a", 6)])
    );
    assert_eq!(feed(&["grid:g2"], false, 0, 3, 100), pairs(&[("b", 2)]));
    // Limit keeps the first in feed order.
    assert_eq!(feed(&[], true, 0, max, 2), pairs(&[("a", 1), ("b", 2)]));
}

fn changes_between_excludes_device_and_respects_range(b: &Backend) {
    let s = &*b.storage;
    save(
        s,
        "c",
        &[
            change("1", Some("d1")),
            change("2", Some("d2")),
            change("3", None),
        ],
        &[],
        &[],
    ); // 1..3
    save(s, "other", &[change("x", Some("d2"))], &[], &[]); // 4
    save(
        s,
        "c",
        &[change("5", Some("d2")), change("6", Some("d1"))],
        &[],
        &[],
    ); // 5..6
    let between = |after, upto, ex: &str| {
        strings(tx(&*b.second, |t| {
            t.changes_between(&"c".into(), after, upto, &ex.into())
        }))
    };
    assert_eq!(between(0, 6, "nobody"), ["1", "2", "3", "5", "6"]);
    assert_eq!(between(0, 6, "d1"), ["2", "3", "5"]);
    assert_eq!(between(0, 6, "d2"), ["1", "3", "6"]);
    assert_eq!(between(1, 5, "nobody"), ["2", "3", "5"]);
    assert_eq!(between(3, 4, "nobody"), Vec::<String>::new());
    assert_eq!(between(5, 100, "d2"), ["6"]);
    assert!(
        tx(s, |t| t.changes_between(
            &"absent".into(),
            0,
            10,
            &"d1".into()
        ))
        .is_empty()
    );
}

fn device_case_keeps_minimum(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.device_case(&"d1".into(), &"c1".into())), None);
    tx(s, |t| t.set_device_case(&"d1".into(), &"c1".into(), 10));
    assert_eq!(
        tx(s, |t| t.device_case(&"d1".into(), &"c1".into())),
        Some(10)
    );
    tx(s, |t| t.set_device_case(&"d1".into(), &"c1".into(), 20));
    assert_eq!(
        tx(s, |t| t.device_case(&"d1".into(), &"c1".into())),
        Some(10)
    );
    tx(s, |t| t.set_device_case(&"d1".into(), &"c1".into(), 0));
    assert_eq!(
        tx(s, |t| t.device_case(&"d1".into(), &"c1".into())),
        Some(0)
    );
    assert_eq!(tx(s, |t| t.device_case(&"d2".into(), &"c1".into())), None);
    assert_eq!(tx(s, |t| t.device_case(&"d1".into(), &"c2".into())), None);
}

fn next_number_counts_per_key(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.next_number("s1:2024-05-01")), 1);
    assert_eq!(tx(s, |t| t.next_number("s1:2024-05-01")), 2);
    assert_eq!(tx(&*b.second, |t| t.next_number("s1:2024-05-02")), 1);
    assert_eq!(tx(s, |t| t.next_number("s1:2024-05-01")), 3);
    // Case numbers do not touch feed positions.
    assert_eq!(tx(s, |t| t.max_position()), 0);
    assert_eq!(tx(s, |t| t.allocate_positions(1)), 1);
}

fn counts_cases_changes_devices(b: &Backend) {
    let s = &*b.storage;
    assert_eq!(tx(s, |t| t.counts()), (0, 0, 0));
    save(s, "c1", &[change("1", None), change("2", None)], &[], &[]);
    save(s, "c2", &[change("3", None)], &[], &[]);
    save(s, "c1", &[change("4", None)], &[], &[]);
    tx(s, |t| t.insert_device(&device("d1", "t1", 1)));
    assert_eq!(tx(&*b.second, |t| t.counts()), (2, 4, 1));
}

fn ranking_rows_follow_the_last_save(b: &Backend) {
    let s = &*b.storage;
    assert!(tx(s, |t| t.ranking_rows()).is_empty());
    save(s, "c2", &[change("1", None)], &[], &[]);
    save(s, "c1", &[change("2", None)], &[], &[]);
    let rows = tx(&*b.second, |t| t.ranking_rows());
    let entry = |id: &str, row: Option<&[u8]>| RankingEntry {
        case_id: id.into(),
        row: row.map(<[u8]>::to_vec),
        kept: true,
    };
    assert_eq!(
        rows,
        vec![entry("c1", Some(b"row of c1")), entry("c2", None)]
    );
    // A later save replaces the row.
    tx(s, |t| {
        let pos = t.allocate_positions(1)?;
        let mut m = meta("c1");
        m.ranking = None;
        t.save_case(&m, b"snap", &[change("3", None)], pos, &[], &[])
    });
    assert_eq!(tx(s, |t| t.ranking_rows())[0], entry("c1", None));
}

/// Writers on both instances save changes (new cases and shared ones, several positions each)
/// and sleep before committing, so commits land late and interleave with a reader that
/// repeatedly reads `max_position` and then the feed up to it. The reader must see every
/// committed change exactly once, each in the round whose range holds its position, and the
/// rounds in position order: a cursor that skipped a late commit would lose a change.
fn reader_never_skips_a_late_commit(b: &Backend) {
    const WRITERS: usize = 4;
    const PER_WRITER: usize = 25;
    let done = Arc::new(AtomicBool::new(false));
    // Every committed change: its position and bytes.
    let committed = Arc::new(Mutex::new(Vec::<(u64, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let storage = if w % 2 == 0 {
            b.storage.clone()
        } else {
            b.second.clone()
        };
        let committed = committed.clone();
        writers.push(std::thread::spawn(move || {
            for i in 0..PER_WRITER {
                let case_id = if i % 2 == 0 {
                    format!("shared-{}", i % 2)
                } else {
                    format!("case-{w}-{i}")
                };
                let n = 1 + (i % 3);
                let mut saved = Vec::new();
                let r = with_tx(&*storage, |t| {
                    let _ = t.lock_case(&DocId::from(&case_id))?;
                    std::thread::sleep(Duration::from_micros(rand::random_range(0..1500)));
                    let first = t.allocate_positions(n as u64)?;
                    let changes: Vec<NewChange> = (0..n)
                        .map(|k| change(&format!("{w}:{i}:{k}"), None))
                        .collect();
                    t.save_case(
                        &meta(&case_id),
                        b"snapshot",
                        &changes,
                        first,
                        &access_keys(&["grid:k"]),
                        &[],
                    )?;
                    // Late commit: hold everything a while.
                    std::thread::sleep(Duration::from_micros(rand::random_range(0..3000)));
                    saved = (0..n)
                        .map(|k| (first + k as u64, format!("{w}:{i}:{k}")))
                        .collect();
                    Ok(())
                });
                r.unwrap();
                committed.lock().unwrap().extend(saved);
            }
        }));
    }
    let reader = {
        let storage = b.second.clone();
        let done = done.clone();
        std::thread::spawn(move || {
            let mut cursor = 0u64;
            // Per round: the range and the changes seen.
            let mut rounds: Vec<(u64, u64, Vec<String>)> = Vec::new();
            loop {
                let finished = done.load(Ordering::SeqCst);
                let (max, seen) = with_tx(&*storage, |t| {
                    let max = t.max_position()?;
                    // Widen the window between reading the bound and reading the feed.
                    std::thread::sleep(Duration::from_micros(rand::random_range(0..1000)));
                    let feed = t.feed_cases(
                        FeedScope::Keys(&access_keys(&["grid:k"])),
                        cursor,
                        max,
                        100_000,
                    )?;
                    let mut last = cursor;
                    let mut seen = Vec::new();
                    for (case_id, pos) in feed {
                        assert!(pos > last && pos <= max, "feed order: {pos} after {last}");
                        last = pos;
                        seen.extend(strings(t.changes_between(
                            &case_id,
                            cursor,
                            max,
                            &"".into(),
                        )?));
                    }
                    Ok((max, seen))
                })
                .unwrap();
                assert!(max >= cursor, "max_position went back: {max} < {cursor}");
                rounds.push((cursor, max, seen));
                cursor = max;
                if finished {
                    return rounds;
                }
                std::thread::sleep(Duration::from_micros(rand::random_range(0..500)));
            }
        })
    };
    for w in writers {
        w.join().unwrap();
    }
    done.store(true, Ordering::SeqCst);
    let rounds = reader.join().unwrap();

    let mut committed = committed.lock().unwrap().clone();
    committed.sort();
    let total: usize = (0..PER_WRITER).map(|i| 1 + i % 3).sum::<usize>() * WRITERS;
    assert_eq!(committed.len(), total);
    let positions: Vec<u64> = committed.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        positions,
        (1..=total as u64).collect::<Vec<_>>(),
        "positions are contiguous"
    );
    let pos_of: HashMap<&str, u64> = committed.iter().map(|(p, s)| (s.as_str(), *p)).collect();
    let mut seen_all = HashSet::new();
    for (after, upto, seen) in &rounds {
        for s in seen {
            let p = pos_of[s.as_str()];
            assert!(
                *after < p && p <= *upto,
                "change {s} at {p} seen in round ({after}, {upto}]"
            );
            assert!(seen_all.insert(s.clone()), "change {s} seen twice");
        }
    }
    let missing: Vec<_> = committed
        .iter()
        .filter(|(_, s)| !seen_all.contains(s))
        .collect();
    assert!(missing.is_empty(), "the reader skipped {missing:?}");
    assert!(
        rounds.len() > 2,
        "the reader ran concurrently ({} rounds)",
        rounds.len()
    );
}

// ---------------------------------------------------------------- PostgreSQL only

#[test]
fn postgres_instances_start_together() {
    let Some(url) = pg_url() else { return };
    let schema = unique_schema("start");
    let _cleanup = Cleanup::Schema {
        url: url.clone(),
        schema: schema.clone(),
    };
    let barrier = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (url, schema, barrier) = (url.clone(), schema.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                PostgresStorage::connect_with_schema(&url, &schema).map(|_| ())
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    // And once more on the existing schema.
    let s = PostgresStorage::connect_with_schema(&url, &schema).unwrap();
    assert_eq!(tx(&s, |t| t.max_position()), 0);
    assert_eq!(s.kind(), "postgres");
}

#[test]
fn postgres_lock_case_serialises_writers_across_instances() {
    let Some(b) = postgres("lock") else { return };
    save(&*b.storage, "c", &[change("0", None)], &[], &[]);
    let order = Arc::new(Mutex::new(Vec::new()));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [b.storage.clone(), b.second.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, s)| {
            let (order, barrier) = (order.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut first = true;
                with_tx(&*s, |t| {
                    if std::mem::take(&mut first) {
                        barrier.wait();
                    }
                    if w == 1 {
                        // Let the other writer take the lock first.
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let cur = t.lock_case(&"c".into())?.unwrap();
                    order
                        .lock()
                        .unwrap()
                        .push(format!("{w} locked at {}", cur.feed_pos));
                    std::thread::sleep(Duration::from_millis(200));
                    let p = t.allocate_positions(1)?;
                    t.save_case(
                        &meta("c"),
                        b"s",
                        &[change(&w.to_string(), None)],
                        p,
                        &[],
                        &[],
                    )
                })
                .unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // The second writer waited for the first to commit and saw its write.
    assert_eq!(*order.lock().unwrap(), ["0 locked at 1", "1 locked at 2"]);
}

#[test]
fn postgres_lock_case_serialises_creation_of_a_new_case() {
    let Some(b) = postgres("create") else { return };
    let seen = Arc::new(Mutex::new(Vec::new()));
    let barrier = Arc::new(Barrier::new(2));
    let handles: Vec<_> = [b.storage.clone(), b.second.clone()]
        .into_iter()
        .enumerate()
        .map(|(w, s)| {
            let (seen, barrier) = (seen.clone(), barrier.clone());
            std::thread::spawn(move || {
                let mut first = true;
                with_tx(&*s, |t| {
                    if std::mem::take(&mut first) {
                        barrier.wait();
                    }
                    if w == 1 {
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    let cur = t.lock_case(&"new".into())?;
                    seen.lock().unwrap().push(cur.map(|c| c.snapshot));
                    std::thread::sleep(Duration::from_millis(200));
                    let p = t.allocate_positions(1)?;
                    let snapshot = format!("by {w}");
                    t.save_case(
                        &meta("new"),
                        snapshot.as_bytes(),
                        &[change("n", None)],
                        p,
                        &[],
                        &[],
                    )
                })
                .unwrap();
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    // The second writer waited for the first to create the case, and found it.
    assert_eq!(*seen.lock().unwrap(), [None, Some(b"by 0".to_vec())]);
}

#[test]
fn postgres_deadlock_is_retried() {
    let Some(b) = postgres("deadlock") else {
        return;
    };
    save(&*b.storage, "x", &[change("x0", None)], &[], &[]);
    save(&*b.storage, "y", &[change("y0", None)], &[], &[]);
    let barrier = Arc::new(Barrier::new(2));
    let attempts = Arc::new(AtomicU32::new(0));
    let handles: Vec<_> = [("x", "y", b.storage.clone()), ("y", "x", b.second.clone())]
        .into_iter()
        .map(|(one, two, s)| {
            let (barrier, attempts) = (barrier.clone(), attempts.clone());
            std::thread::spawn(move || {
                let mut first = true;
                with_tx(&*s, |t| {
                    attempts.fetch_add(1, Ordering::SeqCst);
                    t.lock_case(&one.into())?;
                    if std::mem::take(&mut first) {
                        // Both hold their first lock before asking for the second.
                        barrier.wait();
                    }
                    t.lock_case(&two.into())?;
                    Ok(())
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap().unwrap();
    }
    assert!(
        attempts.load(Ordering::SeqCst) >= 3,
        "one of the two transactions was re-run after the deadlock"
    );
}

#[test]
fn postgres_ignored_error_does_not_commit_silently() {
    let Some(b) = postgres("ignored") else { return };
    let s = &*b.storage;
    tx(s, |t| t.insert_code("h", &"p".into(), 1));
    let r = with_tx(s, |t| {
        t.insert_code("other", &"p".into(), 1)?;
        let _ = t.insert_code("h", &"p".into(), 2); // fails: duplicate; the error is dropped
        Ok(())
    });
    assert!(
        r.is_err(),
        "a transaction whose error was ignored must not report success"
    );
    assert_eq!(
        tx(s, |t| t.take_code("other", 3)),
        None,
        "nothing was committed"
    );
}

/// PostgreSQL runs at READ COMMITTED, so a case can move past `upto` between the caller's
/// `max_position` and its `feed_cases`; such a case is still listed, at its last change within
/// the range, so that none of its changes at or below `upto` is skipped. (SQLite never sees
/// this: its transactions run one at a time.)
#[test]
fn postgres_feed_lists_cases_that_moved_past_upto() {
    let Some(b) = postgres("moved") else { return };
    let s = &*b.storage;
    save(s, "a", &[change("a1", None)], &["grid:k"], &[]); // 1
    save(s, "b", &[change("b1", None)], &["grid:k"], &[]); // 2
    save(
        s,
        "c",
        &[change("c1", None), change("c2", None)],
        &["grid:k"],
        &[],
    ); // 3..4
    save(s, "a", &[change("a2", None)], &["grid:k"], &[]); // 5
    let expect: Vec<(DocId, u64)> = vec![("a".into(), 1), ("b".into(), 2), ("c".into(), 3)];
    assert_eq!(tx(s, |t| t.feed_cases(FeedScope::All, 0, 3, 100)), expect);
    assert_eq!(
        tx(s, |t| t.feed_cases(
            FeedScope::Keys(&access_keys(&["grid:k"])),
            0,
            3,
            100
        )),
        expect
    );
    assert_eq!(
        strings(tx(s, |t| t.changes_between(&"c".into(), 0, 3, &"".into()))),
        ["c1"]
    );
    assert_eq!(
        tx(s, |t| t.feed_cases(FeedScope::All, 1, 3, 100)),
        vec![(DocId::from("b"), 2), (DocId::from("c"), 3)]
    );
}

#[test]
fn postgres_bad_schema_name_is_refused() {
    let Some(url) = pg_url() else { return };
    assert!(PostgresStorage::connect_with_schema(&url, "x\"; DROP TABLE y; --").is_err());
}
