//! The protocol version: MAJOR.MINOR, sent by the device with every request and checked by the
//! server before anything else (see `docs/decisions/0020-compatibility-rules.md`).
//!
//! - MAJOR is the wire: the postcard bodies and the endpoints. It changes only for an
//!   incompatible change; a server answers a range of majors ([`SERVER_MAJORS`]).
//! - MINOR is the document layout: additive only (new actions, new root keys). Layout 1 is the
//!   first-wave documents, layout 2 the documents that record their layout (`layout` root key).
//!
//! A request without the [`PROTOCOL_HEADER`] comes from a first-wave device: protocol 1.1.
//! The app and core versions travel in [`CLIENT_HEADER`] and in the User-Agent, for operators.

use std::fmt;
use std::ops::RangeInclusive;

/// The header that carries the protocol version, e.g. `xiangying-protocol: 1.2`.
pub const PROTOCOL_HEADER: &str = "xiangying-protocol";
/// The header that carries the app and core versions, e.g. `app=2.3.0; core=0.1.0`.
pub const CLIENT_HEADER: &str = "xiangying-client";
/// The header a device reports its outbox length in on `/v1/sync`: the changes still waiting
/// to go out when the request left, a decimal number (decision 0041). Absent from old devices.
pub const OUTBOX_HEADER: &str = "xiangying-outbox";
/// The header a device reports its last sync failure in on `/v1/sync`: a short stable code
/// ([`check_error_code`]), never personal data; absent when the last sync succeeded.
pub const LAST_ERROR_HEADER: &str = "xiangying-last-error";
/// The header a device reports on `/v1/sync` how many photo files its last sync could not
/// send because its own copy is missing or damaged (decision 0062), in the form of
/// [`OUTBOX_HEADER`] ([`parse_outbox`]); absent when there were none, and from old devices.
pub const PHOTOS_UNREADABLE_HEADER: &str = "xiangying-photos-unreadable";
/// The longest error code [`LAST_ERROR_HEADER`] carries.
pub const MAX_ERROR_CODE_LEN: usize = 40;
/// The largest outbox length [`OUTBOX_HEADER`] carries (a device with more says this much).
pub const MAX_OUTBOX_REPORT: u64 = 1_000_000_000;
/// The response header naming the server store's epoch: it changes when the store is
/// restored from a backup (docs/decisions/0021-recovery-after-a-restore.md).
pub const EPOCH_HEADER: &str = "xiangying-epoch";
/// The request header marking a push that re-delivers documents after a restore.
pub const REDELIVERY_HEADER: &str = "xiangying-redelivery";
/// The response header on a photo upload's answer (`PATCH /v1/photos/{hash}`, `POST
/// /v1/photos`) naming how many requests the device may have in flight at once besides its
/// wake-up channel, a decimal number (decision 0061). A device sends that many uploads at once
/// (up to its own cap); without the header (an older server), one at a time.
pub const IN_FLIGHT_HEADER: &str = "xiangying-in-flight";
/// The longest heartbeat a server may give the wake-up channel (`GET /v1/wait`), seconds:
/// a device gives up on a wait 30 s after it (a wait a NAT silently dropped is noticed then),
/// so a server configured longer would have every quiet wait end in a timeout.
pub const MAX_WAIT_SECS: u64 = 120;
/// The wire version this build speaks.
pub const MAJOR: u32 = 1;
/// The document layout this build writes and fully understands (defined with the documents,
/// in [`crate::case`], which must not reach up into the sync layer).
pub use crate::case::LAYOUT;
/// The protocol version this build speaks.
pub const CURRENT: Protocol = Protocol {
    major: MAJOR,
    minor: LAYOUT,
};
/// What a request without a protocol header is: a first-wave device (wire 1, layout 1).
pub const LEGACY: Protocol = Protocol { major: 1, minor: 1 };
/// The wire versions a server of this build answers.
pub const SERVER_MAJORS: RangeInclusive<u32> = 1..=1;
/// The core's own version.
pub const CORE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The app version used when the platform gives none.
pub const DEFAULT_APP_VERSION: &str = "dev";

/// A protocol version, MAJOR.MINOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Protocol {
    /// The wire version.
    pub major: u32,
    /// The document layout.
    pub minor: u32,
}

