//! Approval chains: who must approve a case, in which order, and by when.
//!
//! A chain is configured per case type and legal entity (roles, named users or "the department head"; any-of
//! or all-of per step). When a case opens, the application resolves each step to concrete users and stores
//! them; from then on [`status`] decides, from the recorded decisions alone, where the chain stands.

use crate::auth::Role;
use serde::{Deserialize, Serialize};

use super::CaseType;

/// Who may approve one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Approver {
    /// Every user holding this role (HR supervisors, say).
    Role(Role),
    /// One named user (by login name).
    User(String),
    /// The manager in charge of the employee's org unit (or the nearest unit above with one).
    DepartmentHead,
}

/// Whether one approval of the step is enough or everybody's is needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// The first approval completes the step.
    AnyOf,
    /// Every assigned approver must approve.
    AllOf,
}

/// One step of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChainStep {
    /// Short name shown on the case page (e.g. `hr_supervisor`).
    pub name: String,
    /// Who may approve.
    pub approvers: Vec<Approver>,
    /// Any-of or all-of.
    pub mode: Mode,
    /// Workdays from the step's start to its deadline; a reminder goes out the workday before, and an overdue
    /// step is escalated to the approver's manager.
    pub due_workdays: u32,
}

/// The ordered steps a case of one type must pass.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Chain {
    /// Steps in order; an empty chain approves at once.
    pub steps: Vec<ChainStep>,
}

/// Why a chain or a decision was refused; codes are stable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalError {
    /// A step lists no approver or has an empty name.
    EmptyStep,
    /// The chain is already decided.
    ChainDecided,
    /// The user is not an approver of the active step.
    NotAnApprover,
    /// The user already decided this step.
    AlreadyDecided,
    /// Approving one's own case.
    OwnCase,
}

impl ApprovalError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApprovalError::EmptyStep => "approval_step_empty",
            ApprovalError::ChainDecided => "approval_chain_decided",
            ApprovalError::NotAnApprover => "not_an_approver",
            ApprovalError::AlreadyDecided => "already_decided",
            ApprovalError::OwnCase => "own_case",
        }
    }
}

impl std::fmt::Display for ApprovalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for ApprovalError {}

impl Chain {
    /// The shipped chain of a case type. Absconding takes the fast track of DOMAIN.md: HR supervisor, then the
    /// department head, one workday each; a resignation starts with the department head, who knows the
    /// handover; the others need an HR supervisor.
    pub fn default_for(case_type: CaseType) -> Chain {
        let supervisor = |due_workdays| ChainStep {
            name: "hr_supervisor".into(),
            approvers: vec![Approver::Role(Role::HrSupervisor)],
            mode: Mode::AnyOf,
            due_workdays,
        };
        let head = |due_workdays| ChainStep {
            name: "department_head".into(),
            approvers: vec![Approver::DepartmentHead],
            mode: Mode::AnyOf,
            due_workdays,
        };
        let steps = match case_type {
            CaseType::Absconding => vec![supervisor(1), head(1)],
            CaseType::Resignation => vec![head(2), supervisor(2)],
            CaseType::Dismissal => vec![supervisor(2), head(2)],
            CaseType::MutualAgreement | CaseType::ContractExpiry | CaseType::Retirement | CaseType::Death => {
                vec![supervisor(2)]
            }
        };
        Chain { steps }
    }

    /// Refuses steps nobody could approve.
    pub fn validate(&self) -> Result<(), ApprovalError> {
        let bad = |s: &ChainStep| {
            s.name.trim().is_empty()
                || s.approvers.is_empty()
                || s.approvers.iter().any(|a| matches!(a, Approver::User(u) if u.trim().is_empty()))
        };
        if self.steps.iter().any(bad) { Err(ApprovalError::EmptyStep) } else { Ok(()) }
    }
}

/// A decision on a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    /// Approve.
    Approve,
    /// Reject: the whole chain is rejected.
    Reject,
}

impl Decision {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Approve => "approve",
            Decision::Reject => "reject",
        }
    }

    /// Parses [`Decision::name`] back.
    pub fn parse(raw: &str) -> Option<Decision> {
        [Decision::Approve, Decision::Reject].into_iter().find(|d| d.name() == raw.trim())
    }
}

/// A resolved step of one case: who is assigned and what they decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// Any-of or all-of.
    pub mode: Mode,
    /// User ids who may decide (escalation adds the approver's manager).
    pub assignees: Vec<i64>,
    /// Decisions taken, by user id.
    pub decisions: Vec<(i64, Decision)>,
}

