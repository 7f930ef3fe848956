//! [`ErrorCode`]: the one documented list of stable codes for every error that crosses the
//! FFI. Each [`crate::ApiError`] has one ([`crate::ApiError::code`]): a code per variant, finer codes where
//! an app acts differently (a photo's problem, the server's refusal codes of decision 0025,
//! and one code per refusal of the case and patrol rules, [`Denied`]).
//!
//! Compatibility rules (decision 0020, 0033): a code is never renamed and never reused for
//! another reason; new codes may be added in any release; an app that meets a code it does not
//! know (a newer core's, or [`ErrorCode::ServerRejected`] for a server code this build does
//! not know) acts on the error's variant. Every code, its meaning and its English and Chinese
//! message are listed in `docs/ERRORS.md`.

use xiangying_core::Denied;

/// The stable code of an error. Its snake_case form ([`error_code_name`]) is what logs and
/// the server use (`ServerRejected.code` carries the server's codes in that form).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, uniffi::Enum)]
pub enum ErrorCode {
    // ---- one per variant, and finer photo and server codes ----
    /// `not_allowed`: A rule refused the action; the reason was read back from its stored words (no finer code known).
    NotAllowed,
    /// `not_found`: Something named does not exist on this device, or the server does not show it to this device.
    NotFound,
    /// `invalid_input`: An input (or a roster or catalogue file) is invalid; the error names the field.
    InvalidInput,
    /// `storage`: The device store failed (disk full, an unwritable file, a store from a newer app).
    Storage,
    /// `network`: The server could not be reached, or the connection broke.
    Network,
    /// `unauthorised`: The server refused this device's token, or an enrolment code.
    Unauthorised,
    /// `cancelled`: The caller cancelled the work.
    Cancelled,
    /// `upgrade_required`: The server no longer answers this app's protocol: upgrade the app.
    UpgradeRequired,
    /// `server_too_old`: The server is older than this app's protocol: upgrade the server.
    ServerTooOld,
    /// `corrupt_case`: One case's stored document cannot be read.
    CorruptCase,
    /// `not_set_up`: The device has no roster or no enrolled person yet.
    NotSetUp,
    /// `internal`: A bug, or a failure inside the server (with an id for its log).
    Internal,
    /// `photo_too_large`: A photo's file is larger than the limit.
    PhotoTooLarge,
    /// `photo_too_many_pixels`: A photo has more pixels than the limit.
    PhotoTooManyPixels,
    /// `photo_unsupported_format`: A photo is not JPEG, PNG or WebP.
    PhotoUnsupportedFormat,
    /// `photo_heic`: A photo is HEIC/HEIF: the platform must convert it to JPEG first.
    PhotoHeic,
    /// `photo_corrupt`: A photo's bytes are damaged.
    PhotoCorrupt,
    /// `photo_encode`: A photo could not be encoded as JPEG.
    PhotoEncode,
    /// `server_rejected`: The server refused with a code this build does not know (or none): act on the HTTP status.
    ServerRejected,
    /// `quarantined`: The server quarantined this device for tampering.
    Quarantined,
    /// `tampering`: A push tried to rewrite history or forge an author.
    Tampering,
    /// `forbidden`: The server does not let this person do this (e.g. a write outside their scope).
    Forbidden,
    /// `bad_request`: The server could not read the request.
    BadRequest,
    /// `too_large`: A request body is larger than the server allows.
    TooLarge,
    /// `over_limit`: A push crosses a limit the server names.
    OverLimit,
    /// `overloaded`: The server is serving as much as it may; retry later.
    Overloaded,
    /// `device_busy`: This device already has requests in flight.
    DeviceBusy,
    /// `too_many_requests`: Too many attempts (enrolment codes).
    TooManyRequests,
    /// `expired`: Something expired, e.g. an enrolment code.
    Expired,
    /// `conflict`: The request conflicts with what the server holds (e.g. an upload offset).
    Conflict,
    /// `no_org`: The server has no roster yet.
    NoOrg,
    // ---- the case and patrol rules' refusals (ApiError::NotAllowed) ----
    /// `server_only_voids`: A server event that is not a void.
    ServerOnlyVoids,
    /// `only_server_voids`: A person's event that is a server void.
    OnlyServerVoids,
    /// `unknown_action`: An action type this build does not know (a newer app wrote it).
    UnknownAction,
    /// `no_valid_report`: Any action before the case's report took effect.
    NoValidReport,
    /// `wrong_status`: The action cannot start from the case's status.
    WrongStatus,
    /// `already_taken`: A claim on a request another volunteer took first.
    AlreadyTaken,
    /// `already_reported`: A second report.
    AlreadyReported,
    /// `not_the_reporter`: The report's author is not the reporter the facts name.
    NotTheReporter,
    /// `outside_own_place`: The role raises this kind of case only in its own place.
    OutsideOwnPlace,
    /// `role_may_not_raise`: The role never raises this kind of case.
    RoleMayNotRaise,
    /// `new_case_assignee`: A new case sent to a pool or departments.
    NewCaseAssignee,
    /// `note_needs_text`: A note without text.
    NoteNeedsText,
    /// `not_involved`: The person has nothing to do with the case.
    NotInvolved,
    /// `not_holder`: The action needs the case's holder.
    NotHolder,
    /// `on_spot_not_allowed`: On-the-spot handling by a role or at a level that may not.
    OnSpotNotAllowed,
    /// `after_photo_required`: On-the-spot handling without an after photo.
    AfterPhotoRequired,
    /// `forward_only_grid_level`: Forwarding above the grid level.
    ForwardOnlyGridLevel,
    /// `forward_to_self`: Forwarding to oneself.
    ForwardToSelf,
    /// `request_not_escalated`: Escalating a resident request.
    RequestNotEscalated,
    /// `street_level_dispatches`: Escalating a street-level case.
    StreetLevelDispatches,
    /// `escalate_wrong_role`: Escalating by a role that does not escalate from this level.
    EscalateWrongRole,
    /// `escalate_wrong_target`: Escalating to a level (or an assignee) other than the next one.
    EscalateWrongTarget,
    /// `escalation_needs_reason`: Escalating without a reason.
    EscalationNeedsReason,
    /// `request_to_volunteers`: Dispatching a resident request to departments.
    RequestToVolunteers,
    /// `dispatch_only_centre`: Dispatching to departments by anyone but the centre.
    DispatchOnlyCentre,
    /// `dispatch_only_street_level`: Dispatching a case below the street level to departments.
    DispatchOnlyStreetLevel,
    /// `no_department`: Dispatching to no department.
    NoDepartment,
    /// `volunteers_only_requests`: A problem sent to the volunteers' pool.
    VolunteersOnlyRequests,
    /// `volunteers_only_chief`: The volunteers' pool filled by anyone but the community's chief.
    VolunteersOnlyChief,
    /// `claim_only_volunteer`: A claim by someone other than a volunteer of the pool's community.
    ClaimOnlyVolunteer,
    /// `evidence_required`: Resolving without a photo or a note.
    EvidenceRequired,
    /// `may_not_verify`: Verifying by someone who may not (the handler, or someone unrelated).
    MayNotVerify,
    /// `may_not_rework`: Sending work back by someone who may not.
    MayNotRework,
    /// `rework_needs_reason`: Sending work back without saying why.
    ReworkNeedsReason,
    /// `extension_hours`: An extension outside 1 to 720 hours.
    ExtensionHours,
    /// `extend_only_supervisor`: Extending by anyone but a supervisor.
    ExtendOnlySupervisor,
    /// `deadline_already_later`: An extension that would not move the deadline later (another one gave more already).
    DeadlineAlreadyLater,
    /// `may_not_close`: Closing by someone who may not.
    MayNotClose,
    /// `may_not_void`: Voiding by someone who may not.
    MayNotVoid,
    /// `void_needs_reason`: Voiding without a reason.
    VoidNeedsReason,
    /// `duplicate_of_itself`: Marking a case a duplicate of itself.
    DuplicateOfItself,
    /// `may_not_mark_duplicate`: Marking a duplicate by someone who may not.
    MayNotMarkDuplicate,
    /// `unknown_patrol_entry`: A patrol entry type this build does not know.
    UnknownPatrolEntry,
    /// `patrol_only_server_voids`: A person's patrol entry that is a server void.
    PatrolOnlyServerVoids,
    /// `patrol_server_only_voids`: A server patrol entry that is not a void.
    PatrolServerOnlyVoids,
    /// `not_the_walker`: A patrol entry by someone other than its walker.
    NotTheWalker,
    /// `role_does_not_accompany`: A companion whose role does not accompany patrols.
    RoleDoesNotAccompany,
    /// `walker_accompanies_self`: The walker named as their own companion.
    WalkerAccompaniesSelf,
    /// `grid_worker_on_segments_only`: A grid worker named on a grid patrol.
    GridWorkerOnSegmentsOnly,
    /// `companion_already_recorded`: The same companion twice.
    CompanionAlreadyRecorded,
    /// `patrol_already_ended`: A second end.
    PatrolAlreadyEnded,
    /// `no_such_accompaniment`: A confirmation of an accompaniment the patrol does not record.
    NoSuchAccompaniment,
    /// `not_the_companion`: A confirmation by someone other than the companion it names.
    NotTheCompanion,
    /// `already_confirmed`: A second confirmation.
    AlreadyConfirmed,
    /// `does_not_patrol`: Starting a patrol of a place the person does not patrol.
    DoesNotPatrol,
    /// `patrol_under_way`: Starting a patrol while another is under way.
    PatrolUnderWay,
    /// `patrol_ended`: Recording a track on an ended patrol.
    PatrolEnded,
    /// `nothing_to_confirm`: Confirming on a patrol that awaits no confirmation by this person.
    NothingToConfirm,
    /// `walked_by_other`: Writing to another walker's patrol.
    WalkedByOther,
    // ---- the server's certificate refused (ApiError::TlsRefused, decision 0030) ----
    /// `tls_unknown_issuer`: The server's certificate leads to no authority this device trusts (a wrong or missing private CA, or someone in the middle).
    TlsUnknownIssuer,
    /// `tls_pin_mismatch`: The server's certificate verified, but no certificate in its chain has one of the enrolment's pins.
    TlsPinMismatch,
    /// `tls_expired`: A certificate of the server's chain has expired or is not valid yet (check the phone's clock).
    TlsExpired,
    /// `tls_name_mismatch`: The server's certificate is not for the host in the server URL.
    TlsNameMismatch,
    /// `tls_other`: The server's certificate or the TLS handshake's terms were refused otherwise.
    TlsOther,
}

