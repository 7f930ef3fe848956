//! `xiangying-ffi`: the uniffi layer that Kotlin and Swift see. A thin, task-shaped API over
//! `xiangying-core`:
//!
//! - [`XiangyingDevice`]: open a data folder, enrol with a server, raise and move cases
//!   (with photos), list them, sync, exchange documents, listen for changes (`device.rs`);
//!   route by place, report and forward by route, suggest duplicates, list review meetings
//!   (`field.rs`); rankings and notice boards (`reports.rs`); patrols with their tracks,
//!   companions (三陪同) and the weekly accompaniment count (`patrol.rs`); the roster as the
//!   person may see it, people search by name and pinyin, places with their shapes,
//!   category deadlines and the working calendar (`roster.rs`);
//! - [`XiangyingSyncEngine`]: the sync engine that syncs by itself and reports its state
//!   (`engine.rs`);
//! - map datums at the edge (`datum.rs`, decision 0031): every position in says its
//!   [`Datum`] and is converted to WGS-84 for the core; every position out goes through
//!   [`map_point`] into the device's map datum; photos carry the camera's [`PhotoCapture`]
//!   (`capture.rs`);
//! - the desk's enrolment QR codes read with [`parse_enrol_link`] into an [`EnrolLink`]
//!   (`enrol_link.rs`, decision 0041);
//! - plain records and enums for what crosses the boundary ([`types`], [`field_types`],
//!   [`report_types`], [`patrol_types`], [`roster_types`], [`tls_types`]);
//! - one error, [`ApiError`], whose variants an app can act on, each with a stable
//!   [`ErrorCode`] (`codes.rs`) and a message in Chinese or English ([`api_error_message`],
//!   `messages.rs`);
//! - the logging hook: the core's log lines to the app's [`LogSink`] ([`set_log_sink`],
//!   `logging.rs`);
//! - callbacks: [`CaseListener`] (which cases and patrols changed), [`ProgressListener`], [`SyncListener`] and
//!   [`CancelToken`] (long work).
//!
//! Nothing here panics across the boundary: errors are `Result`s, listener calls are fenced,
//! and uniffi turns any remaining panic into an internal error on the foreign side.
//! Bindings are generated from the built library by the pinned `uniffi-bindgen` binary of
//! this crate (`scripts/bindings`).

mod capture;
mod codes;
mod datum;
mod device;
mod engine;
mod enrol_link;
mod error;
mod field;
pub mod field_types;
mod listener;
mod logging;
mod messages;
mod patrol;
pub mod patrol_types;
pub mod report_types;
mod reports;
mod roster;
pub mod roster_types;
pub mod tls_types;
pub mod types;
mod work;

pub use capture::{CameraPhoto, PhotoCapture};
pub use codes::{ErrorCode, error_code_name};
pub use datum::{Datum, GeoPoint, convert_datum, map_point};
pub use device::XiangyingDevice;
pub use engine::{
    EngineConfig, EngineListener, EngineState, EngineStatus, XiangyingSyncEngine,
    default_engine_config,
};
pub use enrol_link::{EnrolLink, parse_enrol_link};
pub use error::{ApiError, ApiResult, api_error_code};
pub use field_types::*;
pub use listener::{CancelToken, CaseListener, ProgressListener, SyncListener};
pub use logging::{LogLevel, LogSink, clear_log_sink, set_log_sink};
pub use messages::{api_error_message, message};
pub use patrol_types::*;
pub use report_types::*;
pub use roster_types::*;
pub use types::*;

uniffi::setup_scaffolding!();

#[cfg(test)]
mod codes_tests;
#[cfg(test)]
mod tests;
