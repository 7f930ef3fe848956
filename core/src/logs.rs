//! The core's log targets. The core logs through the `log` facade; the app sees these lines
//! only when it installs a sink (the bindings' `set_log_sink`), so a core used on its own
//! (the server, tests) pays nothing.
//!
//! What is logged is what an operator debugging a phone wants: each sync's start and end with
//! its counts, every retry with its reason and wait, the sync engine's state changes, and the
//! refusals of the rules (action and code). Never a token, never case text or a person's
//! words: only ids, counts, codes and the errors' own descriptions.

/// A sync's start, end and failure, with counts ([`crate::Device::sync_now`]).
pub const SYNC: &str = "xiangying::sync";
/// One HTTP request's retries and backoff, with the reason ([`crate::sync::client`]).
pub const HTTP: &str = "xiangying::http";
/// The sync engine's state changes ([`crate::SyncEngine`]).
pub const ENGINE: &str = "xiangying::engine";
/// An action the rules refused, with its code (nothing was written).
pub const RULES: &str = "xiangying::rules";

/// Every target, for a sink that filters by target.
pub const ALL: [&str; 4] = [SYNC, HTTP, ENGINE, RULES];