impl ErrorCode {
    /// Every code, in the order of `docs/ERRORS.md`.
    pub const ALL: [ErrorCode; 95] = [
        ErrorCode::NotAllowed,
        ErrorCode::NotFound,
        ErrorCode::InvalidInput,
        ErrorCode::Storage,
        ErrorCode::Network,
        ErrorCode::Unauthorised,
        ErrorCode::Cancelled,
        ErrorCode::UpgradeRequired,
        ErrorCode::ServerTooOld,
        ErrorCode::CorruptCase,
        ErrorCode::NotSetUp,
        ErrorCode::Internal,
        ErrorCode::PhotoTooLarge,
        ErrorCode::PhotoTooManyPixels,
        ErrorCode::PhotoUnsupportedFormat,
        ErrorCode::PhotoHeic,
        ErrorCode::PhotoCorrupt,
        ErrorCode::PhotoEncode,
        ErrorCode::ServerRejected,
        ErrorCode::Quarantined,
        ErrorCode::Tampering,
        ErrorCode::Forbidden,
        ErrorCode::BadRequest,
        ErrorCode::TooLarge,
        ErrorCode::OverLimit,
        ErrorCode::Overloaded,
        ErrorCode::DeviceBusy,
        ErrorCode::TooManyRequests,
        ErrorCode::Expired,
        ErrorCode::Conflict,
        ErrorCode::NoOrg,
        ErrorCode::ServerOnlyVoids,
        ErrorCode::OnlyServerVoids,
        ErrorCode::UnknownAction,
        ErrorCode::NoValidReport,
        ErrorCode::WrongStatus,
        ErrorCode::AlreadyTaken,
        ErrorCode::AlreadyReported,
        ErrorCode::NotTheReporter,
        ErrorCode::OutsideOwnPlace,
        ErrorCode::RoleMayNotRaise,
        ErrorCode::NewCaseAssignee,
        ErrorCode::NoteNeedsText,
        ErrorCode::NotInvolved,
        ErrorCode::NotHolder,
        ErrorCode::OnSpotNotAllowed,
        ErrorCode::AfterPhotoRequired,
        ErrorCode::ForwardOnlyGridLevel,
        ErrorCode::ForwardToSelf,
        ErrorCode::RequestNotEscalated,
        ErrorCode::StreetLevelDispatches,
        ErrorCode::EscalateWrongRole,
        ErrorCode::EscalateWrongTarget,
        ErrorCode::EscalationNeedsReason,
        ErrorCode::RequestToVolunteers,
        ErrorCode::DispatchOnlyCentre,
        ErrorCode::DispatchOnlyStreetLevel,
        ErrorCode::NoDepartment,
        ErrorCode::VolunteersOnlyRequests,
        ErrorCode::VolunteersOnlyChief,
        ErrorCode::ClaimOnlyVolunteer,
        ErrorCode::EvidenceRequired,
        ErrorCode::MayNotVerify,
        ErrorCode::MayNotRework,
        ErrorCode::ReworkNeedsReason,
        ErrorCode::ExtensionHours,
        ErrorCode::ExtendOnlySupervisor,
        ErrorCode::DeadlineAlreadyLater,
        ErrorCode::MayNotClose,
        ErrorCode::MayNotVoid,
        ErrorCode::VoidNeedsReason,
        ErrorCode::DuplicateOfItself,
        ErrorCode::MayNotMarkDuplicate,
        ErrorCode::UnknownPatrolEntry,
        ErrorCode::PatrolOnlyServerVoids,
        ErrorCode::PatrolServerOnlyVoids,
        ErrorCode::NotTheWalker,
        ErrorCode::RoleDoesNotAccompany,
        ErrorCode::WalkerAccompaniesSelf,
        ErrorCode::GridWorkerOnSegmentsOnly,
        ErrorCode::CompanionAlreadyRecorded,
        ErrorCode::PatrolAlreadyEnded,
        ErrorCode::NoSuchAccompaniment,
        ErrorCode::NotTheCompanion,
        ErrorCode::AlreadyConfirmed,
        ErrorCode::DoesNotPatrol,
        ErrorCode::PatrolUnderWay,
        ErrorCode::PatrolEnded,
        ErrorCode::NothingToConfirm,
        ErrorCode::WalkedByOther,
        ErrorCode::TlsUnknownIssuer,
        ErrorCode::TlsPinMismatch,
        ErrorCode::TlsExpired,
        ErrorCode::TlsNameMismatch,
        ErrorCode::TlsOther,
    ];

