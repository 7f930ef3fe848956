//! Why the rules refuse an action: [`Denied`], one variant per distinct refusal of the case
//! rules (the fold's gates and transitions, [`crate::case::rules`]), the patrol rules
//! ([`crate::patrol`]) and the device's own checks before it writes, each with the data its
//! sentence needs.
//!
//! A refusal has a stable snake_case code ([`Denied::code`]: never renamed, never reused; see
//! `docs/ERRORS.md` and decision 0033), an English sentence (its `Display`, the wording the
//! rules always used, so folds, logs and exports read as before) and a Simplified Chinese one
//! ([`Denied::zh`]) written for the grid worker who sees it.
//!
//! A refusal is stored in a folded history ([`crate::case::Outcome::Rejected`]) and serialised
//! as its English sentence, as the reason always was; a sentence read back is
//! [`Denied::Recorded`], which keeps the words but no longer knows the reason.

use super::facts::CaseKind;
use super::status::Status;
use crate::org::{Level, Role, ScopeKind};
use serde::{Deserialize, Serialize};

/// Why the rules refuse an action. `Display` gives the English sentence, [`Denied::zh`] the
/// Chinese one, [`Denied::code`] the stable code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, Serialize, Deserialize)]
#[serde(into = "String", from = "String")]
pub enum Denied {
    // ---- the case fold's gates ----
    /// A server event that is not a void.
    #[error("a server may only void events")]
    ServerOnlyVoids,
    /// A person's event that is a server void.
    #[error("only a server may void events")]
    OnlyServerVoids,
    /// An action type this build does not know (a newer app wrote it).
    #[error("this app does not know the action `{type_name}`; an update shows it")]
    UnknownAction {
        /// The action's type as written.
        type_name: String,
    },
    /// Any action before the case's report took effect.
    #[error("the case has no valid report")]
    NoValidReport,
    /// The action cannot start from the case's status.
    #[error("cannot {action} a case that is {}", .status.as_str())]
    WrongStatus {
        /// The action tried ([`crate::case::Action::name`]).
        action: String,
        /// The case's status.
        status: Status,
    },
    /// A claim on a request another volunteer took first.
    #[error("already taken by {by}")]
    AlreadyTaken {
        /// Who took it.
        by: String,
    },
    // ---- raising a case ----
    /// A second report.
    #[error("the case was already reported")]
    AlreadyReported,
    /// The report's author is not the reporter the facts name.
    #[error("the report must be by the reporter {reporter}, not {person}")]
    NotTheReporter {
        /// The reporter in the facts.
        reporter: String,
        /// Who wrote the report.
        person: String,
    },
    /// The role raises this kind of case only in its own place.
    #[error("a {} may only raise a {} in their own {}", .role.as_str(), .kind.as_str(), .scope.as_str())]
    OutsideOwnPlace {
        /// The author's role.
        role: Role,
        /// Problem or request.
        kind: CaseKind,
        /// The kind of place the role holds.
        scope: ScopeKind,
    },
    /// The role never raises this kind of case.
    #[error("a {} ({}) may not raise a {}", .role.as_str(), .role.label_zh(), .kind.as_str())]
    RoleMayNotRaise {
        /// The author's role.
        role: Role,
        /// Problem or request.
        kind: CaseKind,
    },
    /// A new case sent to a pool or departments.
    #[error("a new case goes to one person (or the centre)")]
    NewCaseAssignee,
    // ---- who may act ----
    /// A note without text.
    #[error("a note needs text")]
    NoteNeedsText,
    /// The person has nothing to do with the case.
    #[error("{person} is not involved in this case")]
    NotInvolved {
        /// The person.
        person: String,
    },
    /// The action needs the case's holder.
    #[error("{person} does not hold this case{}", .holder.as_ref().map(|h| format!(" ({h} does)")).unwrap_or_default())]
    NotHolder {
        /// The person who tried.
        person: String,
        /// The person who holds it, when one person does.
        holder: Option<String>,
    },
    // ---- handling, forwarding, escalating, dispatching ----
    /// On-the-spot handling by a role or at a level that may not.
    #[error("only a grid worker or street chief may handle a grid-level case on the spot")]
    OnSpotNotAllowed,
    /// On-the-spot handling without an after photo.
    #[error("an after photo is required to handle on the spot")]
    AfterPhotoRequired,
    /// Forwarding above the grid level.
    #[error("only a grid-level case can be forwarded; escalate instead")]
    ForwardOnlyGridLevel,
    /// Forwarding to oneself.
    #[error("cannot forward a case to oneself")]
    ForwardToSelf,
    /// Escalating a resident request.
    #[error("resident requests are dispatched, not escalated")]
    RequestNotEscalated,
    /// Escalating a street-level case.
    #[error("the street level dispatches to departments instead of escalating")]
    StreetLevelDispatches,
    /// Escalating by a role that does not escalate from this level.
    #[error("only the {} may escalate a {}-level case", .role.as_str(), .level.as_str())]
    EscalateWrongRole {
        /// The role that escalates from this level.
        role: Role,
        /// The case's level.
        level: Level,
    },
    /// Escalating to a level (or an assignee) other than the next one.
    #[error("a {}-level case escalates to the {} level", .level.as_str(), .next.as_str())]
    EscalateWrongTarget {
        /// The case's level.
        level: Level,
        /// The level it escalates to.
        next: Level,
    },
    /// Escalating without a reason.
    #[error("an escalation needs a reason")]
    EscalationNeedsReason,
    /// Dispatching a resident request to departments.
    #[error("resident requests are dispatched to volunteers")]
    RequestToVolunteers,
    /// Dispatching to departments by anyone but the centre.
    #[error("only the street grid centre may dispatch to departments")]
    DispatchOnlyCentre,
    /// Dispatching a case below the street level to departments.
    #[error("only a street-level case can be dispatched to departments")]
    DispatchOnlyStreetLevel,
    /// Dispatching to no department.
    #[error("name at least one department")]
    NoDepartment,
    /// A problem sent to the volunteers' pool.
    #[error("only resident requests go to volunteers")]
    VolunteersOnlyRequests,
    /// The volunteers' pool filled by anyone but the community's chief.
    #[error("only the community grid chief of this community may dispatch to volunteers")]
    VolunteersOnlyChief,
    /// A claim by someone other than a volunteer of the pool's community.
    #[error("only a volunteer of this community may claim a dispatched request")]
    ClaimOnlyVolunteer,
    // ---- resolving, verifying, closing ----
    /// Resolving without a photo or a note.
    #[error("evidence is required: a photo or a note")]
    EvidenceRequired,
    /// Verifying by someone who may not (the handler, or someone unrelated).
    #[error(
        "{person} may not verify this work (the reporter's side or a supervisor verifies, never the handler)"
    )]
    MayNotVerify {
        /// The person who tried.
        person: String,
    },
    /// Sending work back by someone who may not.
    #[error("{person} may not send this work back")]
    MayNotRework {
        /// The person who tried.
        person: String,
    },
    /// Sending work back without saying why.
    #[error("say what is still wrong")]
    ReworkNeedsReason,
    /// An extension outside 1 to 720 hours.
    #[error("an extension is 1 to 720 hours")]
    ExtensionHours,
    /// Extending by anyone but a supervisor.
    #[error("only the community grid chief or the centre may extend a deadline")]
    ExtendOnlySupervisor,
    /// An extension that would not move the deadline later (another one gave more already).
    #[error("the deadline is already later than this extension would make it")]
    DeadlineAlreadyLater,
    /// Closing by someone who may not.
    #[error("{person} may not close this case")]
    MayNotClose {
        /// The person who tried.
        person: String,
    },
    /// Voiding by someone who may not.
    #[error(
        "only the centre, the community chief, or the reporter before anyone accepted it may void a case"
    )]
    MayNotVoid,
    /// Voiding without a reason.
    #[error("a void needs a reason")]
    VoidNeedsReason,
    /// Marking a case a duplicate of itself.
    #[error("a case cannot duplicate itself")]
    DuplicateOfItself,
    /// Marking a duplicate by someone who may not.
    #[error("only the grid worker, the community chief or the centre may mark a duplicate")]
    MayNotMarkDuplicate,
    // ---- patrols ----
    /// A patrol entry type this build does not know.
    #[error("this app does not know the entry `{type_name}`; an update shows it")]
    UnknownPatrolEntry {
        /// The entry's type as written.
        type_name: String,
    },
    /// A person's patrol entry that is a server void.
    #[error("only a server voids")]
    PatrolOnlyServerVoids,
    /// A server patrol entry that is not a void.
    #[error("a server writes only voids")]
    PatrolServerOnlyVoids,
    /// A patrol entry by someone other than its walker.
    #[error("only the walker {walker} records this patrol")]
    NotTheWalker {
        /// The patrol's walker.
        walker: String,
    },
    /// A companion whose role does not accompany patrols.
    #[error("a {} does not accompany patrols", .role.label_zh())]
    RoleDoesNotAccompany {
        /// The companion's role.
        role: Role,
    },
    /// The walker named as their own companion.
    #[error("the walker cannot accompany their own patrol")]
    WalkerAccompaniesSelf,
    /// A grid worker named on a grid patrol.
    #[error("a grid worker accompanies street chiefs on their segments")]
    GridWorkerOnSegmentsOnly,
    /// The same companion twice.
    #[error("{person} is already recorded")]
    CompanionAlreadyRecorded {
        /// The companion.
        person: String,
    },
    /// A second end.
    #[error("the patrol already ended at {at}")]
    PatrolAlreadyEnded {
        /// When it ended, ms since the epoch.
        at: i64,
    },
    /// A confirmation of an accompaniment the patrol does not record.
    #[error("no accompaniment {accompaniment} to confirm")]
    NoSuchAccompaniment {
        /// The accompaniment entry's id.
        accompaniment: String,
    },
    /// A confirmation by someone other than the companion it names.
    #[error("only {person} confirms accompaniment {accompaniment}")]
    NotTheCompanion {
        /// The companion it names.
        person: String,
        /// The accompaniment entry's id.
        accompaniment: String,
    },
    /// A second confirmation.
    #[error("accompaniment {accompaniment} was confirmed at {at}")]
    AlreadyConfirmed {
        /// The accompaniment entry's id.
        accompaniment: String,
        /// When it was confirmed, ms since the epoch.
        at: i64,
    },
    /// Starting a patrol of a place the person does not patrol.
    #[error("a {} of {scope} does not patrol {place_kind} {place}", .role.label_zh())]
    DoesNotPatrol {
        /// The person's role.
        role: Role,
        /// The person's scope, as written in the roster.
        scope: String,
        /// `grid` or `segment`.
        place_kind: String,
        /// The place's id.
        place: String,
    },
    /// Starting a patrol while another is under way.
    #[error("patrol {patrol} is still under way; end it first")]
    PatrolUnderWay {
        /// The patrol under way.
        patrol: String,
    },
    /// Recording a track on an ended patrol.
    #[error("patrol {patrol} has ended")]
    PatrolEnded {
        /// The patrol.
        patrol: String,
    },
    /// Confirming on a patrol that awaits no confirmation by this person.
    #[error("patrol {patrol} names no accompaniment by {person} awaiting confirmation")]
    NothingToConfirm {
        /// The patrol.
        patrol: String,
        /// The person.
        person: String,
    },
    /// Writing to another walker's patrol.
    #[error("patrol {patrol} is walked by {walker}; only the walker records it")]
    WalkedByOther {
        /// The patrol.
        patrol: String,
        /// Its walker.
        walker: String,
    },
    // ---- read back ----
    /// A refusal read back from its stored sentence (a folded history serialised earlier, or
    /// by another build): the words are kept, the reason is no longer known.
    #[error("{0}")]
    Recorded(String),
}

