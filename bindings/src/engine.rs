//! The sync engine for the apps ([`XiangyingSyncEngine`], decision 0028): started once with the
//! device, it syncs by itself after local writes, when the app reports connectivity regained or
//! news, and periodically in the foreground, and tells an [`EngineListener`] every state it goes
//! through (Kotlin turns it into a `Flow`, Swift into an `AsyncStream`). The device's case
//! listeners hear what each of its syncs changed, as after `sync_now`.

use crate::device::XiangyingDevice;
use crate::error::ApiResult;
use crate::listener::Listeners;
use crate::types::SyncReport;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use xiangying_core::SyncPhase;

/// Told every state the engine goes through, in order, on the engine's thread: post to your UI.
#[uniffi::export(foreign)]
pub trait EngineListener: Send + Sync {
    /// The engine's status now.
    fn status_changed(&self, status: EngineStatus);
}

/// How the engine paces itself (see [`default_engine_config`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct EngineConfig {
    /// The shortest time between two syncs that local writes start: a write syncs at once
    /// when no sync started within it, else when it has passed (1000 by default).
    pub debounce_ms: u64,
    /// The period of syncs while the app is in the foreground; none: no periodic syncs
    /// (60000 by default).
    pub foreground_period_ms: Option<u64>,
    /// The first wait after a failure, doubling with each failure in a row (2000 by default);
    /// the real wait is random between zero and it (full jitter).
    pub backoff_base_ms: u64,
    /// The longest backoff (300000 by default).
    pub backoff_max_ms: u64,
    /// Wait on the server's wake-up channel while in the foreground and sync as soon as it
    /// says there is something new (true by default).
    #[uniffi(default = true)]
    pub wait_for_news: bool,
    /// Whether the app is in the foreground when the engine starts (false by default; later
    /// changes go through `set_foreground`).
    #[uniffi(default = false)]
    pub start_in_foreground: bool,
}

/// The engine's defaults: 1 s debounce, a sync a minute in the foreground, backoff from 2 s to
/// 5 min, waiting on the server's wake-up channel in the foreground.
#[uniffi::export]
pub fn default_engine_config() -> EngineConfig {
    EngineConfig::from(xiangying_core::EngineConfig::default())
}

impl From<xiangying_core::EngineConfig> for EngineConfig {
    fn from(c: xiangying_core::EngineConfig) -> EngineConfig {
        EngineConfig {
            debounce_ms: millis(c.debounce),
            foreground_period_ms: c.foreground_period.map(millis),
            backoff_base_ms: millis(c.backoff_base),
            backoff_max_ms: millis(c.backoff_max),
            wait_for_news: c.wait_for_news,
            start_in_foreground: c.start_in_foreground,
        }
    }
}