    /// The stable snake_case name: never renamed, never reused.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::NotAllowed => "not_allowed",
            ErrorCode::NotFound => "not_found",
            ErrorCode::InvalidInput => "invalid_input",
            ErrorCode::Storage => "storage",
            ErrorCode::Network => "network",
            ErrorCode::Unauthorised => "unauthorised",
            ErrorCode::Cancelled => "cancelled",
            ErrorCode::UpgradeRequired => "upgrade_required",
            ErrorCode::ServerTooOld => "server_too_old",
            ErrorCode::CorruptCase => "corrupt_case",
            ErrorCode::NotSetUp => "not_set_up",
            ErrorCode::Internal => "internal",
            ErrorCode::PhotoTooLarge => "photo_too_large",
            ErrorCode::PhotoTooManyPixels => "photo_too_many_pixels",
            ErrorCode::PhotoUnsupportedFormat => "photo_unsupported_format",
            ErrorCode::PhotoHeic => "photo_heic",
            ErrorCode::PhotoCorrupt => "photo_corrupt",
            ErrorCode::PhotoEncode => "photo_encode",
            ErrorCode::ServerRejected => "server_rejected",
            ErrorCode::Quarantined => "quarantined",
            ErrorCode::Tampering => "tampering",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::OverLimit => "over_limit",
            ErrorCode::Overloaded => "overloaded",
            ErrorCode::DeviceBusy => "device_busy",
            ErrorCode::TooManyRequests => "too_many_requests",
            ErrorCode::Expired => "expired",
            ErrorCode::Conflict => "conflict",
            ErrorCode::NoOrg => "no_org",
            ErrorCode::ServerOnlyVoids => "server_only_voids",
            ErrorCode::OnlyServerVoids => "only_server_voids",
            ErrorCode::UnknownAction => "unknown_action",
            ErrorCode::NoValidReport => "no_valid_report",
            ErrorCode::WrongStatus => "wrong_status",
            ErrorCode::AlreadyTaken => "already_taken",
            ErrorCode::AlreadyReported => "already_reported",
            ErrorCode::NotTheReporter => "not_the_reporter",
            ErrorCode::OutsideOwnPlace => "outside_own_place",
            ErrorCode::RoleMayNotRaise => "role_may_not_raise",
            ErrorCode::NewCaseAssignee => "new_case_assignee",
            ErrorCode::NoteNeedsText => "note_needs_text",
            ErrorCode::NotInvolved => "not_involved",
            ErrorCode::NotHolder => "not_holder",
            ErrorCode::OnSpotNotAllowed => "on_spot_not_allowed",
            ErrorCode::AfterPhotoRequired => "after_photo_required",
            ErrorCode::ForwardOnlyGridLevel => "forward_only_grid_level",
            ErrorCode::ForwardToSelf => "forward_to_self",
            ErrorCode::RequestNotEscalated => "request_not_escalated",
            ErrorCode::StreetLevelDispatches => "street_level_dispatches",
            ErrorCode::EscalateWrongRole => "escalate_wrong_role",
            ErrorCode::EscalateWrongTarget => "escalate_wrong_target",
            ErrorCode::EscalationNeedsReason => "escalation_needs_reason",
            ErrorCode::RequestToVolunteers => "request_to_volunteers",
            ErrorCode::DispatchOnlyCentre => "dispatch_only_centre",
            ErrorCode::DispatchOnlyStreetLevel => "dispatch_only_street_level",
            ErrorCode::NoDepartment => "no_department",
            ErrorCode::VolunteersOnlyRequests => "volunteers_only_requests",
            ErrorCode::VolunteersOnlyChief => "volunteers_only_chief",
            ErrorCode::ClaimOnlyVolunteer => "claim_only_volunteer",
            ErrorCode::EvidenceRequired => "evidence_required",
            ErrorCode::MayNotVerify => "may_not_verify",
            ErrorCode::MayNotRework => "may_not_rework",
            ErrorCode::ReworkNeedsReason => "rework_needs_reason",
            ErrorCode::ExtensionHours => "extension_hours",
            ErrorCode::ExtendOnlySupervisor => "extend_only_supervisor",
            ErrorCode::DeadlineAlreadyLater => "deadline_already_later",
            ErrorCode::MayNotClose => "may_not_close",
            ErrorCode::MayNotVoid => "may_not_void",
            ErrorCode::VoidNeedsReason => "void_needs_reason",
            ErrorCode::DuplicateOfItself => "duplicate_of_itself",
            ErrorCode::MayNotMarkDuplicate => "may_not_mark_duplicate",
            ErrorCode::UnknownPatrolEntry => "unknown_patrol_entry",
            ErrorCode::PatrolOnlyServerVoids => "patrol_only_server_voids",
            ErrorCode::PatrolServerOnlyVoids => "patrol_server_only_voids",
            ErrorCode::NotTheWalker => "not_the_walker",
            ErrorCode::RoleDoesNotAccompany => "role_does_not_accompany",
            ErrorCode::WalkerAccompaniesSelf => "walker_accompanies_self",
            ErrorCode::GridWorkerOnSegmentsOnly => "grid_worker_on_segments_only",
            ErrorCode::CompanionAlreadyRecorded => "companion_already_recorded",
            ErrorCode::PatrolAlreadyEnded => "patrol_already_ended",
            ErrorCode::NoSuchAccompaniment => "no_such_accompaniment",
            ErrorCode::NotTheCompanion => "not_the_companion",
            ErrorCode::AlreadyConfirmed => "already_confirmed",
            ErrorCode::DoesNotPatrol => "does_not_patrol",
            ErrorCode::PatrolUnderWay => "patrol_under_way",
            ErrorCode::PatrolEnded => "patrol_ended",
            ErrorCode::NothingToConfirm => "nothing_to_confirm",
            ErrorCode::WalkedByOther => "walked_by_other",
            ErrorCode::TlsUnknownIssuer => "tls_unknown_issuer",
            ErrorCode::TlsPinMismatch => "tls_pin_mismatch",
            ErrorCode::TlsExpired => "tls_expired",
            ErrorCode::TlsNameMismatch => "tls_name_mismatch",
            ErrorCode::TlsOther => "tls_other",
        }
    }

    /// The code of a server's refusal code (decision 0025's table): a code this build does not
    /// know, or none, is [`ErrorCode::ServerRejected`].
    pub fn of_server(code: &str) -> ErrorCode {
        match code {
            "unauthorised" => ErrorCode::Unauthorised,
            "quarantined" => ErrorCode::Quarantined,
            "tampering" => ErrorCode::Tampering,
            "forbidden" => ErrorCode::Forbidden,
            "bad_request" => ErrorCode::BadRequest,
            "upgrade_required" => ErrorCode::UpgradeRequired,
            "server_too_old" => ErrorCode::ServerTooOld,
            "too_large" => ErrorCode::TooLarge,
            "over_limit" => ErrorCode::OverLimit,
            "overloaded" => ErrorCode::Overloaded,
            "device_busy" => ErrorCode::DeviceBusy,
            "too_many_requests" => ErrorCode::TooManyRequests,
            "expired" => ErrorCode::Expired,
            "not_found" => ErrorCode::NotFound,
            "conflict" => ErrorCode::Conflict,
            "no_org" => ErrorCode::NoOrg,
            "internal" => ErrorCode::Internal,
            _ => ErrorCode::ServerRejected,
        }
    }
}