/// Where a chain stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainStatus {
    /// Waiting on the step at this index.
    Active(usize),
    /// Every step approved.
    Approved,
    /// Rejected at the step at this index.
    Rejected(usize),
}

impl StepRecord {
    fn approved(&self) -> bool {
        let yes = |u: &i64| self.decisions.iter().any(|(d, x)| d == u && *x == Decision::Approve);
        match self.mode {
            Mode::AnyOf => self.decisions.iter().any(|(_, x)| *x == Decision::Approve),
            Mode::AllOf => !self.assignees.is_empty() && self.assignees.iter().all(yes),
        }
    }

    fn rejected(&self) -> bool {
        self.decisions.iter().any(|(_, x)| *x == Decision::Reject)
    }
}

/// The status of a chain from its recorded steps.
pub fn status(steps: &[StepRecord]) -> ChainStatus {
    for (i, step) in steps.iter().enumerate() {
        if step.rejected() {
            return ChainStatus::Rejected(i);
        }
        if !step.approved() {
            return ChainStatus::Active(i);
        }
    }
    ChainStatus::Approved
}

/// Checks that `user` may decide now, and returns the index of the step the decision belongs to.
/// `subject_user` is the user account of the employee the case is about, who never approves their own case.
pub fn may_decide(steps: &[StepRecord], user: i64, subject_user: Option<i64>) -> Result<usize, ApprovalError> {
    let ChainStatus::Active(i) = status(steps) else { return Err(ApprovalError::ChainDecided) };
    if subject_user == Some(user) {
        return Err(ApprovalError::OwnCase);
    }
    let step = &steps[i];
    if !step.assignees.contains(&user) {
        return Err(ApprovalError::NotAnApprover);
    }
    if step.decisions.iter().any(|(u, _)| *u == user) {
        return Err(ApprovalError::AlreadyDecided);
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(mode: Mode, assignees: &[i64], decisions: &[(i64, Decision)]) -> StepRecord {
        StepRecord { mode, assignees: assignees.to_vec(), decisions: decisions.to_vec() }
    }

    #[test]
    fn any_of_then_all_of_in_order() {
        use Decision::*;
        let mut steps = vec![step(Mode::AnyOf, &[1, 2], &[]), step(Mode::AllOf, &[3, 4], &[])];
        assert_eq!(status(&steps), ChainStatus::Active(0));
        assert_eq!(may_decide(&steps, 3, None), Err(ApprovalError::NotAnApprover), "step 2 waits its turn");
        assert_eq!(may_decide(&steps, 2, None), Ok(0));
        steps[0].decisions.push((2, Approve));
        assert_eq!(may_decide(&steps, 1, None), Err(ApprovalError::NotAnApprover), "any-of is done");
        assert_eq!(status(&steps), ChainStatus::Active(1));
        steps[1].decisions.push((3, Approve));
        assert_eq!(status(&steps), ChainStatus::Active(1), "all-of needs 4 too");
        assert_eq!(may_decide(&steps, 3, None), Err(ApprovalError::AlreadyDecided));
        assert_eq!(may_decide(&steps, 4, Some(4)), Err(ApprovalError::OwnCase));
        steps[1].decisions.push((4, Approve));
        assert_eq!(status(&steps), ChainStatus::Approved);
        assert_eq!(may_decide(&steps, 4, None), Err(ApprovalError::ChainDecided));
        steps[1].decisions[1] = (4, Reject);
        assert_eq!(status(&steps), ChainStatus::Rejected(1));
        assert_eq!(status(&[]), ChainStatus::Approved, "an empty chain approves at once");
    }

    #[test]
    fn the_absconding_fast_track_is_supervisor_then_head() {
        let chain = Chain::default_for(CaseType::Absconding);
        let names: Vec<&str> = chain.steps.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["hr_supervisor", "department_head"]);
        assert!(chain.validate().is_ok());
        for t in CaseType::ALL {
            assert!(Chain::default_for(t).validate().is_ok(), "{t}");
        }
        let bad = Chain { steps: vec![ChainStep { approvers: vec![], ..chain.steps[0].clone() }] };
        assert_eq!(bad.validate(), Err(ApprovalError::EmptyStep));
        let json: Chain = serde_json::from_str(
            r#"{"steps":[{"name":"cfo","approvers":[{"user":"wang"},"department_head",{"role":"hr_supervisor"}],"mode":"all_of","due_workdays":3}]}"#,
        )
        .unwrap();
        assert_eq!(json.steps[0].approvers[0], Approver::User("wang".into()));
        assert_eq!(json.steps[0].approvers[2], Approver::Role(Role::HrSupervisor));
    }
}
