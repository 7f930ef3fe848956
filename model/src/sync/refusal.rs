//! Why a server refuses a request: [`Refusal`], one variant per reason, each with a stable
//! code that the server sends as `"code"` in its JSON error bodies and a device reads back.
//!
//! Compatibility rules (decision 0025, beside decision 0020's): a code is never renamed and
//! never reused for another reason; new codes may be added in any release; a reader maps a
//! code it does not know to [`Refusal::Unknown`] and acts on the HTTP status instead. The
//! HTTP status of each reason ([`Refusal::status`]) never changes either, so a phone that reads
//! no code (or a server that sends none) still acts on the status alone
//! ([`Refusal::from_status`]).

use std::fmt;
use std::str::FromStr;

/// Why a server refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    /// No valid token, or an enrolment code that is unknown or used (401, with no body on
    /// authenticated routes).
    Unauthorised,
    /// The device was quarantined for tampering (403).
    Quarantined,
    /// A push tried to rewrite history or forge an author (403); the device gets quarantined.
    Tampering,
    /// The device may not do this, e.g. write to a case outside its person's scope (403).
    Forbidden,
    /// The request is malformed (400).
    BadRequest,
    /// The device's protocol is older than any this server answers: upgrade the app (426).
    UpgradeRequired,
    /// The device's protocol is newer than any this server answers: upgrade the server (426).
    ServerTooOld,
    /// The body is larger than allowed (413).
    TooLarge,
    /// A push crosses a configured limit, named in the body's `limit` and `max` (413).
    OverLimit,
    /// The server is serving as much as it may; retry after `Retry-After` (503).
    Overloaded,
    /// This device already has requests in flight; retry after `Retry-After` (429).
    DeviceBusy,
    /// Too many attempts (enrolment codes); retry after `Retry-After` (429).
    TooManyRequests,
    /// Something that has expired, e.g. an enrolment code (410).
    Expired,
    /// Not found, or not visible to this device (404).
    NotFound,
    /// The request conflicts with what the server holds, e.g. an upload offset (409).
    Conflict,
    /// The server has no roster yet (503).
    NoOrg,
    /// The server failed; the body carries an id for the operator's log (500).
    Internal,
    /// A code this build does not know (a newer server's): act on the HTTP status. Never
    /// sent by a server.
    Unknown,
}

/// A text that is not a refusal code this build knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a refusal code this build knows: {0:?}")]
pub struct UnknownRefusal(pub String);

impl Refusal {
    /// Every reason, in the order of the codes table (decision 0025).
    pub const ALL: [Refusal; 18] = [
        Refusal::Unauthorised,
        Refusal::Quarantined,
        Refusal::Tampering,
        Refusal::Forbidden,
        Refusal::BadRequest,
        Refusal::UpgradeRequired,
        Refusal::ServerTooOld,
        Refusal::TooLarge,
        Refusal::OverLimit,
        Refusal::Overloaded,
        Refusal::DeviceBusy,
        Refusal::TooManyRequests,
        Refusal::Expired,
        Refusal::NotFound,
        Refusal::Conflict,
        Refusal::NoOrg,
        Refusal::Internal,
        Refusal::Unknown,
    ];

