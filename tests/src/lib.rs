//! The end-to-end harness: a real `xiangying-server` on 127.0.0.1 (SQLite in a temp folder,
//! or PostgreSQL when asked), real device stores in temp folders enrolled through real HTTP,
//! a fault-injecting TCP proxy, and a link a test can cut and restore.

pub mod attack;
pub mod child_server;
pub mod counting_proxy;
pub mod desk;
pub mod fixtures;
pub mod link;
pub mod prom_text;
pub mod proxy;
pub mod sink;
pub mod slow_link;
pub mod street_day;
pub mod street_year;
pub mod webdriver;
pub mod world;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use xiangying_core::Device;
use xiangying_server::blobs::BlobStore;
use xiangying_server::state::AppState;
use xiangying_server::state::Limits;
use xiangying_server::storage::Storage;
use xiangying_server::storage::postgres::PostgresStorage;
use xiangying_server::storage::sqlite::SqliteStorage;
use xiangying_server::{Running, admin, spawn};

/// The environment variable `name` read as a `T`, or `default` when it is unset or does not
/// read (for the benchmarks' knobs).
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A reqwest client for the suites' own requests. The workspace's reqwest has no crypto
/// provider of its own (decision 0030): a client gets the core's TLS set-up (bundled roots,
/// `ring`), as the device's does; `reqwest::blocking::Client::new()` would panic.
pub fn http() -> reqwest::blocking::Client {
    http_builder().build().expect("http client")
}

/// [`http`]'s builder, for a client with settings of its own.
pub fn http_builder() -> reqwest::blocking::ClientBuilder {
    let tls = xiangying_core::sync::tls::client_config(&Default::default()).expect("TLS set-up");
    reqwest::blocking::Client::builder().tls_backend_preconfigured(tls)
}

/// The PostgreSQL URL the test command provides (`XY_PG_URL`). Without it the PostgreSQL
/// suites fail with a hint: silently skipping them would hide breakage.
pub fn pg_url() -> String {
    std::env::var("XY_PG_URL").expect(
        "XY_PG_URL is not set: run the suites through ./scripts/test, or export \
         XY_PG_URL=$(bash scripts/postgres | tail -n 1)",
    )
}

/// Drops a test schema left by an earlier run.
pub fn drop_schema(url: &str, schema: &str) {
    let mut client = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    client
        .batch_execute(&format!("DROP SCHEMA IF EXISTS \"{schema}\" CASCADE"))
        .expect("drop schema");
}

/// A server and the devices enrolled with it.
pub struct Field {
    /// The running server.
    pub server: Running,
    /// Devices by person id.
    pub devices: BTreeMap<String, Device>,
    /// Each device's folder, by person id.
    pub dirs: BTreeMap<String, PathBuf>,
    /// The temporary folder holding the server's data folder (`server/`) and the devices'.
    pub root: tempfile::TempDir,
    /// PostgreSQL's URL and schema, when the server stores there.
    pub postgres: Option<(String, String)>,
    /// The server's limits.
    pub limits: Limits,
}

/// The sample street's roster and catalogue as JSON.
pub fn sample_org() -> (String, String) {
    use xiangying_core::org::sample;
    (
        sample::roster_json().expect("sample roster"),
        sample::catalogue_json().expect("sample catalogue"),
    )
}

/// The Zhenxing example's roster and catalogue as JSON.
pub fn zhenxing_org() -> (String, String) {
    use xiangying_core::org::zhenxing;
    (
        serde_json::to_string(&zhenxing::roster()).expect("roster"),
        serde_json::to_string(&zhenxing::catalogue()).expect("catalogue"),
    )
}

impl Field {
    /// A fresh server with the given org, on SQLite.
    pub fn new(org: (String, String)) -> Field {
        Field::with_backend(org, None, Limits::default())
    }

    /// A fresh server with the given org and limits, on SQLite or (given a URL and a schema
    /// name of its own) PostgreSQL.
    pub fn with_backend(
        org: (String, String),
        postgres: Option<(String, String)>,
        limits: Limits,
    ) -> Field {
        let root = tempfile::tempdir().expect("temp dir");
        let data = root.path().join("server");
        if let Some((url, schema)) = &postgres {
            drop_schema(url, schema);
        }
        let server = serve(&data, postgres.as_ref(), &limits);
        admin::publish(server.state.storage.as_ref(), &org.0, &org.1).expect("publish org");
        Field {
            server,
            devices: BTreeMap::new(),
            dirs: BTreeMap::new(),
            root,
            postgres,
            limits,
        }
    }

