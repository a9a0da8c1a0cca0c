//! Separation cases: their types, states, the absconding process as a state machine, approval chains and
//! checklist templates.
//!
//! Everything here is pure: the application loads what a case has recorded ([`process::Facts`]), asks
//! [`process::apply`] whether an action is allowed and what it changes, and stores the answer in the same
//! transaction as the audit row. So a skipped step, a timer started on dispatch instead of receipt, or a
//! termination without the union step is refused in one place, whatever the caller (web, API, CLI).

pub mod approval;
pub mod checklist;
pub mod process;

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an employment ends; each type has its own process and checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseType {
    /// The employee gave written notice (LCL art. 37).
    Resignation,
    /// Both sides agreed to end the contract (LCL art. 36).
    MutualAgreement,
    /// The employer terminates for cause or otherwise (LCL arts. 39–41).
    Dismissal,
    /// The employee stopped coming without notice (擅自离职): its own process, see [`process`].
    Absconding,
    /// A fixed-term contract ran out (LCL art. 44).
    ContractExpiry,
    /// Statutory retirement.
    Retirement,
    /// The employee died.
    Death,
}

impl CaseType {
    /// Every type, in display order.
    pub const ALL: [CaseType; 7] = [
        CaseType::Absconding,
        CaseType::Resignation,
        CaseType::MutualAgreement,
        CaseType::Dismissal,
        CaseType::ContractExpiry,
        CaseType::Retirement,
        CaseType::Death,
    ];

    /// The name used in the database, the API, the CLI and translation keys (`case-type-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            CaseType::Resignation => "resignation",
            CaseType::MutualAgreement => "mutual_agreement",
            CaseType::Dismissal => "dismissal",
            CaseType::Absconding => "absconding",
            CaseType::ContractExpiry => "contract_expiry",
            CaseType::Retirement => "retirement",
            CaseType::Death => "death",
        }
    }

    /// Parses [`CaseType::name`] back.
    pub fn parse(raw: &str) -> Option<CaseType> {
        CaseType::ALL.into_iter().find(|t| t.name() == raw.trim())
    }
}

impl fmt::Display for CaseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Where a case stands. Absconding cases walk the DOMAIN.md states; the other types use `Open → Approved →
/// Terminated → Closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// Absconding: absence detected, HR is trying to reach the person.
    Contacting,
    /// Absconding: departure confirmed; a return-to-work notice is being served.
    ReturnNoticeServing,
    /// Absconding: a return notice was received; the response period runs from the receipt.
    AwaitingReturn,
    /// Absconding: evidence, protected-status screen and the approval chain.
    CaseReview,
    /// Absconding: the union has the termination letter (LCL art. 43); waiting for its reply.
    UnionNotified,
    /// Absconding: the termination notice is being served.
    TerminationServing,
    /// Absconding: served by public announcement; counts as served after the policy's days.
    PublicNotice,
    /// Other types: opened, waiting for the approval chain.
    Open,
    /// Other types: approved; the last day is set.
    Approved,
    /// The contract has ended; post-termination tasks run.
    Terminated,
    /// Everything done; the person is in the alumni pool.
    Closed,
    /// Absconding: the person came back or gave a reason (justified or discipline only); no termination.
    Returned,
    /// Absconding: a written resignation arrived; a resignation case continues.
    Converted,
    /// Withdrawn before termination, with a reason.
    Cancelled,
}

impl CaseState {
    /// Every state, in process order (board columns).
    pub const ALL: [CaseState; 14] = [
        CaseState::Contacting,
        CaseState::ReturnNoticeServing,
        CaseState::AwaitingReturn,
        CaseState::CaseReview,
        CaseState::UnionNotified,
        CaseState::TerminationServing,
        CaseState::PublicNotice,
        CaseState::Open,
        CaseState::Approved,
        CaseState::Terminated,
        CaseState::Closed,
        CaseState::Returned,
        CaseState::Converted,
        CaseState::Cancelled,
    ];

    /// The name used in the database, the API and translation keys (`case-state-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            CaseState::Contacting => "contacting",
            CaseState::ReturnNoticeServing => "return_notice_serving",
            CaseState::AwaitingReturn => "awaiting_return",
            CaseState::CaseReview => "case_review",
            CaseState::UnionNotified => "union_notified",
            CaseState::TerminationServing => "termination_serving",
            CaseState::PublicNotice => "public_notice",
            CaseState::Open => "open",
            CaseState::Approved => "approved",
            CaseState::Terminated => "terminated",
            CaseState::Closed => "closed",
            CaseState::Returned => "returned",
            CaseState::Converted => "converted",
            CaseState::Cancelled => "cancelled",
        }
    }

    /// Parses [`CaseState::name`] back.
    pub fn parse(raw: &str) -> Option<CaseState> {
        CaseState::ALL.into_iter().find(|s| s.name() == raw.trim())
    }

    /// Whether nothing more happens to the case.
    pub fn is_final(self) -> bool {
        matches!(self, CaseState::Closed | CaseState::Returned | CaseState::Converted | CaseState::Cancelled)
    }

    /// Whether the contract has ended (post-termination tasks may run, pay may stop).
    pub fn is_terminated(self) -> bool {
        matches!(self, CaseState::Terminated | CaseState::Closed)
    }

    /// The states a case of this type can be in, in process order (board columns per type).
    pub fn of_type(case_type: CaseType) -> &'static [CaseState] {
        if case_type == CaseType::Absconding {
            &[
                CaseState::Contacting,
                CaseState::ReturnNoticeServing,
                CaseState::AwaitingReturn,
                CaseState::CaseReview,
                CaseState::UnionNotified,
                CaseState::TerminationServing,
                CaseState::PublicNotice,
                CaseState::Terminated,
                CaseState::Closed,
                CaseState::Returned,
                CaseState::Converted,
                CaseState::Cancelled,
            ]
        } else {
            &[CaseState::Open, CaseState::Approved, CaseState::Terminated, CaseState::Closed, CaseState::Cancelled]
        }
    }
}

impl fmt::Display for CaseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_every_state_belongs_to_a_type() {
        for t in CaseType::ALL {
            assert_eq!(CaseType::parse(t.name()), Some(t));
        }
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.name()), Some(s));
            assert!(CaseType::ALL.iter().any(|t| CaseState::of_type(*t).contains(&s)), "{s}");
        }
        assert_eq!(CaseType::parse("quit"), None);
    }
}