impl From<Denied> for String {
    fn from(d: Denied) -> String {
        d.to_string()
    }
}

impl From<String> for Denied {
    fn from(s: String) -> Denied {
        Denied::Recorded(s)
    }
}

impl Denied {
    /// The stable snake_case code: never renamed, never reused for another reason.
    pub fn code(&self) -> &'static str {
        match self {
            Denied::ServerOnlyVoids => "server_only_voids",
            Denied::OnlyServerVoids => "only_server_voids",
            Denied::UnknownAction { .. } => "unknown_action",
            Denied::NoValidReport => "no_valid_report",
            Denied::WrongStatus { .. } => "wrong_status",
            Denied::AlreadyTaken { .. } => "already_taken",
            Denied::AlreadyReported => "already_reported",
            Denied::NotTheReporter { .. } => "not_the_reporter",
            Denied::OutsideOwnPlace { .. } => "outside_own_place",
            Denied::RoleMayNotRaise { .. } => "role_may_not_raise",
            Denied::NewCaseAssignee => "new_case_assignee",
            Denied::NoteNeedsText => "note_needs_text",
            Denied::NotInvolved { .. } => "not_involved",
            Denied::NotHolder { .. } => "not_holder",
            Denied::OnSpotNotAllowed => "on_spot_not_allowed",
            Denied::AfterPhotoRequired => "after_photo_required",
            Denied::ForwardOnlyGridLevel => "forward_only_grid_level",
            Denied::ForwardToSelf => "forward_to_self",
            Denied::RequestNotEscalated => "request_not_escalated",
            Denied::StreetLevelDispatches => "street_level_dispatches",
            Denied::EscalateWrongRole { .. } => "escalate_wrong_role",
            Denied::EscalateWrongTarget { .. } => "escalate_wrong_target",
            Denied::EscalationNeedsReason => "escalation_needs_reason",
            Denied::RequestToVolunteers => "request_to_volunteers",
            Denied::DispatchOnlyCentre => "dispatch_only_centre",
            Denied::DispatchOnlyStreetLevel => "dispatch_only_street_level",
            Denied::NoDepartment => "no_department",
            Denied::VolunteersOnlyRequests => "volunteers_only_requests",
            Denied::VolunteersOnlyChief => "volunteers_only_chief",
            Denied::ClaimOnlyVolunteer => "claim_only_volunteer",
            Denied::EvidenceRequired => "evidence_required",
            Denied::MayNotVerify { .. } => "may_not_verify",
            Denied::MayNotRework { .. } => "may_not_rework",
            Denied::ReworkNeedsReason => "rework_needs_reason",
            Denied::ExtensionHours => "extension_hours",
            Denied::ExtendOnlySupervisor => "extend_only_supervisor",
            Denied::DeadlineAlreadyLater => "deadline_already_later",
            Denied::MayNotClose { .. } => "may_not_close",
            Denied::MayNotVoid => "may_not_void",
            Denied::VoidNeedsReason => "void_needs_reason",
            Denied::DuplicateOfItself => "duplicate_of_itself",
            Denied::MayNotMarkDuplicate => "may_not_mark_duplicate",
            Denied::UnknownPatrolEntry { .. } => "unknown_patrol_entry",
            Denied::PatrolOnlyServerVoids => "patrol_only_server_voids",
            Denied::PatrolServerOnlyVoids => "patrol_server_only_voids",
            Denied::NotTheWalker { .. } => "not_the_walker",
            Denied::RoleDoesNotAccompany { .. } => "role_does_not_accompany",
            Denied::WalkerAccompaniesSelf => "walker_accompanies_self",
            Denied::GridWorkerOnSegmentsOnly => "grid_worker_on_segments_only",
            Denied::CompanionAlreadyRecorded { .. } => "companion_already_recorded",
            Denied::PatrolAlreadyEnded { .. } => "patrol_already_ended",
            Denied::NoSuchAccompaniment { .. } => "no_such_accompaniment",
            Denied::NotTheCompanion { .. } => "not_the_companion",
            Denied::AlreadyConfirmed { .. } => "already_confirmed",
            Denied::DoesNotPatrol { .. } => "does_not_patrol",
            Denied::PatrolUnderWay { .. } => "patrol_under_way",
            Denied::PatrolEnded { .. } => "patrol_ended",
            Denied::NothingToConfirm { .. } => "nothing_to_confirm",
            Denied::WalkedByOther { .. } => "walked_by_other",
            Denied::Recorded(_) => "not_allowed",
        }
    }

    /// The refusal in Simplified Chinese, short and plain, for the person who tried.
    pub fn zh(&self) -> String {
        match self {
            Denied::ServerOnlyVoids => "服务器只能作废记录".into(),
            Denied::OnlyServerVoids => "只有服务器能作废记录".into(),
            Denied::UnknownAction { type_name } => {
                format!("本应用不认识操作“{type_name}”，请更新应用后查看")
            }
            Denied::NoValidReport => "这个案件没有有效的上报记录".into(),
            Denied::WrongStatus { action, status } => format!(
                "案件现在是“{}”，不能{}",
                status.label_zh(),
                action_zh(action)
            ),
            Denied::AlreadyTaken { by } => format!("已被{by}认领"),
            Denied::AlreadyReported => "这个案件已经上报过了".into(),
            Denied::NotTheReporter { reporter, person } => {
                format!("上报人应是{reporter}，不是{person}")
            }
            Denied::OutsideOwnPlace { role, kind, scope } => format!(
                "{}只能在自己的{}内上报{}",
                role.label_zh(),
                scope_zh(*scope),
                kind_zh(*kind)
            ),
            Denied::RoleMayNotRaise { role, kind } => {
                format!("{}不能上报{}", role.label_zh(), kind_zh(*kind))
            }
            Denied::NewCaseAssignee => "新案件只能交给一个人（或街道网格中心）".into(),
            Denied::NoteNeedsText => "备注不能为空，请写上内容".into(),
            Denied::NotInvolved { person } => format!("{person}与这个案件无关，不能操作"),
            Denied::NotHolder { person, holder } => match holder {
                Some(h) => format!("这个案件不在{person}手上，在{h}手上"),
                None => format!("这个案件不在{person}手上"),
            },
            Denied::OnSpotNotAllowed => "只有网格员或街长能就地处置网格级案件".into(),
            Denied::AfterPhotoRequired => "就地处置需要一张处置后的照片，请先拍照".into(),
            Denied::ForwardOnlyGridLevel => "只有网格级案件能转交，请改为上报上级".into(),
            Denied::ForwardToSelf => "不能把案件转交给自己".into(),
            Denied::RequestNotEscalated => "居民诉求只能派遣，不能上报上级".into(),
            Denied::StreetLevelDispatches => "街道级案件应派遣给部门，不能再上报".into(),
            Denied::EscalateWrongRole { role, level } => {
                format!("只有{}能上报{}案件", role.label_zh(), level_zh(*level))
            }
            Denied::EscalateWrongTarget { level, next } => {
                format!("{}案件只能上报到{}", level_zh(*level), level_zh(*next))
            }
            Denied::EscalationNeedsReason => "上报上级需要写明原因".into(),
            Denied::RequestToVolunteers => "居民诉求应派给志愿者".into(),
            Denied::DispatchOnlyCentre => "只有街道网格中心能派遣给部门".into(),
            Denied::DispatchOnlyStreetLevel => "只有街道级案件能派遣给部门".into(),
            Denied::NoDepartment => "请至少选择一个部门".into(),
            Denied::VolunteersOnlyRequests => "只有居民诉求能派给志愿者".into(),
            Denied::VolunteersOnlyChief => "只有本社区的社区网格长能派给志愿者".into(),
            Denied::ClaimOnlyVolunteer => "只有本社区的志愿者能认领这个诉求".into(),
            Denied::EvidenceRequired => "需要处置凭证：请拍照或写一句说明".into(),
            Denied::MayNotVerify { person } => {
                format!("{person}不能核查这项工作（由上报方或上级核查，处置人不能自查）")
            }
            Denied::MayNotRework { person } => format!("{person}不能退回这项工作"),
            Denied::ReworkNeedsReason => "请写明还有什么问题".into(),
            Denied::ExtensionHours => "延期时长须在1到720小时之间".into(),
            Denied::ExtendOnlySupervisor => "只有社区网格长或街道网格中心能延期".into(),
            Denied::DeadlineAlreadyLater => "期限已经比这次延期更晚，不用再延期".into(),
            Denied::MayNotClose { person } => format!("{person}不能结案"),
            Denied::MayNotVoid => {
                "只有街道网格中心、社区网格长，或无人受理前的上报人能作废案件".into()
            }
            Denied::VoidNeedsReason => "作废需要写明原因".into(),
            Denied::DuplicateOfItself => "案件不能标记为自己的重复".into(),
            Denied::MayNotMarkDuplicate => {
                "只有网格员、社区网格长或街道网格中心能标记重复案件".into()
            }
            Denied::UnknownPatrolEntry { type_name } => {
                format!("本应用不认识巡查记录“{type_name}”，请更新应用后查看")
            }
            Denied::PatrolOnlyServerVoids => "只有服务器能作废巡查记录".into(),
            Denied::PatrolServerOnlyVoids => "服务器只能作废巡查记录".into(),
            Denied::NotTheWalker { walker } => format!("只有巡查人{walker}能记录这次巡查"),
            Denied::RoleDoesNotAccompany { role } => format!("{}不参加陪同巡查", role.label_zh()),
            Denied::WalkerAccompaniesSelf => "巡查人不能陪同自己的巡查".into(),
            Denied::GridWorkerOnSegmentsOnly => "网格员只陪同街长巡查其路段".into(),
            Denied::CompanionAlreadyRecorded { person } => format!("{person}已经记录过了"),
            Denied::PatrolAlreadyEnded { .. } => "这次巡查已经结束了".into(),
            Denied::NoSuchAccompaniment { .. } => "没有这条待确认的陪同记录".into(),
            Denied::NotTheCompanion { person, .. } => format!("只有{person}本人能确认这次陪同"),
            Denied::AlreadyConfirmed { .. } => "这次陪同已经确认过了".into(),
            Denied::DoesNotPatrol { role, .. } => {
                format!(
                    "{}不能巡查这个地方，请选择自己的网格或路段",
                    role.label_zh()
                )
            }
            Denied::PatrolUnderWay { .. } => "还有一次巡查没有结束，请先结束它".into(),
            Denied::PatrolEnded { .. } => "这次巡查已经结束，不能再记录轨迹".into(),
            Denied::NothingToConfirm { .. } => "这次巡查没有需要你确认的陪同".into(),
            Denied::WalkedByOther { walker, .. } => {
                format!("这次巡查由{walker}进行，只有巡查人能记录")
            }
            Denied::Recorded(text) => format!("不允许此操作：{text}"),
        }
    }
}