    /// The server's data folder.
    pub fn data(&self) -> PathBuf {
        self.root.path().join("server")
    }

    /// Where the server's store lives, for `xiangying_server::backup`.
    pub fn store_location(&self) -> xiangying_server::backup::Location {
        xiangying_server::backup::Location {
            data: self.data(),
            postgres: self.postgres.as_ref().map(|(url, schema)| {
                xiangying_server::backup::PgLocation {
                    url: url.clone(),
                    schema: Some(schema.clone()),
                }
            }),
        }
    }

    /// Stops the server, runs `offline` (a restore, an upgrade) while it is down, and starts
    /// it again on the same store at a new address, which every device is pointed at.
    pub fn restart_after(&mut self, offline: impl FnOnce(&Field)) {
        let scratch = self.root.path().join("scratch-server");
        let placeholder = serve(&scratch, None, &self.limits);
        let old = std::mem::replace(&mut self.server, placeholder);
        old.stop();
        offline(self);
        let server = serve(&self.data(), self.postgres.as_ref(), &self.limits);
        std::mem::replace(&mut self.server, server).stop();
        for d in self.devices.values() {
            d.set_server_url(&self.server.url()).expect("new address");
        }
    }

    /// Enrols a device for `person` through the given base URL (the server's, or a proxy's).
    pub fn enrol_via(&mut self, person: &str, url: &str) -> &Device {
        let code = admin::issue_code(self.server.state.storage.as_ref(), person).expect("code");
        let dir = self.root.path().join("devices").join(person);
        let d = Device::open(&dir).expect("open device");
        d.enrol(url, &code, &format!("{person}'s phone"))
            .expect("enrol");
        self.dirs.insert(person.to_string(), dir);
        self.devices.insert(person.to_string(), d);
        &self.devices[person]
    }

    /// Enrols a device for `person` directly with the server.
    pub fn enrol(&mut self, person: &str) -> &Device {
        let url = self.server.url();
        self.enrol_via(person, &url)
    }

    /// The device of `person`.
    pub fn dev(&self, person: &str) -> &Device {
        &self.devices[person]
    }

    /// Syncs every device once, in id order.
    pub fn sync_all(&self) {
        for (p, d) in &self.devices {
            d.sync_now(&|_| {})
                .unwrap_or_else(|e| panic!("sync of {p}: {e}"));
        }
    }

    /// Syncs every device twice, so that what a later device pushed reaches earlier ones.
    pub fn settle(&self) {
        self.sync_all();
        self.sync_all();
    }

    /// The roster the server publishes.
    pub fn dev_roster(&self) -> xiangying_core::org::Roster {
        let state = self.state();
        let org = xiangying_server::storage::with_tx(state.storage.as_ref(), |tx| tx.org())
            .expect("org")
            .expect("published");
        xiangying_core::org::Roster::from_json("roster", &org.roster).expect("roster")
    }

    /// The server's state.
    pub fn state(&self) -> Arc<xiangying_server::state::AppState> {
        self.server.state.clone()
    }
}

/// Opens the store (SQLite in `data`, or PostgreSQL) and serves it on a loopback port.
fn serve(data: &std::path::Path, postgres: Option<&(String, String)>, limits: &Limits) -> Running {
    let storage: Arc<dyn Storage> = match postgres {
        Some((url, schema)) => {
            Arc::new(PostgresStorage::connect_with_schema(url, schema).expect("postgres"))
        }
        None => Arc::new(SqliteStorage::open(data).expect("sqlite")),
    };
    let state = Arc::new(AppState::new(
        storage,
        BlobStore::new(data.join("photos"), limits.max_photo),
        limits.clone(),
    ));
    spawn(state, "127.0.0.1:0".parse().expect("addr")).expect("spawn")
}

/// The bearer token a device keeps in its store (tests use it to send hand-made requests).
pub fn token_of(f: &Field, person: &str) -> String {
    let db = f.dirs[person].join("xiangying.db");
    let conn = rusqlite::Connection::open(db).expect("open device db");
    let v: Vec<u8> = conn
        .query_row("SELECT value FROM meta WHERE key = 'token'", [], |r| {
            r.get(0)
        })
        .expect("token");
    String::from_utf8(v).expect("utf-8")
}