impl Protocol {
    /// Parses `MAJOR.MINOR` (decimal numbers, nothing else around them).
    pub fn parse(s: &str) -> Result<Protocol, String> {
        let number = |part: &str| -> Result<u32, String> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("{s:?} is not MAJOR.MINOR"));
            }
            part.parse()
                .map_err(|_| format!("{s:?} has a number out of range"))
        };
        let (major, minor) = s
            .split_once('.')
            .ok_or_else(|| format!("{s:?} is not MAJOR.MINOR"))?;
        Ok(Protocol {
            major: number(major)?,
            minor: number(minor)?,
        })
    }

    /// The document layout this version writes.
    pub fn layout(self) -> u32 {
        self.minor
    }

    /// True when a device at this version writes documents newer than this build's.
    pub fn is_newer_layout(self) -> bool {
        self.minor > LAYOUT
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// Where a device's protocol version stands against a server's range of majors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    /// The server answers this version.
    Accepted(Protocol),
    /// The device's wire is older than any the server answers: the app must be upgraded.
    UpgradeRequired(Protocol),
    /// The device's wire is newer than any the server answers: the server must be upgraded.
    ServerTooOld(Protocol),
}

/// Reads a request's protocol header (`None` when absent) against `majors`. A header that is
/// not `MAJOR.MINOR` is an error naming the problem.
pub fn admit(header: Option<&str>, majors: &RangeInclusive<u32>) -> Result<Admission, String> {
    let protocol = match header {
        None => LEGACY,
        Some(h) => Protocol::parse(h.trim())
            .map_err(|e| format!("the `{PROTOCOL_HEADER}` header is malformed: {e}"))?,
    };
    Ok(if protocol.major < *majors.start() {
        Admission::UpgradeRequired(protocol)
    } else if protocol.major > *majors.end() {
        Admission::ServerTooOld(protocol)
    } else {
        Admission::Accepted(protocol)
    })
}

/// The value of [`CLIENT_HEADER`] for an app version.
pub fn client_header(app: &str) -> String {
    format!("app={}; core={CORE_VERSION}", clean(app))
}

/// The User-Agent for an app version on a platform, e.g.
/// `xiangying/2.3.0 core/0.1.0 protocol/1.2 (Android 14)`; without the comment when the
/// platform is empty (unknown). `platform` must have passed [`check_platform`].
pub fn user_agent(app: &str, platform: &str, protocol: Protocol) -> String {
    let ua = format!(
        "xiangying/{} core/{CORE_VERSION} protocol/{protocol}",
        clean(app)
    );
    if platform.is_empty() {
        ua
    } else {
        format!("{ua} ({platform})")
    }
}

/// The longest platform name and version a User-Agent carries.
pub const MAX_PLATFORM_LEN: usize = 64;

/// Checks a platform name and version as the app gives it (e.g. `Android 14`, `iOS 18.1`)
/// for the User-Agent's comment: printable ASCII and spaces, no parentheses or backslash
/// (they would end or escape the comment), at most [`MAX_PLATFORM_LEN`] characters. Returns it
/// trimmed, or what is wrong with it.
pub fn check_platform(platform: &str) -> Result<String, String> {
    let p = platform.trim();
    if p.len() > MAX_PLATFORM_LEN {
        return Err(format!(
            "{} characters, more than {MAX_PLATFORM_LEN}",
            p.chars().count()
        ));
    }
    match p
        .chars()
        .find(|c| !(c.is_ascii_graphic() || *c == ' ') || matches!(c, '(' | ')' | '\\'))
    {
        Some(c) => Err(format!(
            "{c:?} cannot go in an HTTP header's comment (printable ASCII without parentheses)"
        )),
        None => Ok(p.to_string()),
    }
}

/// An app version made safe for a header: printable ASCII without separators, at most 64
/// characters, `dev` when nothing is left.
pub fn clean(app: &str) -> String {
    let kept: String = app
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '/' | '"' | '\\'))
        .take(64)
        .collect();
    if kept.is_empty() {
        DEFAULT_APP_VERSION.to_string()
    } else {
        kept
    }
}

