//! The logging hook across the FFI: the core logs through the `log` facade
//! ([`xiangying_core::logs`] names its targets); [`set_log_sink`] hands those lines to the
//! app's [`LogSink`] (Kotlin forwards them to Logcat, Swift to os_log).
//!
//! One sink per process, replaceable at any time. The core never waits for it: a line is
//! queued (a bounded queue) and a background thread calls the sink, fenced with
//! `catch_unwind`, so a sink that throws loses that line only and a slow sink loses lines
//! (counted, and said in the next line it gets) instead of slowing a sync. Lines of other
//! libraries (TLS, HTTP) pass only at `Warn` and above; the core's own at the level asked.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, OnceLock, RwLock};

/// How important a log line is, most important first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, uniffi::Enum)]
pub enum LogLevel {
    /// Something failed and was given up.
    Error,
    /// Something failed and will be retried, or was refused.
    Warn,
    /// What the core did: a sync's start and end, the engine's state changes.
    Info,
    /// More detail, for debugging.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    fn of(level: log::Level) -> LogLevel {
        match level {
            log::Level::Error => LogLevel::Error,
            log::Level::Warn => LogLevel::Warn,
            log::Level::Info => LogLevel::Info,
            log::Level::Debug => LogLevel::Debug,
            log::Level::Trace => LogLevel::Trace,
        }
    }

    fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// Where the core's log lines go: the app implements it (Kotlin `XiangyingLog`, Swift
/// `XiangyingLog`) and installs it with [`set_log_sink`].
#[uniffi::export(foreign)]
pub trait LogSink: Send + Sync {
    /// One line: its `level`, its `target` (e.g. `xiangying::sync`) and its text. Called on
    /// the core's logging thread, one line at a time, in order. Lines carry ids, counts and
    /// codes, never tokens or what people wrote.
    fn log(&self, level: LogLevel, target: String, message: String);
}

/// The slot holding the current sink (none until one is set).
type SinkSlot = Arc<RwLock<Option<Arc<dyn LogSink>>>>;

/// How many lines may wait for a slow sink before new ones are dropped.
const QUEUE: usize = 1024;

/// One queued line.
struct Line {
    level: LogLevel,
    target: String,
    message: String,
}

/// The process's one logger: the queue to the thread that calls the sink, and the count of
/// lines dropped because the queue was full.
struct Forwarder {
    queue: SyncSender<Line>,
    dropped: Arc<AtomicU64>,
}

impl log::Log for Forwarder {
    fn enabled(&self, meta: &log::Metadata<'_>) -> bool {
        // The max level is set by `set_log_sink`; other libraries only from Warn up.
        meta.level() <= log::max_level()
            && (meta.target().starts_with("xiangying") || meta.level() <= log::Level::Warn)
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let line = Line {
            level: LogLevel::of(record.level()),
            target: record.target().to_string(),
            message: record.args().to_string(),
        };
        match self.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    fn flush(&self) {}
}

/// The forwarder, installed as the `log` logger on first use.
static FORWARDER: OnceLock<Option<SinkSlot>> = OnceLock::new();

/// Installs the forwarder (once per process) and starts its thread; `None` when another
/// logger was installed first (a host program's own), in which case lines go there.
fn forwarder() -> Option<SinkSlot> {
    FORWARDER
        .get_or_init(|| {
            let sink: SinkSlot = Arc::new(RwLock::new(None));
            let dropped = Arc::new(AtomicU64::new(0));
            let (queue, lines) = sync_channel(QUEUE);
            let f = Forwarder {
                queue,
                dropped: dropped.clone(),
            };
            log::set_boxed_logger(Box::new(f)).ok()?;
            let (s, d) = (sink.clone(), dropped);
            std::thread::Builder::new()
                .name("xiangying-log".into())
                .spawn(move || deliver(lines, s, d))
                .ok()?;
            Some(sink)
        })
        .clone()
}

/// The logging thread: hands each line to the current sink, fenced.
fn deliver(lines: Receiver<Line>, sink: SinkSlot, dropped: Arc<AtomicU64>) {
    for line in lines {
        let current = sink.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(current) = current else { continue };
        let lost = dropped.swap(0, Ordering::Relaxed);
        if lost > 0 {
            call(
                &current,
                LogLevel::Warn,
                "xiangying::log".into(),
                format!("{lost} log lines were dropped: the log sink is slower than the core"),
            );
        }
        call(&current, line.level, line.target, line.message);
    }
}

/// Calls the sink, fenced: a sink that throws loses this line only.
fn call(sink: &Arc<dyn LogSink>, level: LogLevel, target: String, message: String) {
    let _ = catch_unwind(AssertUnwindSafe(|| sink.log(level, target, message)));
}

/// Sends the core's log lines up to `max_level` to `sink` from now on, replacing the sink set
/// before (one per process). Lines are delivered in order on a background thread; the core
/// never waits for the sink. Other libraries' lines pass only at `Warn` and above.
#[uniffi::export]
pub fn set_log_sink(sink: Arc<dyn LogSink>, max_level: LogLevel) {
    if let Some(slot) = forwarder() {
        *slot.write().unwrap_or_else(|e| e.into_inner()) = Some(sink);
        log::set_max_level(max_level.filter());
    }
}

/// Stops sending log lines to the sink (lines already queued are dropped); logging then
/// costs the core next to nothing.
#[uniffi::export]
pub fn clear_log_sink() {
    log::set_max_level(log::LevelFilter::Off);
    if let Some(slot) = forwarder() {
        *slot.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::mpsc::{Sender, channel};

    struct Collect(Mutex<Sender<(LogLevel, String, String)>>);

    impl LogSink for Collect {
        fn log(&self, level: LogLevel, target: String, message: String) {
            let _ = self.0.lock().unwrap().send((level, target, message));
        }
    }

    struct Throws;

    impl LogSink for Throws {
        fn log(&self, _: LogLevel, _: String, _: String) {
            panic!("a sink that throws");
        }
    }

    #[test]
    fn lines_reach_the_sink_and_a_throwing_sink_breaks_nothing() {
        set_log_sink(Arc::new(Throws), LogLevel::Info);
        log::info!(target: xiangying_core::logs::SYNC, "into a sink that throws");
        let (tx, rx) = channel();
        set_log_sink(Arc::new(Collect(Mutex::new(tx))), LogLevel::Info);
        log::debug!(target: xiangying_core::logs::SYNC, "below the level");
        log::info!(target: "some_library", "another library's info");
        log::info!(target: xiangying_core::logs::SYNC, "sync started");
        let before: Vec<_> = rx
            .iter()
            .take_while(|(_, _, m)| m != "sync started")
            .collect();
        assert!(
            before
                .iter()
                .all(|(_, t, m)| m != "below the level" && t != "some_library"),
            "{before:?}"
        );
        clear_log_sink();
    }
}