/// A level in Chinese.
fn level_zh(l: Level) -> &'static str {
    match l {
        Level::Grid => "网格级",
        Level::Community => "社区级",
        Level::Street => "街道级",
        Level::JointEnforcement => "联合执法",
    }
}

/// A case kind in Chinese.
fn kind_zh(k: CaseKind) -> &'static str {
    match k {
        CaseKind::Problem => "问题",
        CaseKind::Request => "诉求",
    }
}

/// A kind of place in Chinese.
fn scope_zh(s: ScopeKind) -> &'static str {
    match s {
        ScopeKind::Street => "街道",
        ScopeKind::Community => "社区",
        ScopeKind::Grid => "网格",
        ScopeKind::Segment => "路段",
        ScopeKind::Department => "部门",
    }
}

/// An action's name ([`crate::case::Action::name`]) in Chinese; a name this build does not
/// know as written.
fn action_zh(action: &str) -> &str {
    match action {
        "report" => "上报",
        "handle on the spot" => "就地处置",
        "forward" => "转交",
        "accept" => "受理",
        "escalate" => "上报上级",
        "dispatch" => "派遣",
        "dispatch to volunteers" => "派给志愿者",
        "claim" => "认领",
        "note" => "备注",
        "resolve" => "处置",
        "verify" => "核查",
        "rework" => "返工",
        "extend" => "延期",
        "close" => "结案",
        "void" => "作废",
        "mark duplicate" => "标记重复",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn english_is_the_old_wording_and_chinese_differs() {
        let d = Denied::NotHolder {
            person: "gw1".into(),
            holder: Some("gw2".into()),
        };
        assert_eq!(d.to_string(), "gw1 does not hold this case (gw2 does)");
        assert_eq!(d.code(), "not_holder");
        assert!(d.zh().contains("gw2"));
        let d = Denied::WrongStatus {
            action: "close".into(),
            status: Status::InProgress,
        };
        assert_eq!(d.to_string(), "cannot close a case that is in_progress");
        assert_eq!(d.zh(), "案件现在是“处理中”，不能结案");
        let d = Denied::RoleMayNotRaise {
            role: Role::Volunteer,
            kind: CaseKind::Problem,
        };
        assert_eq!(
            d.to_string(),
            "a volunteer (志愿者) may not raise a problem"
        );
    }

    #[test]
    fn a_refusal_is_stored_as_its_sentence_and_read_back_recorded() {
        let d = Denied::AlreadyTaken { by: "vol1".into() };
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"already taken by vol1\"");
        let back: Denied = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Denied::Recorded("already taken by vol1".into()));
        assert_eq!(back.to_string(), d.to_string());
    }
}
