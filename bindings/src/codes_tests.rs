//! Tests of the error codes (`codes.rs`) with the errors and messages they name: a crate-level
//! test module, so that `codes` itself imports neither `error` nor `messages`
//! (decision 0022: no module cycles).

use crate::codes::*;
use crate::error::ApiError;
use crate::messages::message;
use crate::tls_types::TlsFailure;
use std::collections::HashSet;
use xiangying_core::Denied;
use xiangying_core::case::{CaseKind, Status};
use xiangying_core::org::{Level, Role, ScopeKind};

/// One refusal of each kind, with data.
fn refusals() -> Vec<Denied> {
    let s = |v: &str| v.to_string();
    vec![
        Denied::ServerOnlyVoids,
        Denied::OnlyServerVoids,
        Denied::UnknownAction {
            type_name: s("inspected"),
        },
        Denied::NoValidReport,
        Denied::WrongStatus {
            action: s("close"),
            status: Status::InProgress,
        },
        Denied::AlreadyTaken { by: s("vol1") },
        Denied::AlreadyReported,
        Denied::NotTheReporter {
            reporter: s("gw1"),
            person: s("gw2"),
        },
        Denied::OutsideOwnPlace {
            role: Role::GridWorker,
            kind: CaseKind::Problem,
            scope: ScopeKind::Grid,
        },
        Denied::RoleMayNotRaise {
            role: Role::Volunteer,
            kind: CaseKind::Problem,
        },
        Denied::NewCaseAssignee,
        Denied::NoteNeedsText,
        Denied::NotInvolved { person: s("gw2") },
        Denied::NotHolder {
            person: s("gw2"),
            holder: Some(s("gw1")),
        },
        Denied::OnSpotNotAllowed,
        Denied::AfterPhotoRequired,
        Denied::ForwardOnlyGridLevel,
        Denied::ForwardToSelf,
        Denied::RequestNotEscalated,
        Denied::StreetLevelDispatches,
        Denied::EscalateWrongRole {
            role: Role::GridWorker,
            level: Level::Grid,
        },
        Denied::EscalateWrongTarget {
            level: Level::Grid,
            next: Level::Community,
        },
        Denied::EscalationNeedsReason,
        Denied::RequestToVolunteers,
        Denied::DispatchOnlyCentre,
        Denied::DispatchOnlyStreetLevel,
        Denied::NoDepartment,
        Denied::VolunteersOnlyRequests,
        Denied::VolunteersOnlyChief,
        Denied::ClaimOnlyVolunteer,
        Denied::EvidenceRequired,
        Denied::MayNotVerify { person: s("gw1") },
        Denied::MayNotRework { person: s("gw1") },
        Denied::ReworkNeedsReason,
        Denied::ExtensionHours,
        Denied::ExtendOnlySupervisor,
        Denied::DeadlineAlreadyLater,
        Denied::MayNotClose { person: s("gw1") },
        Denied::MayNotVoid,
        Denied::VoidNeedsReason,
        Denied::DuplicateOfItself,
        Denied::MayNotMarkDuplicate,
        Denied::UnknownPatrolEntry {
            type_name: s("paused"),
        },
        Denied::PatrolOnlyServerVoids,
        Denied::PatrolServerOnlyVoids,
        Denied::NotTheWalker { walker: s("gw1") },
        Denied::RoleDoesNotAccompany {
            role: Role::Volunteer,
        },
        Denied::WalkerAccompaniesSelf,
        Denied::GridWorkerOnSegmentsOnly,
        Denied::CompanionAlreadyRecorded { person: s("off1") },
        Denied::PatrolAlreadyEnded { at: 1 },
        Denied::NoSuchAccompaniment {
            accompaniment: s("e1"),
        },
        Denied::NotTheCompanion {
            person: s("off1"),
            accompaniment: s("e1"),
        },
        Denied::AlreadyConfirmed {
            accompaniment: s("e1"),
            at: 1,
        },
        Denied::DoesNotPatrol {
            role: Role::Volunteer,
            scope: s("Community(\"c1\")"),
            place_kind: s("grid"),
            place: s("g1"),
        },
        Denied::PatrolUnderWay { patrol: s("p1") },
        Denied::PatrolEnded { patrol: s("p1") },
        Denied::NothingToConfirm {
            patrol: s("p1"),
            person: s("off1"),
        },
        Denied::WalkedByOther {
            patrol: s("p1"),
            walker: s("gw1"),
        },
        Denied::Recorded(s("cannot close a case that is closed")),
    ]
}