impl From<EngineConfig> for xiangying_core::EngineConfig {
    fn from(c: EngineConfig) -> xiangying_core::EngineConfig {
        xiangying_core::EngineConfig {
            debounce: Duration::from_millis(c.debounce_ms),
            foreground_period: c.foreground_period_ms.map(Duration::from_millis),
            backoff_base: Duration::from_millis(c.backoff_base_ms),
            backoff_max: Duration::from_millis(c.backoff_max_ms),
            wait_for_news: c.wait_for_news,
            start_in_foreground: c.start_in_foreground,
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// What the engine is doing.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum EngineState {
    /// Nothing to do until the next trigger.
    Idle,
    /// A sync is running; its progress so far.
    Syncing {
        /// The totals so far.
        report: SyncReport,
    },
    /// The server could not be reached; the next try is in `retry_in_ms` (sooner when the
    /// app reports connectivity regained).
    Offline {
        /// Until the next try.
        retry_in_ms: u64,
        /// What failed.
        reason: String,
    },
    /// The server refused or failed, or its certificate was refused; the next try is in
    /// `retry_in_ms`.
    WaitingToRetry {
        /// Until the next try.
        retry_in_ms: u64,
        /// The refusal's stable code (decision 0025), or for a refused certificate the TLS
        /// failure's (`tls_unknown_issuer`, `tls_pin_mismatch`, `tls_expired`,
        /// `tls_name_mismatch`, `tls_other`; decision 0030).
        code: String,
        /// What the server said.
        reason: String,
    },
    /// The app (`upgrade_required`) or the server (`server_too_old`) must be upgraded; no
    /// retries until `sync_soon`.
    UpgradeRequired {
        /// `upgrade_required` or `server_too_old`.
        code: String,
    },
    /// Stopped.
    Stopped,
}

/// The engine's state with the queues it works on.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct EngineStatus {
    /// What the engine is doing.
    pub state: EngineState,
    /// Changes waiting for the server.
    pub outbox: u64,
    /// Photo files waiting to upload.
    pub uploads: u64,
    /// When the last sync succeeded (ms since the epoch, device clock), if one has.
    pub last_success_ms: Option<i64>,
    /// Of `uploads`, the files the last finished sync could not send because their copy on
    /// this phone is missing or damaged: they wait for the copy to be mended, not for the
    /// network. A screen may say so ([`SyncReport::photos_unreadable`] names the files).
    #[uniffi(default = 0)]
    pub uploads_unreadable: u64,
}

impl From<&xiangying_core::EngineStatus> for EngineStatus {
    fn from(s: &xiangying_core::EngineStatus) -> EngineStatus {
        use xiangying_core::EngineState as Core;
        let state = match &s.state {
            Core::Idle => EngineState::Idle,
            Core::Syncing(r) => EngineState::Syncing { report: r.into() },
            Core::Offline { retry_in, reason } => EngineState::Offline {
                retry_in_ms: millis(*retry_in),
                reason: reason.clone(),
            },
            Core::WaitingToRetry {
                retry_in,
                code,
                reason,
            } => EngineState::WaitingToRetry {
                retry_in_ms: millis(*retry_in),
                code: code.to_string(),
                reason: reason.clone(),
            },
            Core::UpgradeRequired(r) => EngineState::UpgradeRequired {
                code: r.code().to_string(),
            },
            Core::Stopped => EngineState::Stopped,
        };
        EngineStatus {
            state,
            outbox: s.outbox,
            uploads: s.uploads,
            last_success_ms: s.last_success,
            uploads_unreadable: s.uploads_unreadable,
        }
    }
}

/// A running sync engine (stop it when the app closes; dropping it stops it too).
#[derive(uniffi::Object)]
pub struct XiangyingSyncEngine {
    engine: Mutex<Option<xiangying_core::SyncEngine>>,
}

impl XiangyingSyncEngine {
    fn with(&self, f: impl FnOnce(&xiangying_core::SyncEngine)) {
        if let Some(e) = self
            .engine
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
        {
            f(e);
        }
    }
}

#[uniffi::export]
impl XiangyingSyncEngine {
    /// The platform reports the network is back: sync now, with the backoff reset.
    pub fn connectivity_regained(&self) {
        self.with(|e| e.connectivity_regained());
    }

    /// Something says there is news for this device (a push notification): sync now.
    pub fn sync_soon(&self) {
        self.with(|e| e.sync_soon());
    }

    /// The app came to the foreground (periodic syncs run) or left it (they stop).
    pub fn set_foreground(&self, foreground: bool) {
        self.with(|e| e.set_foreground(foreground));
    }

    /// Cancels the sync in flight, if any, at its next step (what was done stays done); the
    /// engine carries on and syncs again at its next trigger. Returns at once.
    pub fn cancel_sync(&self) {
        self.with(|e| e.cancel_sync());
    }

    /// The engine's status now (`Stopped` once stopped).
    pub fn status(&self) -> EngineStatus {
        let mut status = None;
        self.with(|e| status = Some(EngineStatus::from(&e.status())));
        status.unwrap_or(EngineStatus {
            state: EngineState::Stopped,
            outbox: 0,
            uploads: 0,
            last_success_ms: None,
            uploads_unreadable: 0,
        })
    }

    /// Stops the engine: a sync in flight stops at its next step; returns once it has.
    pub fn stop(&self) {
        let engine = self.engine.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(e) = engine {
            e.stop();
        }
    }
}

#[uniffi::export]
impl XiangyingDevice {
    /// Starts this device's sync engine (one per device; the app starts it once, after
    /// enrolment). The first sync runs at once. `listener` hears every state; the device's
    /// case listeners hear what each sync changed.
    pub fn start_sync_engine(
        &self,
        config: EngineConfig,
        listener: Arc<dyn EngineListener>,
    ) -> ApiResult<Arc<XiangyingSyncEngine>> {
        let cases = Arc::clone(&self.listeners);
        let on_status = move |s: &xiangying_core::EngineStatus| {
            tell_cases(&cases, s);
            let status = EngineStatus::from(s);
            let _ = catch_unwind(AssertUnwindSafe(|| listener.status_changed(status)));
        };
        let engine = xiangying_core::SyncEngine::start(
            Arc::clone(&self.device),
            config.into(),
            Box::new(on_status),
        )?;
        Ok(Arc::new(XiangyingSyncEngine {
            engine: Mutex::new(Some(engine)),
        }))
    }
}

/// Tells the case listeners what a finished sync changed, as `sync_now` does.
fn tell_cases(cases: &Listeners, s: &xiangying_core::EngineStatus) {
    if let xiangying_core::EngineState::Syncing(r) = &s.state
        && r.phase == Some(SyncPhase::Done)
    {
        if r.org_changed {
            cases.notify(Vec::new());
        } else if !r.changed.is_empty() {
            cases.notify(r.changed.clone());
        }
    }
}