    /// The stable snake_case code (never renamed, never reused).
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unauthorised => "unauthorised",
            Refusal::Quarantined => "quarantined",
            Refusal::Tampering => "tampering",
            Refusal::Forbidden => "forbidden",
            Refusal::BadRequest => "bad_request",
            Refusal::UpgradeRequired => "upgrade_required",
            Refusal::ServerTooOld => "server_too_old",
            Refusal::TooLarge => "too_large",
            Refusal::OverLimit => "over_limit",
            Refusal::Overloaded => "overloaded",
            Refusal::DeviceBusy => "device_busy",
            Refusal::TooManyRequests => "too_many_requests",
            Refusal::Expired => "expired",
            Refusal::NotFound => "not_found",
            Refusal::Conflict => "conflict",
            Refusal::NoOrg => "no_org",
            Refusal::Internal => "internal",
            Refusal::Unknown => "unknown",
        }
    }

    /// The HTTP status the server answers this refusal with (never changed).
    pub fn status(self) -> u16 {
        match self {
            Refusal::Unauthorised => 401,
            Refusal::Quarantined | Refusal::Tampering | Refusal::Forbidden => 403,
            Refusal::BadRequest => 400,
            Refusal::UpgradeRequired | Refusal::ServerTooOld => 426,
            Refusal::TooLarge | Refusal::OverLimit => 413,
            Refusal::Overloaded | Refusal::NoOrg => 503,
            Refusal::DeviceBusy | Refusal::TooManyRequests => 429,
            Refusal::Expired => 410,
            Refusal::NotFound => 404,
            Refusal::Conflict => 409,
            Refusal::Internal | Refusal::Unknown => 500,
        }
    }

    /// A code as a reader meets it: a code this build does not know is [`Refusal::Unknown`].
    pub fn read(code: &str) -> Refusal {
        code.parse().unwrap_or(Refusal::Unknown)
    }

    /// The refusal an answer without a code stands for, from its HTTP status alone (an older
    /// server, or a 401 with no body): the most general reason with that status.
    pub fn from_status(status: u16) -> Refusal {
        match status {
            400 => Refusal::BadRequest,
            401 => Refusal::Unauthorised,
            403 => Refusal::Forbidden,
            404 => Refusal::NotFound,
            409 => Refusal::Conflict,
            410 => Refusal::Expired,
            413 => Refusal::TooLarge,
            426 => Refusal::UpgradeRequired,
            429 => Refusal::TooManyRequests,
            503 => Refusal::Overloaded,
            500..=599 => Refusal::Internal,
            _ => Refusal::Unknown,
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Refusal {
    type Err = UnknownRefusal;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Refusal::ALL
            .into_iter()
            .find(|r| r.code() == s)
            .ok_or_else(|| UnknownRefusal(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_round_trips_and_is_unique() {
        let mut seen = HashSet::new();
        for r in Refusal::ALL {
            assert!(seen.insert(r.code()), "{} used twice", r.code());
            assert_eq!(r.code().parse::<Refusal>(), Ok(r));
            assert_eq!(Refusal::read(&r.to_string()), r);
            assert!(
                r.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{} is not snake_case",
                r.code()
            );
        }
    }

    /// The codes servers already send (decision 0025's table): never renamed.
    #[test]
    fn the_published_codes_and_statuses_do_not_change() {
        let table = [
            ("unauthorised", 401),
            ("quarantined", 403),
            ("tampering", 403),
            ("forbidden", 403),
            ("bad_request", 400),
            ("upgrade_required", 426),
            ("server_too_old", 426),
            ("too_large", 413),
            ("over_limit", 413),
            ("overloaded", 503),
            ("device_busy", 429),
            ("too_many_requests", 429),
            ("expired", 410),
            ("not_found", 404),
            ("conflict", 409),
            ("no_org", 503),
            ("internal", 500),
            ("unknown", 500),
        ];
        let got: Vec<(&str, u16)> = Refusal::ALL
            .iter()
            .map(|r| (r.code(), r.status()))
            .collect();
        assert_eq!(got, table);
    }

    #[test]
    fn an_unknown_code_reads_as_the_catch_all_and_names_itself() {
        assert_eq!(Refusal::read("time_travel"), Refusal::Unknown);
        assert_eq!(Refusal::read(""), Refusal::Unknown);
        let err = "Forbidden".parse::<Refusal>().unwrap_err();
        assert_eq!(err, UnknownRefusal("Forbidden".into()));
        assert!(err.to_string().contains("\"Forbidden\""), "{err}");
    }

    #[test]
    fn an_answer_without_a_code_is_read_from_its_status() {
        for r in Refusal::ALL {
            // The general reason of each status answers with that status.
            assert_eq!(Refusal::from_status(r.status()).status(), r.status());
        }
        assert_eq!(Refusal::from_status(401), Refusal::Unauthorised);
        assert_eq!(Refusal::from_status(502), Refusal::Internal);
        assert_eq!(Refusal::from_status(418), Refusal::Unknown);
    }
}