/// One error of every code: the refusals as the core hands them over, the rest by
/// variant.
fn samples() -> Vec<ApiError> {
    let mut all: Vec<ApiError> = refusals()
        .into_iter()
        .map(|reason| {
            xiangying_core::Error::NotAllowed {
                action: "close".into(),
                reason,
            }
            .into()
        })
        .collect();
    let d = |detail: &str| detail.to_string();
    all.extend([
        ApiError::NotFound {
            what: d("case"),
            id: d("x"),
        },
        ApiError::InvalidInput {
            field: d("platform"),
            problem: d("'\\n' cannot go in an HTTP header"),
        },
        ApiError::Storage { detail: d("disk") },
        ApiError::Network {
            detail: d("refused"),
        },
        ApiError::Unauthorised {
            detail: d("revoked"),
        },
        ApiError::Cancelled { detail: d("x") },
        ApiError::UpgradeRequired { detail: d("x") },
        ApiError::ServerTooOld { detail: d("x") },
        ApiError::CorruptCase {
            case_id: d("c"),
            reason: d("x"),
        },
        ApiError::NotSetUp { detail: d("x") },
        ApiError::Internal { detail: d("x") },
    ]);
    for failure in [
        TlsFailure::UnknownIssuer,
        TlsFailure::PinMismatch,
        TlsFailure::Expired,
        TlsFailure::NameMismatch,
        TlsFailure::Other,
    ] {
        all.push(ApiError::TlsRefused {
            failure,
            detail: d("invalid peer certificate"),
        });
    }
    for code in [
        ErrorCode::PhotoTooLarge,
        ErrorCode::PhotoTooManyPixels,
        ErrorCode::PhotoUnsupportedFormat,
        ErrorCode::PhotoHeic,
        ErrorCode::PhotoCorrupt,
        ErrorCode::PhotoEncode,
    ] {
        all.push(ApiError::PhotoRejected {
            reason: d("x"),
            code,
        });
    }
    for code in [
        "quarantined",
        "tampering",
        "forbidden",
        "bad_request",
        "too_large",
        "over_limit",
        "overloaded",
        "device_busy",
        "too_many_requests",
        "expired",
        "conflict",
        "no_org",
        "a_code_of_a_newer_server",
    ] {
        all.push(ApiError::ServerRejected {
            status: 400,
            code: d(code),
            detail: d("x"),
        });
    }
    all
}

#[test]
fn every_code_has_a_message_in_both_languages_that_differ() {
    let mut seen = HashSet::new();
    for e in samples() {
        let code = e.code();
        seen.insert(code);
        let (zh, en) = (message(&e, "zh-Hans-CN"), message(&e, "en-US"));
        assert!(!zh.trim().is_empty() && !en.trim().is_empty(), "{code:?}");
        assert_ne!(zh, en, "{code:?}");
        assert!(
            zh.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c)),
            "{zh}"
        );
        assert!(en.chars().any(|c| c.is_ascii_alphabetic()), "{en}");
    }
    let missing: Vec<_> = ErrorCode::ALL
        .iter()
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missing.is_empty(), "codes without a sample: {missing:?}");
}

#[test]
fn codes_are_unique_and_match_the_rules_codes() {
    let names: HashSet<_> = ErrorCode::ALL.iter().map(|c| c.as_str()).collect();
    assert_eq!(names.len(), ErrorCode::ALL.len());
    for d in refusals() {
        assert_eq!(ErrorCode::from(&d).as_str(), d.code(), "{d:?}");
    }
    for r in xiangying_core::sync::refusal::Refusal::ALL {
        let c = ErrorCode::of_server(r.code());
        if r.code() == "unknown" {
            assert_eq!(c, ErrorCode::ServerRejected);
        } else {
            assert_eq!(c.as_str(), r.code());
        }
    }
}

#[test]
fn docs_errors_lists_every_code() {
    let doc = include_str!("../../docs/ERRORS.md");
    for c in ErrorCode::ALL {
        assert!(
            doc.contains(&format!("| `{}` |", c.as_str())),
            "docs/ERRORS.md does not list `{}`",
            c.as_str()
        );
    }
}

/// Prints the table of docs/ERRORS.md (`cargo test -p xiangying-ffi --lib
/// print_the_errors_table -- --ignored --nocapture`): every code with a sample message.
#[test]
#[ignore]
fn print_the_errors_table() {
    let mut seen = HashSet::new();
    for e in samples() {
        let code = e.code();
        if !seen.insert(code) {
            continue;
        }
        println!(
            "| `{}` | {} | {} | {} |",
            code.as_str(),
            variant(&e),
            message(&e, "en").replace('|', "\\|"),
            message(&e, "zh").replace('|', "\\|")
        );
    }
}

/// The variant's name, as Kotlin's subclass and Swift's case spell it.
fn variant(e: &ApiError) -> &'static str {
    match e {
        ApiError::NotAllowed { .. } => "NotAllowed",
        ApiError::NotFound { .. } => "NotFound",
        ApiError::InvalidInput { .. } => "InvalidInput",
        ApiError::Storage { .. } => "Storage",
        ApiError::Network { .. } => "Network",
        ApiError::Unauthorised { .. } => "Unauthorised",
        ApiError::PhotoRejected { .. } => "PhotoRejected",
        ApiError::ServerRejected { .. } => "ServerRejected",
        ApiError::Cancelled { .. } => "Cancelled",
        ApiError::UpgradeRequired { .. } => "UpgradeRequired",
        ApiError::ServerTooOld { .. } => "ServerTooOld",
        ApiError::CorruptCase { .. } => "CorruptCase",
        ApiError::NotSetUp { .. } => "NotSetUp",
        ApiError::Internal { .. } => "Internal",
        ApiError::TlsRefused { .. } => "TlsRefused",
    }
}

#[test]
fn a_refusal_keeps_its_english_words_and_gains_chinese_ones() {
    let e: ApiError = xiangying_core::Error::NotAllowed {
        action: "escalate".into(),
        reason: Denied::NotHolder {
            person: "gw2".into(),
            holder: Some("gw1".into()),
        },
    }
    .into();
    assert_eq!(
        e.to_string(),
        "cannot escalate: gw2 does not hold this case (gw1 does)"
    );
    assert_eq!(e.code(), ErrorCode::NotHolder);
    assert_eq!(message(&e, "en"), "gw2 does not hold this case (gw1 does).");
    assert_eq!(message(&e, "zh-Hans"), "这个案件不在gw2手上，在gw1手上。");
}
