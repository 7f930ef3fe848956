//! Where a case stands, [`Status`]: its own module because the refusals
//! ([`super::denied`]) name statuses and the folded state ([`super::state`]) holds refusals.

use serde::{Deserialize, Serialize};

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Raised by a street chief, who still holds it (handle or forward).
    Reported,
    /// Sent to a person who has not accepted it yet.
    Forwarded,
    /// A resident request waiting for the community.
    Requested,
    /// Somebody is working on it.
    InProgress,
    /// Sent up a level, not yet accepted there.
    Escalated,
    /// Sent to departments, or to the community's volunteers.
    Dispatched,
    /// The handler reports it done; waiting for verification.
    Resolved,
    /// The reporter's side confirmed the work; waiting to be closed.
    Verified,
    /// Finished.
    Closed,
    /// Withdrawn as invalid.
    Voided,
    /// Folded into another case.
    Duplicate,
}

impl Status {
    /// Every status, in a stable order.
    pub const ALL: [Status; 11] = [
        Status::Reported,
        Status::Forwarded,
        Status::Requested,
        Status::InProgress,
        Status::Escalated,
        Status::Dispatched,
        Status::Resolved,
        Status::Verified,
        Status::Closed,
        Status::Voided,
        Status::Duplicate,
    ];

    /// The stable identifier used in index tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Reported => "reported",
            Status::Forwarded => "forwarded",
            Status::Requested => "requested",
            Status::InProgress => "in_progress",
            Status::Escalated => "escalated",
            Status::Dispatched => "dispatched",
            Status::Resolved => "resolved",
            Status::Verified => "verified",
            Status::Closed => "closed",
            Status::Voided => "voided",
            Status::Duplicate => "duplicate",
        }
    }

    /// Parses [`Status::as_str`] back.
    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// True once nothing more will happen to the case.
    pub fn is_terminal(self) -> bool {
        matches!(self, Status::Closed | Status::Voided | Status::Duplicate)
    }

    /// True while somebody still has work to do (not resolved, verified or terminal).
    pub fn is_open(self) -> bool {
        !self.is_terminal() && !matches!(self, Status::Resolved | Status::Verified)
    }

    /// The Chinese name shown to users: in the phones' refusals and at the desk.
    pub fn label_zh(self) -> &'static str {
        match self {
            Status::Reported => "已上报",
            Status::Forwarded => "已转交",
            Status::Requested => "已申请",
            Status::InProgress => "处理中",
            Status::Escalated => "已上报上级",
            Status::Dispatched => "已派遣",
            Status::Resolved => "已处置",
            Status::Verified => "已核查",
            Status::Closed => "已结案",
            Status::Voided => "已作废",
            Status::Duplicate => "重复案件",
        }
    }
}