/// Reads an outbox length as [`OUTBOX_HEADER`] carries it (and a count of unreadable photo
/// files as [`PHOTOS_UNREADABLE_HEADER`] does): 1 to 10 ASCII digits, at most
/// [`MAX_OUTBOX_REPORT`]; anything else is `None` (ignored, never refused).
pub fn parse_outbox(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok().filter(|n| *n <= MAX_OUTBOX_REPORT)
}

/// Checks an error code as [`LAST_ERROR_HEADER`] carries it: 1 to [`MAX_ERROR_CODE_LEN`]
/// characters of `a-z`, `0-9` and `_`; anything else is `None` (ignored, never refused).
pub fn check_error_code(value: &str) -> Option<&str> {
    (!value.is_empty()
        && value.len() <= MAX_ERROR_CODE_LEN
        && value
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
    .then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse_strictly() {
        assert_eq!(Protocol::parse("1.2"), Ok(CURRENT));
        assert_eq!(
            Protocol::parse("10.30"),
            Ok(Protocol {
                major: 10,
                minor: 30
            })
        );
        for bad in [
            "",
            "1",
            "1.",
            ".2",
            "1.2.3",
            "a.b",
            "+1.2",
            "1.-2",
            "99999999999.1",
        ] {
            assert!(Protocol::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(CURRENT.to_string(), "1.2");
    }

    #[test]
    fn a_server_admits_its_range_and_names_the_side_to_upgrade() {
        let range = 2..=3;
        assert_eq!(
            admit(Some("2.9"), &range).map(|a| matches!(a, Admission::Accepted(_))),
            Ok(true)
        );
        assert!(matches!(
            admit(Some("1.2"), &range),
            Ok(Admission::UpgradeRequired(_))
        ));
        assert!(matches!(
            admit(Some("4.0"), &range),
            Ok(Admission::ServerTooOld(_))
        ));
        // No header: a first-wave device.
        assert_eq!(admit(None, &SERVER_MAJORS), Ok(Admission::Accepted(LEGACY)));
        let err = admit(Some("one.two"), &SERVER_MAJORS).unwrap_err();
        assert!(err.contains(PROTOCOL_HEADER), "{err}");
    }

    #[test]
    fn the_client_headers_carry_app_core_and_protocol() {
        assert_eq!(
            user_agent("2.3.0", "", CURRENT),
            format!("xiangying/2.3.0 core/{CORE_VERSION} protocol/1.2")
        );
        assert_eq!(
            user_agent("2.3.0", "Android 14", CURRENT),
            format!("xiangying/2.3.0 core/{CORE_VERSION} protocol/1.2 (Android 14)")
        );
        assert_eq!(check_platform(" iOS 18.1 ").as_deref(), Ok("iOS 18.1"));
        assert!(check_platform("Android 14\r\nX-Evil: 1").is_err());
        assert!(check_platform("鸿蒙 4").is_err());
        assert!(check_platform("Android (14)").is_err());
        assert!(check_platform(&"x".repeat(65)).is_err());
        assert_eq!(client_header(""), format!("app=dev; core={CORE_VERSION}"));
        assert_eq!(clean("1.0; evil\r\n"), "1.0evil");
        assert!(!CURRENT.is_newer_layout());
        assert!(Protocol { major: 1, minor: 3 }.is_newer_layout());
    }

    #[test]
    fn device_reports_parse_strictly_and_refuse_nothing() {
        assert_eq!(parse_outbox("0"), Some(0));
        assert_eq!(parse_outbox("42"), Some(42));
        assert_eq!(parse_outbox("1000000000"), Some(MAX_OUTBOX_REPORT));
        for bad in [
            "",
            "-1",
            "+1",
            " 1",
            "1 ",
            "1e3",
            "0x10",
            "4294967296",
            "9999999999",
            "１",
        ] {
            assert_eq!(parse_outbox(bad), None, "{bad:?}");
        }
        assert_eq!(check_error_code("network"), Some("network"));
        assert_eq!(
            check_error_code("tls_pin_mismatch"),
            Some("tls_pin_mismatch")
        );
        for bad in [
            "",
            "Network",
            "a b",
            "a\u{1b}[2J",
            "网络",
            &"x".repeat(41),
            "a-b",
        ] {
            assert_eq!(check_error_code(bad), None, "{bad:?}");
        }
    }
}
