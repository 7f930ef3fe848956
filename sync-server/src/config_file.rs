//! The server's configuration file (TOML), for operators who prefer a file to flags.
//!
//! ```toml
//! data = "/srv/xiangying"                     # data folder (SQLite store, photo files)
//! postgres = "postgres://xy@db/xiangying"     # optional: PostgreSQL instead of SQLite
//! listen = "0.0.0.0:8470"                     # address `serve` listens on
//! metrics_token = "…"                         # /metrics asks for this bearer token; without
//!                                             # it, only loopback clients get /metrics
//! recovery_window_days = 30                   # days after a restore counted as recovery
//! tls_cert = "/etc/xiangying/cert.pem"        # optional: serve HTTPS itself, with this
//! tls_key = "/etc/xiangying/key.pem"          # chain and key (both or neither)
//! log_format = "json"                         # "plain" (default) or "json": one JSON object
//!                                             # per line (`serve --log-format` wins)
//!
//! [limits]
//! max_sync_body = 16777216                    # largest POST /v1/sync body, bytes
//! max_photo = 16777216                        # largest photo file, bytes
//! max_push_ops = 200000                       # most automerge ops one push may declare
//! request_timeout_secs = 60                   # whole-request deadline
//! wait_secs = 75                              # wake-up channel heartbeat (at most 120)
//! code_ttl_hours = 72                         # enrolment codes expire this long after issue
//!
//! [photos]                                    # where photo files live (decision 0037)
//! backend = "s3"                              # "folder" (default: <data>/photos) or "s3"
//! bucket = "xiangying-photos"                 # S3: the bucket (needed)
//! endpoint = "https://s3.example.net"         # S3: an S3-compatible server (default AWS)
//! region = "us-east-1"                        # S3: the region
//! prefix = "street-1/"                        # S3: a key prefix inside the bucket
//! access_key_id = "…"                         # S3: else AWS_ACCESS_KEY_ID
//! secret_access_key = "…"                     # S3: else AWS_SECRET_ACCESS_KEY
//! allow_http = false                          # S3: allow a plain http:// endpoint
//! partial_ttl_hours = 24                      # idle partial uploads expire (default: limits)
//! orphan_grace_days = 7                       # unreferenced files kept this long
//! sweep_every_minutes = 60                    # clean-up period inside `serve`
//!
//! [desk]                                      # the web desk's sessions (decision 0039)
//! session_idle_minutes = 120                  # a session unused this long ends
//! session_max_hours = 12                      # a session ends this long after sign-in
//! sign_in_per_minute = 10                     # sign-in attempts per client address
//!
//! [store]                                     # PostgreSQL only (docs/OPERATIONS.md)
//! pool_size = 8                               # most connections this instance opens
//! pool_wait_secs = 30                         # longest wait for a free connection
//! statement_timeout_secs = 30                 # longest one statement may run
//!
//! [desk]                                      # the web desk (docs/DESK.md)
//! public_url = "https://xy.example.gov.cn"    # the address phones reach this server at, put
//!                                             # in printed enrolment QR codes (default: the
//!                                             # request's Host header, over http)
//! tile_url = "https://tiles.example/{z}/{x}/{y}.png" # optional map tiles under the desk's
//!                                             # map (Web Mercator XYZ); none: no tile asked
//! tile_datum = "gcj02"                        # the tiles' datum: "wgs84" (default) or "gcj02"
//! ```
//!
//! `[limits]` takes every field of [`Limits`] (see `docs/SECURITY.md` for the whole list with
//! defaults); none may be 0. `[desk]` takes [`DeskSettings`]; none may be 0. `[store]` takes [`StoreSettings`]; none may be 0 either.
//!
//! Every key is optional. A flag or an environment variable wins over the file, the file over
//! the built-in default. Unknown keys and bad values are errors that name the file, the key and
//! the problem, so a typo never silently falls back to a default.

use crate::blobs::PhotosConfig;
use crate::state::{DeskSettings, Limits};
use crate::storage::postgres::{
    DEFAULT_POOL_SIZE, DEFAULT_POOL_WAIT_SECS, DEFAULT_STATEMENT_TIMEOUT_SECS, PgOptions,
};
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use xiangying_model::sync::version::MAX_WAIT_SECS;

