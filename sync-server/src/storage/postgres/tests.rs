//! The pool, the statement timeout and the retries against a real PostgreSQL (`XY_PG_URL`,
//! a fresh schema per test): a statement over the timeout fails naming it; a serialization
//! failure and a deadlock, as PostgreSQL produces them between two connections, are retried,
//! succeed, and are counted in `xiangying_store_retries_total`.

use super::*;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;

/// The PostgreSQL URL, or `None` when the PostgreSQL tests are explicitly skipped.
fn pg_url() -> Option<String> {
    match std::env::var("XY_PG_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("XY_SKIP_PG").as_deref() == Ok("1") => None,
        _ => panic!(
            "XY_PG_URL is not set: the PostgreSQL tests need a server. Run \
             `export XY_PG_URL=\"$(bash scripts/postgres | tail -n 1)\"` first, or set \
             XY_SKIP_PG=1 to skip them knowingly."
        ),
    }
}

/// A store in a schema of its own, dropped at the end, and a table `contend` with rows 1 and
/// 2 for transactions to fight over.
struct Fixture {
    url: String,
    schema: String,
    storage: PostgresStorage,
}

impl Fixture {
    fn new(test: &str, statement_timeout: Duration) -> Option<Fixture> {
        static N: AtomicU32 = AtomicU32::new(0);
        let url = pg_url()?;
        let schema = format!(
            "xyu_{test}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let storage = PostgresStorage::connect_with(
            &url,
            &PgOptions {
                schema: Some(schema.clone()),
                statement_timeout,
                ..PgOptions::default()
            },
        )
        .unwrap();
        let f = Fixture {
            url,
            schema,
            storage,
        };
        f.client()
            .batch_execute(&format!(
                "CREATE TABLE \"{0}\".contend (id INT PRIMARY KEY, v INT NOT NULL);
                 INSERT INTO \"{0}\".contend VALUES (1, 0), (2, 0);",
                f.schema
            ))
            .unwrap();
        Some(f)
    }

    /// A second connection, outside the store's pool.
    fn client(&self) -> Client {
        connect_client(&self.url).unwrap()
    }

    fn value(&self, id: i32) -> i32 {
        let sql = format!("SELECT v FROM \"{}\".contend WHERE id = $1", self.schema);
        self.client().query_one(&sql, &[&id]).unwrap().get(0)
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let sql = format!("DROP SCHEMA IF EXISTS \"{}\" CASCADE", self.schema);
        if let Ok(mut c) = connect_client(&self.url) {
            let _ = c.batch_execute(&sql);
        }
    }
}

/// Runs `f` with a recorder of its own on this thread, and returns the rendered metrics.
fn recorded(f: impl FnOnce()) -> String {
    let recorder: PrometheusRecorder = PrometheusBuilder::new().build_recorder();
    let handle: PrometheusHandle = recorder.handle();
    metrics::with_local_recorder(&recorder, f);
    handle.render()
}

/// Runs a statement in the store's transaction, remembering its failure as the store does.
fn exec(t: &mut PgTx<'_>, sql: &str) -> Result<u64> {
    let r = t.tx.execute(sql, &[]);
    t.check(r)
}

#[test]
fn a_statement_over_the_timeout_fails_naming_it_and_the_pool_goes_on() {
    let Some(f) = Fixture::new("timeout", Duration::from_secs(1)) else {
        return;
    };
    let mut runs = 0;
    let e = f
        .storage
        .transact_pg(&mut |t| {
            runs += 1;
            exec(t, "SELECT pg_sleep(30)").map(drop)
        })
        .unwrap_err()
        .to_string();
    assert!(e.contains("statement timeout"), "{e}");
    assert!(e.contains("statement_timeout_secs"), "{e}");
    assert_eq!(runs, 1, "a timeout is not retried");
    // The connection went back to the pool in working order.
    f.storage
        .transact_pg(&mut |t| exec(t, "UPDATE contend SET v = 7 WHERE id = 1").map(drop))
        .unwrap();
    assert_eq!(f.value(1), 7);
    // The real store's own transactions run under the same timeout: one stuck behind a lock
    // held elsewhere fails instead of hanging.
    let mut other = f.client();
    let mut hold = other.transaction().unwrap();
    hold.batch_execute(&format!(
        "LOCK TABLE \"{}\".server_meta IN ACCESS EXCLUSIVE MODE",
        f.schema
    ))
    .unwrap();
    let e = with_tx(&f.storage, |tx| meta::load(tx, f.storage.migrated().to))
        .unwrap_err()
        .to_string();
    assert!(e.contains("statement timeout"), "{e}");
    hold.rollback().unwrap();
}