/// Posts raw bytes to `/v1/sync` with a token; returns the status and body.
pub fn post_sync(f: &Field, token: Option<&str>, body: Vec<u8>) -> (u16, Vec<u8>) {
    let client = crate::http();
    let mut req = client
        .post(format!("{}/v1/sync", f.server.url()))
        .body(body);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().expect("send");
    let status = resp.status().as_u16();
    (status, resp.bytes().expect("body").to_vec())
}

/// A wait on the wake-up channel with `token`, straight to the server, for news after a
/// cursor the feed will not reach: it holds its place (and a wait slot) until dropped or
/// until the heartbeat.
pub fn held_wait(f: &Field, token: &str) -> std::net::TcpStream {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(f.server.addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(15)))
        .expect("timeout");
    write!(
        s,
        "GET /v1/wait?cursor=1000000000000 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("write");
    s
}

/// The body of a sync that pushes nothing and pulls from the start.
pub fn empty_sync_body() -> Vec<u8> {
    xiangying_core::sync::wire::encode(&xiangying_core::sync::wire::SyncRequest {
        push: vec![],
        cursor: 0,
        max_feed_bytes: 1 << 20,
        org_version: 0,
    })
    .expect("encode")
}

/// How many cases, changes and devices the server holds.
pub fn server_counts(f: &Field) -> (u64, u64, u64) {
    let state = f.state();
    xiangying_server::storage::with_tx(state.storage.as_ref(), |tx| tx.counts()).expect("counts")
}

/// Pushes hand-made bytes for one document to `/v1/sync` with `person`'s token (a far cursor,
/// so nothing is pulled); returns the status and the body as text.
pub fn push_raw(f: &Field, person: &str, id: &str, bytes: Vec<u8>) -> (u16, String) {
    push_raw_with(f, person, id, bytes, &[])
}

/// [`push_raw`] with extra request headers (a re-delivery mark, a protocol version).
pub fn push_raw_with(
    f: &Field,
    person: &str,
    id: &str,
    bytes: Vec<u8>,
    headers: &[(&str, &str)],
) -> (u16, String) {
    let body = xiangying_core::sync::wire::encode(&xiangying_core::sync::wire::SyncRequest {
        push: vec![xiangying_core::sync::wire::PushedChange {
            seq: 1_000_000,
            case_id: uuid::Uuid::parse_str(id).expect("a document id"),
            bytes,
        }],
        cursor: u64::MAX >> 1,
        max_feed_bytes: 1024,
        org_version: 0,
    })
    .expect("encode");
    let mut req = crate::http()
        .post(format!("{}/v1/sync", f.server.url()))
        .bearer_auth(token_of(f, person))
        .body(body);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().expect("send");
    (resp.status().as_u16(), resp.text().expect("body"))
}

/// A change made by hand on `holder`'s copy of a document: `edit` gets the document and its
/// root list `list` (`events`, `track`, `log`, …); returns the change bytes.
pub fn hand_change(
    f: &Field,
    holder: &str,
    id: &str,
    list: &str,
    edit: impl FnOnce(&mut automerge::AutoCommit, &automerge::ObjId),
) -> Vec<u8> {
    use automerge::ReadDoc;
    let bytes = f.dev(holder).export_case(id).expect("export");
    let mut doc = automerge::AutoCommit::load(&bytes)
        .expect("load")
        .with_actor(automerge::ActorId::random());
    let heads = doc.get_heads();
    let obj = match doc.get(automerge::ROOT, list).expect("get") {
        Some((automerge::Value::Object(automerge::ObjType::List), obj)) => obj,
        _ => panic!("no {list} list"),
    };
    edit(&mut doc, &obj);
    doc.commit();
    doc.save_after(&heads)
}

/// A small real JPEG of `width` × `height` pixels whose colours depend on `seed` (different
/// seeds, different bytes and hashes), as a camera would hand one over.
pub fn jpeg(seed: u8, width: u32, height: u32) -> Vec<u8> {
    let mut img = image::RgbImage::new(width, height);
    for (x, y, p) in img.enumerate_pixels_mut() {
        *p = image::Rgb([(x as u8).wrapping_add(seed), y as u8, seed]);
    }
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("an in-memory JPEG encodes");
    out.into_inner()
}

/// Whether the server closes the connection `s` (end of stream or reset) within the stream's
/// read timeout, reading and dropping whatever it sends first.
pub fn closed_by_server(s: &mut std::net::TcpStream) -> bool {
    use std::io::Read;
    let mut buf = [0u8; 1024];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue,
            Err(e) => {
                return !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                );
            }
        }
    }
}