/// The settings a configuration file may hold.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The data folder.
    pub data: Option<PathBuf>,
    /// A PostgreSQL URL.
    pub postgres: Option<String>,
    /// The address `serve` listens on.
    pub listen: Option<SocketAddr>,
    /// The bearer token `/metrics` asks for.
    pub metrics_token: Option<String>,
    /// Days after a restore during which the server counts as recovering (default 30).
    pub recovery_window_days: Option<u64>,
    /// The PEM certificate chain to serve HTTPS with (with `tls_key`).
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// How log lines are written (`plain` when left out).
    pub log_format: Option<LogFormat>,
    /// Request and response limits (the defaults for keys left out).
    #[serde(default)]
    pub limits: Limits,
    /// Where photo files live and how they are cleaned up (the folder when left out).
    #[serde(default)]
    pub photos: PhotosConfig,
    /// The PostgreSQL pool and timeouts (the defaults for keys left out).
    #[serde(default)]
    pub store: StoreSettings,
    /// The web desk's sessions and sign-in limits (the defaults for keys left out).
    #[serde(default)]
    pub desk: DeskSettings,
}

/// The `[store]` table: the PostgreSQL connection pool and timeouts of this instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    /// The most connections this instance opens (default 8).
    pub pool_size: Option<u32>,
    /// How long a request waits for a free connection before failing, seconds (default 30).
    pub pool_wait_secs: Option<u64>,
    /// The longest one statement may run, seconds (default 30); also the longest a
    /// transaction may sit idle.
    pub statement_timeout_secs: Option<u64>,
}

impl StoreSettings {
    /// The first key set to 0, if any.
    fn first_zero(&self) -> Option<&'static str> {
        [
            ("pool_size", self.pool_size.map(u64::from)),
            ("pool_wait_secs", self.pool_wait_secs),
            ("statement_timeout_secs", self.statement_timeout_secs),
        ]
        .into_iter()
        .find(|(_, v)| *v == Some(0))
        .map(|(k, _)| k)
    }

    /// The PostgreSQL options: the file's where given, the defaults otherwise.
    pub fn pg_options(&self) -> PgOptions {
        PgOptions {
            schema: None,
            pool_size: self.pool_size.map_or(DEFAULT_POOL_SIZE, |n| {
                usize::try_from(n).unwrap_or(usize::MAX)
            }),
            pool_wait: Duration::from_secs(self.pool_wait_secs.unwrap_or(DEFAULT_POOL_WAIT_SECS)),
            statement_timeout: Duration::from_secs(
                self.statement_timeout_secs
                    .unwrap_or(DEFAULT_STATEMENT_TIMEOUT_SECS),
            ),
        }
    }
}

/// How the server writes its log lines (to standard error).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Plain,
    /// One JSON object per line, for log collectors.
    Json,
}