#[test]
fn a_serialization_failure_is_retried_and_counted() {
    let Some(f) = Fixture::new("serial", Duration::from_secs(30)) else {
        return;
    };
    let mut other = f.client();
    let mut runs = 0;
    let metrics = recorded(|| {
        f.storage
            .transact_pg(&mut |t| {
                runs += 1;
                // A snapshot for the whole transaction, so that a concurrent update of a row
                // it then updates is a serialization failure (40001).
                exec(t, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")?;
                exec(t, "SELECT v FROM contend WHERE id = 1")?;
                if runs == 1 {
                    other
                        .execute(
                            &format!(
                                "UPDATE \"{}\".contend SET v = v + 100 WHERE id = 1",
                                f.schema
                            ),
                            &[],
                        )
                        .unwrap();
                }
                exec(t, "UPDATE contend SET v = v + 1 WHERE id = 1").map(drop)
            })
            .unwrap();
    });
    assert_eq!(runs, 2, "run once, failed, run again");
    assert_eq!(f.value(1), 101, "both updates are in");
    assert!(
        metrics.contains("xiangying_store_retries_total{reason=\"serialization\"} 1"),
        "{metrics}"
    );
}

#[test]
fn a_deadlock_is_retried_and_counted() {
    let Some(f) = Fixture::new("deadlock", Duration::from_secs(30)) else {
        return;
    };
    let (ready_tx, ready) = mpsc::channel::<()>();
    let (pid_tx, pid_rx) = mpsc::channel::<i32>();
    let mut other = f.client();
    let schema = f.schema.clone();
    // The other side: holds row 2, waits until the store's transaction waits for it, then
    // asks for row 1, which the store holds. PostgreSQL's deadlock check runs in the backend
    // that waited first (the store's) and cancels it.
    let side = std::thread::spawn(move || -> std::result::Result<(), ::postgres::Error> {
        let mut tx = other.transaction()?;
        tx.execute(
            &format!("UPDATE \"{schema}\".contend SET v = v + 10 WHERE id = 2"),
            &[],
        )?;
        ready_tx.send(()).unwrap();
        let pid = pid_rx.recv().unwrap();
        loop {
            let waiting = tx.query_opt(
                "SELECT 1 FROM pg_locks WHERE pid = $1 AND NOT granted",
                &[&pid],
            )?;
            if waiting.is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        tx.execute(
            &format!("UPDATE \"{schema}\".contend SET v = v + 10 WHERE id = 1"),
            &[],
        )?;
        tx.commit()
    });
    ready.recv().unwrap();
    let mut runs = 0;
    let metrics = recorded(|| {
        f.storage
            .transact_pg(&mut |t| {
                runs += 1;
                exec(t, "UPDATE contend SET v = v + 1 WHERE id = 1")?;
                if runs == 1 {
                    let r = t.tx.query_one("SELECT pg_backend_pid()", &[]);
                    let pid: i32 = t.check(r)?.get(0);
                    pid_tx.send(pid).unwrap();
                }
                exec(t, "UPDATE contend SET v = v + 1 WHERE id = 2").map(drop)
            })
            .unwrap();
    });
    side.join()
        .unwrap()
        .expect("PostgreSQL chose the other side as the deadlock's victim");
    assert_eq!(
        runs, 2,
        "run once, cancelled as the deadlock's victim, run again"
    );
    assert_eq!(
        (f.value(1), f.value(2)),
        (11, 11),
        "both sides' updates are in"
    );
    assert!(
        metrics.contains("xiangying_store_retries_total{reason=\"deadlock\"} 1"),
        "{metrics}"
    );
}

#[test]
fn the_pool_reports_its_size_and_connections() {
    let Some(url) = pg_url() else {
        return;
    };
    let metrics = recorded(|| {
        let storage = PostgresStorage::connect_with(
            &url,
            &PgOptions {
                pool_size: 3,
                schema: Some(format!("xyu_poolmetrics_{}", std::process::id())),
                ..PgOptions::default()
            },
        )
        .unwrap();
        storage
            .transact_pg(&mut |t| exec(t, "SELECT 1").map(drop))
            .unwrap();
        let mut c = connect_client(&url).unwrap();
        c.batch_execute(&format!(
            "DROP SCHEMA \"{}\" CASCADE",
            storage.schema_name().unwrap()
        ))
        .unwrap();
    });
    assert!(
        metrics.contains("xiangying_store_pool_size_max 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("xiangying_store_pool_connections{state=\"idle\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("xiangying_store_pool_connections{state=\"in_use\"} 0"),
        "{metrics}"
    );
    assert!(
        metrics.contains("xiangying_store_pool_wait_seconds"),
        "{metrics}"
    );
}

#[test]
fn device_status_is_kept_as_on_sqlite() {
    let Some(f) = Fixture::new("device_status", Duration::from_secs(30)) else {
        return;
    };
    crate::device_status::exercise_storage(&f.storage);
}