impl From<&Denied> for ErrorCode {
    fn from(d: &Denied) -> ErrorCode {
        match d {
            Denied::ServerOnlyVoids => ErrorCode::ServerOnlyVoids,
            Denied::OnlyServerVoids => ErrorCode::OnlyServerVoids,
            Denied::UnknownAction { .. } => ErrorCode::UnknownAction,
            Denied::NoValidReport => ErrorCode::NoValidReport,
            Denied::WrongStatus { .. } => ErrorCode::WrongStatus,
            Denied::AlreadyTaken { .. } => ErrorCode::AlreadyTaken,
            Denied::AlreadyReported => ErrorCode::AlreadyReported,
            Denied::NotTheReporter { .. } => ErrorCode::NotTheReporter,
            Denied::OutsideOwnPlace { .. } => ErrorCode::OutsideOwnPlace,
            Denied::RoleMayNotRaise { .. } => ErrorCode::RoleMayNotRaise,
            Denied::NewCaseAssignee => ErrorCode::NewCaseAssignee,
            Denied::NoteNeedsText => ErrorCode::NoteNeedsText,
            Denied::NotInvolved { .. } => ErrorCode::NotInvolved,
            Denied::NotHolder { .. } => ErrorCode::NotHolder,
            Denied::OnSpotNotAllowed => ErrorCode::OnSpotNotAllowed,
            Denied::AfterPhotoRequired => ErrorCode::AfterPhotoRequired,
            Denied::ForwardOnlyGridLevel => ErrorCode::ForwardOnlyGridLevel,
            Denied::ForwardToSelf => ErrorCode::ForwardToSelf,
            Denied::RequestNotEscalated => ErrorCode::RequestNotEscalated,
            Denied::StreetLevelDispatches => ErrorCode::StreetLevelDispatches,
            Denied::EscalateWrongRole { .. } => ErrorCode::EscalateWrongRole,
            Denied::EscalateWrongTarget { .. } => ErrorCode::EscalateWrongTarget,
            Denied::EscalationNeedsReason => ErrorCode::EscalationNeedsReason,
            Denied::RequestToVolunteers => ErrorCode::RequestToVolunteers,
            Denied::DispatchOnlyCentre => ErrorCode::DispatchOnlyCentre,
            Denied::DispatchOnlyStreetLevel => ErrorCode::DispatchOnlyStreetLevel,
            Denied::NoDepartment => ErrorCode::NoDepartment,
            Denied::VolunteersOnlyRequests => ErrorCode::VolunteersOnlyRequests,
            Denied::VolunteersOnlyChief => ErrorCode::VolunteersOnlyChief,
            Denied::ClaimOnlyVolunteer => ErrorCode::ClaimOnlyVolunteer,
            Denied::EvidenceRequired => ErrorCode::EvidenceRequired,
            Denied::MayNotVerify { .. } => ErrorCode::MayNotVerify,
            Denied::MayNotRework { .. } => ErrorCode::MayNotRework,
            Denied::ReworkNeedsReason => ErrorCode::ReworkNeedsReason,
            Denied::ExtensionHours => ErrorCode::ExtensionHours,
            Denied::ExtendOnlySupervisor => ErrorCode::ExtendOnlySupervisor,
            Denied::DeadlineAlreadyLater => ErrorCode::DeadlineAlreadyLater,
            Denied::MayNotClose { .. } => ErrorCode::MayNotClose,
            Denied::MayNotVoid => ErrorCode::MayNotVoid,
            Denied::VoidNeedsReason => ErrorCode::VoidNeedsReason,
            Denied::DuplicateOfItself => ErrorCode::DuplicateOfItself,
            Denied::MayNotMarkDuplicate => ErrorCode::MayNotMarkDuplicate,
            Denied::UnknownPatrolEntry { .. } => ErrorCode::UnknownPatrolEntry,
            Denied::PatrolOnlyServerVoids => ErrorCode::PatrolOnlyServerVoids,
            Denied::PatrolServerOnlyVoids => ErrorCode::PatrolServerOnlyVoids,
            Denied::NotTheWalker { .. } => ErrorCode::NotTheWalker,
            Denied::RoleDoesNotAccompany { .. } => ErrorCode::RoleDoesNotAccompany,
            Denied::WalkerAccompaniesSelf => ErrorCode::WalkerAccompaniesSelf,
            Denied::GridWorkerOnSegmentsOnly => ErrorCode::GridWorkerOnSegmentsOnly,
            Denied::CompanionAlreadyRecorded { .. } => ErrorCode::CompanionAlreadyRecorded,
            Denied::PatrolAlreadyEnded { .. } => ErrorCode::PatrolAlreadyEnded,
            Denied::NoSuchAccompaniment { .. } => ErrorCode::NoSuchAccompaniment,
            Denied::NotTheCompanion { .. } => ErrorCode::NotTheCompanion,
            Denied::AlreadyConfirmed { .. } => ErrorCode::AlreadyConfirmed,
            Denied::DoesNotPatrol { .. } => ErrorCode::DoesNotPatrol,
            Denied::PatrolUnderWay { .. } => ErrorCode::PatrolUnderWay,
            Denied::PatrolEnded { .. } => ErrorCode::PatrolEnded,
            Denied::NothingToConfirm { .. } => ErrorCode::NothingToConfirm,
            Denied::WalkedByOther { .. } => ErrorCode::WalkedByOther,
            Denied::Recorded(_) => ErrorCode::NotAllowed,
        }
    }
}

/// The stable snake_case name of a code (e.g. `not_holder`), for logs and reports.
#[uniffi::export]
pub fn error_code_name(code: ErrorCode) -> String {
    code.as_str().to_string()
}