impl FileConfig {
    /// Reads and checks a configuration file.
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        FileConfig::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses and checks configuration text.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let cfg: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        if let Some(key) = cfg.limits.first_zero() {
            return Err(format!("limits.{key} must be more than 0"));
        }
        if let Some(key) = cfg.desk.first_zero() {
            return Err(format!("desk.{key} must be more than 0"));
        }
        if let Some(key) = cfg.store.first_zero() {
            return Err(format!("store.{key} must be more than 0"));
        }
        if cfg.limits.wait_secs > MAX_WAIT_SECS {
            return Err(format!(
                "limits.wait_secs is {}, over the most devices wait for ({MAX_WAIT_SECS} s): \
                 their waits would time out before the heartbeat",
                cfg.limits.wait_secs
            ));
        }
        if cfg
            .metrics_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            return Err(
                "metrics_token must have at least 16 characters; leave it out to answer \
                 /metrics to loopback clients only"
                    .into(),
            );
        }
        if cfg.tls_cert.is_some() != cfg.tls_key.is_some() {
            return Err(
                "tls_cert and tls_key go together: give both to serve HTTPS, or neither".into(),
            );
        }
        if cfg.postgres.as_deref().is_some_and(|u| u.trim().is_empty()) {
            return Err("postgres is empty; leave it out to use the embedded SQLite store".into());
        }
        cfg.photos.check()?;
        cfg.desk.check()?;
        Ok(cfg)
    }

    /// The recovery window, days: the file's or the default.
    pub fn recovery_window_days(&self) -> u64 {
        self.recovery_window_days
            .unwrap_or(crate::state::DEFAULT_RECOVERY_WINDOW_DAYS)
    }

    /// The PostgreSQL options of `[store]`: the file's where given, the defaults otherwise.
    pub fn pg_options(&self) -> PgOptions {
        self.store.pg_options()
    }

    /// The limits: the file's where given, the defaults otherwise; the `[desk]` table's
    /// settings ride along in [`Limits::desk`].
    pub fn limits(&self) -> Limits {
        Limits {
            desk: self.desk.clone(),
            ..self.limits.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_file_is_read_and_limits_fall_back_to_defaults() {
        let cfg = FileConfig::parse(
            "data = \"/srv/xy\"\nlisten = \"0.0.0.0:9000\"\n[limits]\nmax_photo = 1000\n",
        )
        .unwrap();
        assert_eq!(cfg.data.as_deref(), Some(Path::new("/srv/xy")));
        assert_eq!(cfg.listen, Some("0.0.0.0:9000".parse().unwrap()));
        assert_eq!(cfg.postgres, None);
        let limits = cfg.limits();
        assert_eq!(limits.max_photo, 1000);
        assert_eq!(limits.max_sync_body, Limits::default().max_sync_body);
        assert_eq!(FileConfig::parse("").unwrap(), FileConfig::default());
    }

    #[test]
    fn the_desk_public_address_is_checked() {
        let cfg =
            FileConfig::parse("[desk]\npublic_url = \"https://xy.gov.cn:8470/xy\"\n").unwrap();
        assert_eq!(
            cfg.desk.public_url.as_deref(),
            Some("https://xy.gov.cn:8470/xy")
        );
        for bad in [
            "ftp://x",
            "https://",
            "https://a?b=1",
            "https://u:p@a",
            "https://a b",
        ] {
            let e = FileConfig::parse(&format!("[desk]\npublic_url = \"{bad}\"\n")).unwrap_err();
            assert!(e.contains("desk.public_url"), "{bad}: {e}");
        }
    }

    #[test]
    fn typos_and_bad_values_are_named() {
        let e = FileConfig::parse("dta = \"x\"").unwrap_err();
        assert!(e.contains("dta"), "{e}");
        let e = FileConfig::parse("[limits]\nmax_foto = 1").unwrap_err();
        assert!(e.contains("max_foto"), "{e}");
        let e = FileConfig::parse("listen = \"here\"").unwrap_err();
        assert!(e.contains("listen"), "{e}");
        let e = FileConfig::parse("[limits]\nmax_feed_cases = 0").unwrap_err();
        assert!(e.contains("limits.max_feed_cases"), "{e}");
        let e = FileConfig::parse("[limits]\nmax_photo = -5").unwrap_err();
        assert!(e.contains("max_photo"), "{e}");
        assert!(FileConfig::parse("postgres = \" \"").is_err());
        let e = FileConfig::load(Path::new("/nonexistent/xy.toml")).unwrap_err();
        assert!(e.contains("/nonexistent/xy.toml"), "{e}");
    }

    #[test]
    fn hardening_limits_and_the_metrics_token_are_read_and_checked() {
        let cfg = FileConfig::parse(
            "metrics_token = \"0123456789abcdef0123\"\n[limits]\ncode_ttl_hours = 1\n\
             enrol_client_per_minute = 3\nenrol_overall_per_minute = 9\n\
             partial_upload_ttl_hours = 2\ndevice_photo_quota_bytes = 1000\n",
        )
        .unwrap();
        assert_eq!(cfg.metrics_token.as_deref(), Some("0123456789abcdef0123"));
        let l = cfg.limits();
        assert_eq!(l.code_ttl_hours, 1);
        assert_eq!(l.enrol_client_per_minute, 3);
        assert_eq!(l.enrol_overall_per_minute, 9);
        assert_eq!(l.partial_upload_ttl_hours, 2);
        assert_eq!(l.device_photo_quota_bytes, 1000);
        let d = FileConfig::parse("").unwrap().limits();
        assert_eq!(d.code_ttl_hours, 72);
        assert_eq!(d.partial_upload_ttl_hours, 24);
        assert_eq!(d.device_photo_quota_bytes, 2 << 30);
        for key in [
            "code_ttl_hours",
            "enrol_client_per_minute",
            "enrol_overall_per_minute",
            "partial_upload_ttl_hours",
            "device_photo_quota_bytes",
        ] {
            let e = FileConfig::parse(&format!("[limits]\n{key} = 0")).unwrap_err();
            assert!(e.contains(key), "{e}");
        }
        let e = FileConfig::parse("[limits]\nwait_secs = 121").unwrap_err();
        assert!(e.contains("wait_secs is 121"), "{e}");
        assert_eq!(
            FileConfig::parse("[limits]\nwait_secs = 120")
                .unwrap()
                .limits()
                .wait_secs,
            120
        );
        let e = FileConfig::parse("metrics_token = \"short\"").unwrap_err();
        assert!(e.contains("metrics_token"), "{e}");
        let e = FileConfig::parse("[limits]\ncode_ttl = 1").unwrap_err();
        assert!(e.contains("code_ttl"), "{e}");
    }

    #[test]
    fn tls_files_are_read_and_go_together() {
        let cfg = FileConfig::parse("tls_cert = \"/e/c.pem\"\ntls_key = \"/e/k.pem\"\n").unwrap();
        assert_eq!(cfg.tls_cert.as_deref(), Some(Path::new("/e/c.pem")));
        assert_eq!(cfg.tls_key.as_deref(), Some(Path::new("/e/k.pem")));
        let e = FileConfig::parse("tls_cert = \"/e/c.pem\"").unwrap_err();
        assert!(e.contains("tls_cert and tls_key"), "{e}");
        assert!(FileConfig::parse("tls_key = \"/e/k.pem\"").is_err());
    }

    #[test]
    fn the_store_table_sets_the_pool_and_timeouts_with_defaults_for_the_rest() {
        let d = FileConfig::parse("").unwrap().pg_options();
        assert_eq!(d.pool_size, 8);
        assert_eq!(d.pool_wait, Duration::from_secs(30));
        assert_eq!(d.statement_timeout, Duration::from_secs(30));
        let o = FileConfig::parse("[store]\npool_size = 20\nstatement_timeout_secs = 5\n")
            .unwrap()
            .pg_options();
        assert_eq!(o.pool_size, 20);
        assert_eq!(o.pool_wait, Duration::from_secs(30));
        assert_eq!(o.statement_timeout, Duration::from_secs(5));
        assert_eq!(o.schema, None);
        for key in ["pool_size", "pool_wait_secs", "statement_timeout_secs"] {
            let e = FileConfig::parse(&format!("[store]\n{key} = 0")).unwrap_err();
            assert!(e.contains(&format!("store.{key}")), "{e}");
        }
        let e = FileConfig::parse("[store]\npool_sise = 3").unwrap_err();
        assert!(e.contains("pool_sise"), "{e}");
        let e = FileConfig::parse("[store]\npool_size = -1").unwrap_err();
        assert!(e.contains("pool_size"), "{e}");
    }

    #[test]
    fn the_photos_table_is_read_and_checked() {
        let cfg = FileConfig::parse("").unwrap();
        assert_eq!(cfg.photos.backend, crate::blobs::BackendKind::Folder);
        assert_eq!(cfg.photos.orphan_grace().as_secs(), 7 * 86_400);
        assert_eq!(cfg.photos.sweep_every().as_secs(), 3600);
        let cfg = FileConfig::parse(
            "[photos]\nbackend = \"s3\"\nbucket = \"b\"\nendpoint = \"http://127.0.0.1:9000\"\n\
             region = \"r\"\nprefix = \"p/\"\naccess_key_id = \"k\"\nsecret_access_key = \"s\"\n\
             allow_http = true\npartial_ttl_hours = 2\norphan_grace_days = 3\n\
             sweep_every_minutes = 5\n",
        )
        .unwrap();
        assert_eq!(cfg.photos.backend, crate::blobs::BackendKind::S3);
        assert_eq!(cfg.photos.bucket.as_deref(), Some("b"));
        assert!(cfg.photos.allow_http);
        assert_eq!(cfg.photos.partial_ttl_hours, Some(2));
        assert_eq!(cfg.photos.orphan_grace().as_secs(), 3 * 86_400);
        assert_eq!(cfg.photos.sweep_every().as_secs(), 300);
        let e = FileConfig::parse("[photos]\nbackend = \"s3\"").unwrap_err();
        assert!(e.contains("photos.bucket"), "{e}");
        let e = FileConfig::parse("[photos]\nbucket = \"b\"").unwrap_err();
        assert!(e.contains("photos.bucket"), "{e}");
        let e = FileConfig::parse("[photos]\nbackend = \"ftp\"").unwrap_err();
        assert!(e.contains("ftp"), "{e}");
        let e = FileConfig::parse("[photos]\nsweep_every_minutes = 0").unwrap_err();
        assert!(e.contains("photos.sweep_every_minutes"), "{e}");
        let e = FileConfig::parse("[photos]\nbuckt = \"b\"").unwrap_err();
        assert!(e.contains("buckt"), "{e}");
    }

    #[test]
    fn the_log_format_is_plain_or_json() {
        assert_eq!(FileConfig::parse("").unwrap().log_format, None);
        let cfg = FileConfig::parse("log_format = \"json\"").unwrap();
        assert_eq!(cfg.log_format, Some(LogFormat::Json));
        let cfg = FileConfig::parse("log_format = \"plain\"").unwrap();
        assert_eq!(cfg.log_format, Some(LogFormat::Plain));
        let e = FileConfig::parse("log_format = \"xml\"").unwrap_err();
        assert!(e.contains("log_format") || e.contains("xml"), "{e}");
    }

    #[test]
    fn the_desk_tile_layer_is_read_and_checked() {
        let cfg = FileConfig::parse("").unwrap();
        assert_eq!(cfg.desk, DeskSettings::default());
        let cfg = FileConfig::parse(
            "[desk]\ntile_url = \"https://t.example/{z}/{x}/{y}.png\"\ntile_datum = \"gcj02\"\n",
        )
        .unwrap();
        assert_eq!(cfg.desk.tile_datum, Some(crate::state::TileDatum::Gcj02));
        assert_eq!(
            cfg.desk.tile_url.as_deref(),
            Some("https://t.example/{z}/{x}/{y}.png")
        );
        for bad in [
            "ftp://t.example/{z}/{x}/{y}.png",
            "https://t.example/{z}/{x}.png",
            "https://t.example/{z}/{x}/{y}.png\\\" onload=\\\"x",
            "https:///{z}/{x}/{y}",
        ] {
            let e = FileConfig::parse(&format!("[desk]\ntile_url = \"{bad}\"")).unwrap_err();
            assert!(e.contains("desk.tile_url"), "{bad}: {e}");
        }
        let e = FileConfig::parse("[desk]\ntile_datum = \"bd09\"").unwrap_err();
        assert!(e.contains("bd09") || e.contains("tile_datum"), "{e}");
        let e = FileConfig::parse("[desk]\ntile_datum = \"gcj02\"").unwrap_err();
        assert!(e.contains("desk.tile_datum"), "{e}");
        let e = FileConfig::parse("[desk]\ntile_ur = \"x\"").unwrap_err();
        assert!(e.contains("tile_ur"), "{e}");
    }

    #[test]
    fn the_recovery_window_is_read_with_a_default_of_30_days() {
        assert_eq!(FileConfig::parse("").unwrap().recovery_window_days(), 30);
        let cfg = FileConfig::parse("recovery_window_days = 7").unwrap();
        assert_eq!(cfg.recovery_window_days(), 7);
        let e = FileConfig::parse("recovery_window_days = -1").unwrap_err();
        assert!(e.contains("recovery_window_days"), "{e}");
    }

    #[test]
    fn the_desk_table_sets_session_lifetimes_with_defaults_and_refuses_zero() {
        let d = FileConfig::parse("").unwrap().limits().desk;
        assert_eq!(d, DeskSettings::default());
        assert_eq!((d.session_idle_minutes, d.session_max_hours), (120, 12));
        let cfg =
            FileConfig::parse("[desk]\nsession_idle_minutes = 5\nsession_max_hours = 1\n").unwrap();
        let d = cfg.limits().desk;
        assert_eq!((d.session_idle_minutes, d.session_max_hours), (5, 1));
        assert_eq!((d.idle_ms(), d.max_ms()), (300_000, 3_600_000));
        let e = FileConfig::parse("[desk]\nsession_idle_minutes = 0").unwrap_err();
        assert!(e.contains("desk.session_idle_minutes"), "{e}");
        let e = FileConfig::parse("[desk]\nsession_idle = 5").unwrap_err();
        assert!(e.contains("session_idle"), "{e}");
        // The desk's keys belong to [desk], not [limits].
        assert!(FileConfig::parse("[limits]\nsession_max_hours = 1").is_err());
    }
}
