//! The case process as a pure function: given what a case has recorded and an action, either the new state
//! (with the timer and dates the action starts) or the reason it is refused.
//!
//! The absconding rules follow DOMAIN.md: no step is skipped unless the policy disables it and a reason is
//! recorded; timers run from the recorded receipt of a notice, not its dispatch; announcement is the last resort
//! and counts as served only after the policy's days; the union is told before termination; the person coming
//! back at any point before termination ends the termination path; a written resignation converts the case.

use super::{CaseState, CaseType};
use crate::calendar::WorkCalendar;
use crate::policy::{Policy, ServiceMethod};
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::fmt;

/// How HR tried to reach the person; the policy asks for attempts over several channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Phone call.
    Phone,
    /// Text message.
    Sms,
    /// WeCom / WeChat message.
    Wecom,
    /// Email.
    Email,
    /// Visit to the home address.
    Visit,
    /// Anything else (emergency contact, family, a colleague), described in the note.
    Other,
}

impl Channel {
    /// Every channel.
    pub const ALL: [Channel; 6] =
        [Channel::Phone, Channel::Wecom, Channel::Sms, Channel::Email, Channel::Visit, Channel::Other];

    /// The names of [`Channel::ALL`], in that order: the one vocabulary of contact channels (alerts and cases).
    pub const NAMES: [&'static str; 6] = ["phone", "wecom", "sms", "email", "visit", "other"];

    /// Stable name (API, database, translation key `channel-<name>`).
    pub fn name(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Sms => "sms",
            Channel::Wecom => "wecom",
            Channel::Email => "email",
            Channel::Visit => "visit",
            Channel::Other => "other",
        }
    }

    /// Parses [`Channel::name`] back.
    pub fn parse(raw: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.name() == raw.trim())
    }
}

/// Which letter a notice is; each has its own serving rules and its own effect once served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// 催告返岗通知书: the response period runs from its receipt.
    ReturnToWork,
    /// 解除劳动合同通知书: termination takes effect on its service.
    Termination,
}

impl NoticeKind {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            NoticeKind::ReturnToWork => "return_to_work",
            NoticeKind::Termination => "termination",
        }
    }

    /// Parses [`NoticeKind::name`] back.
    pub fn parse(raw: &str) -> Option<NoticeKind> {
        [NoticeKind::ReturnToWork, NoticeKind::Termination].into_iter().find(|k| k.name() == raw.trim())
    }
}

/// What came back from serving one notice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptOutcome {
    /// Signed for (EMS receipt, signature on the copy, read receipt where electronic service was agreed).
    Signed,
    /// Refused in front of witnesses or by the courier's record: refusal still serves.
    Refused,
    /// Left at the residence in front of witnesses (留置送达).
    Lodged,
    /// Returned undelivered or bounced: not served; try the next method.
    Undeliverable,
    /// A public announcement whose period has run: served by law on the last day.
    DeemedServed,
}

impl ReceiptOutcome {
    /// Every outcome.
    pub const ALL: [ReceiptOutcome; 5] = [
        ReceiptOutcome::Signed,
        ReceiptOutcome::Refused,
        ReceiptOutcome::Lodged,
        ReceiptOutcome::Undeliverable,
        ReceiptOutcome::DeemedServed,
    ];

    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            ReceiptOutcome::Signed => "signed",
            ReceiptOutcome::Refused => "refused",
            ReceiptOutcome::Lodged => "lodged",
            ReceiptOutcome::Undeliverable => "undeliverable",
            ReceiptOutcome::DeemedServed => "deemed_served",
        }
    }

    /// Parses [`ReceiptOutcome::name`] back.
    pub fn parse(raw: &str) -> Option<ReceiptOutcome> {
        ReceiptOutcome::ALL.into_iter().find(|o| o.name() == raw.trim())
    }

    /// Whether the notice counts as served.
    pub fn serves(self) -> bool {
        self != ReceiptOutcome::Undeliverable
    }
}

/// How a case ends without termination when the person comes back or explains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// The absence had a good reason (illness, emergency); nothing further.
    Justified,
    /// Unjustified, handled by the disciplinary rules short of termination.
    DisciplineOnly,
}

impl Resolution {
    /// Stable name.
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Justified => "justified",
            Resolution::DisciplineOnly => "discipline_only",
        }
    }

    /// Parses [`Resolution::name`] back.
    pub fn parse(raw: &str) -> Option<Resolution> {
        [Resolution::Justified, Resolution::DisciplineOnly].into_iter().find(|r| r.name() == raw.trim())
    }
}

/// A process step a policy may switch off; skipping it then still needs a recorded reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// The written return-to-work notice.
    ReturnNotice,
    /// Notifying the union (LCL art. 43).
    Union,
}

/// One logged contact attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contact {
    /// The channel used.
    pub channel: Channel,
}

/// One notice sent, with what came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The application's id of the notice, so a receipt names the notice it belongs to.
    pub id: i64,
    /// Which letter.
    pub kind: NoticeKind,
    /// Return notices: 1 for the first, 2 for the second; termination notices: 1.
    pub round: u32,
    /// How it was sent.
    pub method: ServiceMethod,
    /// The date it left (or was published).
    pub dispatched_on: NaiveDate,
    /// What came back, and when.
    pub receipt: Option<(ReceiptOutcome, NaiveDate)>,
}

/// Everything the rules need to know about a case, loaded by the application before each action.
#[derive(Debug, Clone)]
pub struct Facts<'a> {
    /// The case type.
    pub case_type: CaseType,
    /// The current state.
    pub state: CaseState,
    /// The policy snapshot the case took when it was opened.
    pub policy: &'a Policy,
    /// The legal entity's work calendar (deadlines in workdays, periods ending on a rest day).
    pub calendar: &'a WorkCalendar,
    /// Today in the legal entity's time zone.
    pub today: NaiveDate,
    /// Contact attempts logged on the case (and carried over from its alert).
    pub contacts: Vec<Contact>,
    /// Notices sent so far.
    pub notices: Vec<Notice>,
    /// Return-notice rounds started (0 before departure is confirmed).
    pub return_round: u32,
    /// Whether the case's approval chain has been approved in full.
    pub approved: bool,
    /// `None` until screened; `Some(true)` when a protected status (pregnancy, medical leave, work injury,
    /// protected leave…) was found, which stops the termination path.
    pub protected_status: Option<bool>,
    /// When the union was notified.
    pub union_notified_on: Option<NaiveDate>,
    /// When the union replied.
    pub union_replied_on: Option<NaiveDate>,
    /// Checklist items neither done nor waived.
    pub open_items: usize,
    /// Whether the person acting holds a case-approving role (steps the policy reserves for a human approver).
    pub actor_approves: bool,
}

/// Something a person does to a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Log a contact attempt (the rest of its record is stored by the application).
    LogContact {
        /// Channel used.
        channel: Channel,
    },
    /// HR confirms the person has left without notice; starts the evidence chain and the return notices.
    ConfirmDeparture,
    /// Send the notice the state calls for by one method.
    DispatchNotice {
        /// How.
        method: ServiceMethod,
        /// Date sent or published.
        on: NaiveDate,
        /// Why announcement is used (whereabouts unknown, other methods failed); required for it.
        reason: Option<String>,
    },
    /// Record what came back for one notice.
    RecordReceipt {
        /// Which notice.
        notice_id: i64,
        /// What came back.
        outcome: ReceiptOutcome,
        /// When (the signature date, the courier's date, or the announcement's last day).
        on: NaiveDate,
    },
    /// The response period ran out with no return: serve the next return notice.
    NextNotice,
    /// The response period ran out with no return: review the case for termination.
    OpenReview,
    /// Record the protected-status screen (pregnancy, medical leave, work injury, statutory leave).
    ScreenProtectedStatus {
        /// Whether a protection applies.
        protected: bool,
    },
    /// Send the union the termination letter (LCL art. 43).
    NotifyUnion,
    /// Record the union's reply.
    RecordUnionReply {
        /// The date of the reply.
        on: NaiveDate,
    },
    /// Move on to serving the termination notice.
    ServeTermination,
    /// Skip a step the policy switched off.
    Skip {
        /// Which step.
        step: Step,
        /// Why (recorded on the case).
        reason: String,
    },
    /// The person came back or gave a reason.
    Resolve {
        /// How the absence is treated.
        resolution: Resolution,
    },
    /// A written resignation arrived.
    ConvertToResignation {
        /// The date it arrived.
        received_on: NaiveDate,
        /// Whether the person is in probation (shorter notice).
        probation: bool,
    },
    /// Other types: the approval chain finished; record the approval.
    Approve,
    /// Other types: the contract ends on this date.
    Terminate {
        /// Effective date.
        effective_on: NaiveDate,
    },
    /// Every checklist item is done or waived.
    Close,
    /// Withdraw the case before termination.
    Cancel {
        /// Why.
        reason: String,
    },
}

impl Action {
    /// Stable name (case events, API, translation key `case-action-<name>`).
    pub fn name(&self) -> &'static str {
        match self {
            Action::LogContact { .. } => "log_contact",
            Action::ConfirmDeparture => "confirm_departure",
            Action::DispatchNotice { .. } => "dispatch_notice",
            Action::RecordReceipt { .. } => "record_receipt",
            Action::NextNotice => "next_notice",
            Action::OpenReview => "open_review",
            Action::ScreenProtectedStatus { .. } => "screen_protected_status",
            Action::NotifyUnion => "notify_union",
            Action::RecordUnionReply { .. } => "record_union_reply",
            Action::ServeTermination => "serve_termination",
            Action::Skip { .. } => "skip",
            Action::Resolve { .. } => "resolve",
            Action::ConvertToResignation { .. } => "convert_to_resignation",
            Action::Approve => "approve",
            Action::Terminate { .. } => "terminate",
            Action::Close => "close",
            Action::Cancel { .. } => "cancel",
        }
    }
}

/// What an allowed action changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The state afterwards (may equal the state before).
    pub to: CaseState,
    /// The timer the case now waits on, if the action started or ended one (`Some(None)` clears it).
    pub deadline: Option<Option<NaiveDate>>,
    /// The date the contract ends, when this action fixes it.
    pub effective_on: Option<NaiveDate>,
    /// The return-notice round after the action.
    pub return_round: u32,
    /// Resignation conversion: the last day of the notice period.
    pub resignation_last_day: Option<NaiveDate>,
}

/// Why an action was refused; codes are stable (API errors, translations `error-<code>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaseError {
    /// The action does not exist in this state (a skipped or repeated step).
    NotAllowed {
        /// The action's name.
        action: &'static str,
        /// The state it was tried in.
        state: CaseState,
    },
    /// Fewer contact attempts or channels than the policy asks before confirming departure.
    ContactsInsufficient {
        /// Attempts logged.
        attempts: u32,
        /// Attempts required.
        attempts_min: u32,
        /// Distinct channels used.
        channels: u32,
        /// Channels required.
        channels_min: u32,
    },
    /// The response period (or the announcement period) has not run out yet.
    DeadlineNotReached {
        /// The last day of the period.
        deadline: NaiveDate,
    },
    /// No timer is running because no notice has been served yet.
    NotServed,
    /// The policy's number of return notices is used up.
    ReturnNoticesExhausted,
    /// No such notice on this case, or not one the current state is waiting for.
    UnknownNotice,
    /// The notice already has a receipt.
    AlreadyReceived,
    /// A receipt dated before the dispatch, or in the future.
    ReceiptDateInvalid,
    /// The method is not in the policy's service methods.
    MethodNotAllowed,
    /// Announcement needs a reason and an earlier attempt by another method that failed.
    PublicNoticeNeedsFailedService,
    /// `deemed_served` is only for announcements, and announcements only end that way.
    ReceiptOutcomeMismatch,
    /// The approval chain is not complete.
    ApprovalsPending,
    /// The protected-status screen the policy requires has not been recorded.
    ProtectedStatusNotScreened,
    /// A protection applies: termination is not possible; resolve or cancel the case.
    ProtectedStatus,
    /// The union's waiting period is still running and no reply is recorded.
    UnionWaitRunning {
        /// The first day termination may be served without a reply.
        until: NaiveDate,
    },
    /// The step is required by the policy and cannot be skipped.
    StepRequired,
    /// A reason must be given.
    ReasonRequired,
    /// The policy reserves this step for a case approver.
    ApproverRequired,
    /// Checklist items are still open.
    ChecklistOpen {
        /// How many.
        open: usize,
    },
    /// A date before the case could have it (e.g. an effective date in the past of the approval).
    DateInvalid,
}

impl CaseError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            CaseError::NotAllowed { .. } => "action_not_allowed",
            CaseError::ContactsInsufficient { .. } => "contact_attempts_insufficient",
            CaseError::DeadlineNotReached { .. } => "deadline_not_reached",
            CaseError::NotServed => "notice_not_served",
            CaseError::ReturnNoticesExhausted => "return_notices_exhausted",
            CaseError::UnknownNotice => "unknown_notice",
            CaseError::AlreadyReceived => "notice_already_received",
            CaseError::ReceiptDateInvalid => "receipt_date_invalid",
            CaseError::MethodNotAllowed => "service_method_not_allowed",
            CaseError::PublicNoticeNeedsFailedService => "public_notice_needs_failed_service",
            CaseError::ReceiptOutcomeMismatch => "receipt_outcome_mismatch",
            CaseError::ApprovalsPending => "approvals_pending",
            CaseError::ProtectedStatusNotScreened => "protected_status_not_screened",
            CaseError::ProtectedStatus => "protected_status",
            CaseError::UnionWaitRunning { .. } => "union_wait_running",
            CaseError::StepRequired => "step_required_by_policy",
            CaseError::ReasonRequired => "reason_required",
            CaseError::ApproverRequired => "approver_required",
            CaseError::ChecklistOpen { .. } => "checklist_open",
            CaseError::DateInvalid => "date_invalid",
        }
    }
}

impl fmt::Display for CaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CaseError::NotAllowed { action, state } => write!(f, "{}: {action} in {state}", self.code()),
            CaseError::DeadlineNotReached { deadline } => write!(f, "{}: {deadline}", self.code()),
            CaseError::UnionWaitRunning { until } => write!(f, "{}: {until}", self.code()),
            CaseError::ChecklistOpen { open } => write!(f, "{}: {open}", self.code()),
            CaseError::ContactsInsufficient { attempts, attempts_min, channels, channels_min } => {
                write!(f, "{}: {attempts}/{attempts_min} attempts, {channels}/{channels_min} channels", self.code())
            }
            other => f.write_str(other.code()),
        }
    }
}

impl std::error::Error for CaseError {}

impl Facts<'_> {
    /// The notice the current state waits on and the date its period ends: the response period of the
    /// current return round, counted from the first receipt that served it.
    pub fn deadline(&self) -> Option<NaiveDate> {
        match self.state {
            CaseState::AwaitingReturn => {
                let served = self.timer_start(NoticeKind::ReturnToWork, self.return_round)?;
                let last = served.checked_add_days(Days::new(self.policy.return_notice_response_days.into()))?;
                Some(self.calendar.next_workday_from(last))
            }
            CaseState::UnionNotified if self.union_replied_on.is_none() => {
                let on = self.union_notified_on?;
                Some(self.calendar.add_workdays(on, self.policy.union_wait_workdays))
            }
            CaseState::PublicNotice => self
                .notices
                .iter()
                .filter(|n| n.kind == NoticeKind::Termination && n.method == ServiceMethod::PublicNotice)
                .map(|n| self.announcement_served_on(n.dispatched_on))
                .min(),
            _ => None,
        }
    }

    /// Where the period of a served notice starts: its first serving receipt, or its dispatch where the
    /// policy counts from dispatch.
    fn timer_start(&self, kind: NoticeKind, round: u32) -> Option<NaiveDate> {
        self.notices
            .iter()
            .filter(|n| n.kind == kind && n.round == round)
            .filter_map(|n| {
                let (outcome, on) = n.receipt?;
                outcome.serves().then_some(if self.policy.timers_from_receipt { on } else { n.dispatched_on })
            })
            .min()
    }

    /// The day an announcement published on `published` counts as served.
    fn announcement_served_on(&self, published: NaiveDate) -> NaiveDate {
        published.checked_add_days(Days::new(self.policy.public_notice_days.into())).unwrap_or(published)
    }

    /// Which notice the state sends, and its round.
    fn notice_in_play(&self) -> Option<(NoticeKind, u32)> {
        match self.state {
            CaseState::ReturnNoticeServing => Some((NoticeKind::ReturnToWork, self.return_round)),
            CaseState::TerminationServing | CaseState::PublicNotice => Some((NoticeKind::Termination, 1)),
            _ => None,
        }
    }

    fn before_termination(&self) -> bool {
        matches!(
            self.state,
            CaseState::Contacting
                | CaseState::ReturnNoticeServing
                | CaseState::AwaitingReturn
                | CaseState::CaseReview
                | CaseState::UnionNotified
                | CaseState::TerminationServing
                | CaseState::PublicNotice
        )
    }

    fn ready_for_termination_path(&self) -> Result<(), CaseError> {
        if !self.approved && self.policy.approvals.case_review {
            return Err(CaseError::ApprovalsPending);
        }
        match (self.policy.protected_leave_screening, self.protected_status) {
            (_, Some(true)) => Err(CaseError::ProtectedStatus),
            (true, None) => Err(CaseError::ProtectedStatusNotScreened),
            _ => Ok(()),
        }
    }
}

/// Checks an action against a case and says what it changes.
pub fn apply(f: &Facts<'_>, action: &Action) -> Result<Outcome, CaseError> {
    let stay = Outcome {
        to: f.state,
        deadline: None,
        effective_on: None,
        return_round: f.return_round,
        resignation_last_day: None,
    };
    let to = |state: CaseState| Outcome { to: state, deadline: Some(None), ..stay.clone() };
    let refuse = || CaseError::NotAllowed { action: action.name(), state: f.state };
    let absconding = f.case_type == CaseType::Absconding;
    use CaseState as S;
    match (f.state, action) {
        (S::Contacting | S::ReturnNoticeServing | S::AwaitingReturn, Action::LogContact { .. }) => Ok(stay),
        (S::Contacting, Action::ConfirmDeparture) => {
            let attempts = f.contacts.len() as u32;
            let channels = f.contacts.iter().map(|c| c.channel).collect::<BTreeSet<_>>().len() as u32;
            let (attempts_min, channels_min) = (f.policy.contact_attempts_min, f.policy.contact_channels_min);
            if attempts < attempts_min || channels < channels_min {
                return Err(CaseError::ContactsInsufficient { attempts, attempts_min, channels, channels_min });
            }
            Ok(Outcome { return_round: 1, ..to(S::ReturnNoticeServing) })
        }
        (S::ReturnNoticeServing | S::TerminationServing, Action::DispatchNotice { method, on, reason }) => {
            dispatch(f, *method, *on, reason.as_deref())
        }
        (
            S::ReturnNoticeServing | S::TerminationServing | S::PublicNotice,
            Action::RecordReceipt { notice_id, outcome, on },
        ) => receipt(f, *notice_id, *outcome, *on),
        (S::AwaitingReturn, Action::NextNotice) => {
            passed(f)?;
            if f.return_round >= f.policy.return_notices_max {
                return Err(CaseError::ReturnNoticesExhausted);
            }
            Ok(Outcome { return_round: f.return_round + 1, ..to(S::ReturnNoticeServing) })
        }
        (S::AwaitingReturn, Action::OpenReview) => {
            passed(f)?;
            Ok(to(S::CaseReview))
        }
        (S::ReturnNoticeServing, Action::Skip { step: Step::ReturnNotice, reason }) => {
            skip(f.policy.return_notice_required, reason)?;
            Ok(to(S::CaseReview))
        }
        (S::CaseReview, Action::ScreenProtectedStatus { .. }) => Ok(stay),
        (S::CaseReview, Action::NotifyUnion) => {
            f.ready_for_termination_path()?;
            if f.policy.approvals.union_letter && !f.actor_approves {
                return Err(CaseError::ApproverRequired);
            }
            let mut out = to(S::UnionNotified);
            out.deadline = Some(Some(f.calendar.add_workdays(f.today, f.policy.union_wait_workdays)));
            Ok(out)
        }
        (S::CaseReview, Action::Skip { step: Step::Union, reason }) => {
            skip(f.policy.union_notice_required, reason)?;
            f.ready_for_termination_path()?;
            termination_approver(f)?;
            Ok(to(S::TerminationServing))
        }
        (S::UnionNotified, Action::RecordUnionReply { on }) => {
            if f.union_replied_on.is_some() {
                return Err(refuse());
            }
            if f.union_notified_on.is_some_and(|n| *on < n) || *on > f.today {
                return Err(CaseError::DateInvalid);
            }
            Ok(Outcome { deadline: Some(None), ..stay })
        }
        (S::UnionNotified, Action::ServeTermination) => {
            if f.union_replied_on.is_none() {
                let until = f.deadline().unwrap_or(f.today);
                if f.today < until {
                    return Err(CaseError::UnionWaitRunning { until });
                }
            }
            termination_approver(f)?;
            Ok(to(S::TerminationServing))
        }
        (state, Action::Resolve { .. }) if absconding && f.before_termination() => {
            let _ = state;
            Ok(to(S::Returned))
        }
        (_, Action::ConvertToResignation { received_on, probation }) if absconding && f.before_termination() => {
            if *received_on > f.today {
                return Err(CaseError::DateInvalid);
            }
            let days =
                if *probation { f.policy.resignation_notice_days_probation } else { f.policy.resignation_notice_days };
            Ok(Outcome {
                resignation_last_day: received_on.checked_add_days(Days::new(days.into())),
                ..to(S::Converted)
            })
        }
        (S::Open, Action::Approve) if !absconding => {
            if !f.approved {
                return Err(CaseError::ApprovalsPending);
            }
            Ok(to(S::Approved))
        }
        (S::Approved, Action::Terminate { effective_on }) if !absconding => {
            Ok(Outcome { effective_on: Some(*effective_on), ..to(S::Terminated) })
        }
        (S::Terminated, Action::Close) => match f.open_items {
            0 => Ok(to(S::Closed)),
            open => Err(CaseError::ChecklistOpen { open }),
        },
        (state, Action::Cancel { reason }) if !state.is_final() && !state.is_terminated() => {
            if reason.trim().is_empty() {
                return Err(CaseError::ReasonRequired);
            }
            Ok(to(S::Cancelled))
        }
        _ => Err(refuse()),
    }
}

/// The period the state waits on must have run out (today is after its last day).
fn passed(f: &Facts<'_>) -> Result<(), CaseError> {
    let deadline = f.deadline().ok_or(CaseError::NotServed)?;
    if f.today <= deadline { Err(CaseError::DeadlineNotReached { deadline }) } else { Ok(()) }
}

fn skip(required: bool, reason: &str) -> Result<(), CaseError> {
    if required {
        Err(CaseError::StepRequired)
    } else if reason.trim().is_empty() {
        Err(CaseError::ReasonRequired)
    } else {
        Ok(())
    }
}

fn termination_approver(f: &Facts<'_>) -> Result<(), CaseError> {
    if f.policy.approvals.termination && !f.actor_approves { Err(CaseError::ApproverRequired) } else { Ok(()) }
}

fn dispatch(f: &Facts<'_>, method: ServiceMethod, on: NaiveDate, reason: Option<&str>) -> Result<Outcome, CaseError> {
    let Some((kind, round)) = f.notice_in_play() else {
        return Err(CaseError::NotAllowed { action: "dispatch_notice", state: f.state });
    };
    if !f.policy.service_methods.contains(&method) {
        return Err(CaseError::MethodNotAllowed);
    }
    if on > f.today {
        return Err(CaseError::DateInvalid);
    }
    let stay = Outcome {
        to: f.state,
        deadline: None,
        effective_on: None,
        return_round: f.return_round,
        resignation_last_day: None,
    };
    if method != ServiceMethod::PublicNotice {
        return Ok(stay);
    }
    // Announcement is lawful only when the person cannot be reached otherwise: a reason, and an attempt by
    // another method for this very notice that came back undelivered.
    let failed_before = f.notices.iter().any(|n| {
        n.kind == kind
            && n.round == round
            && n.method != ServiceMethod::PublicNotice
            && matches!(n.receipt, Some((ReceiptOutcome::Undeliverable, _)))
    });
    if !failed_before || reason.is_none_or(|r| r.trim().is_empty()) {
        return Err(CaseError::PublicNoticeNeedsFailedService);
    }
    if f.policy.approvals.public_notice && !f.actor_approves {
        return Err(CaseError::ApproverRequired);
    }
    let served = f.announcement_served_on(on);
    match kind {
        NoticeKind::Termination => Ok(Outcome { to: CaseState::PublicNotice, deadline: Some(Some(served)), ..stay }),
        NoticeKind::ReturnToWork => Ok(Outcome { deadline: Some(Some(served)), ..stay }),
    }
}

fn receipt(f: &Facts<'_>, notice_id: i64, outcome: ReceiptOutcome, on: NaiveDate) -> Result<Outcome, CaseError> {
    let (kind, round) = f.notice_in_play().ok_or(CaseError::UnknownNotice)?;
    let notice = f
        .notices
        .iter()
        .find(|n| n.id == notice_id && n.kind == kind && n.round == round)
        .ok_or(CaseError::UnknownNotice)?;
    if notice.receipt.is_some() {
        return Err(CaseError::AlreadyReceived);
    }
    if on < notice.dispatched_on || on > f.today {
        return Err(CaseError::ReceiptDateInvalid);
    }
    let announced = notice.method == ServiceMethod::PublicNotice;
    if announced != (outcome == ReceiptOutcome::DeemedServed) {
        return Err(CaseError::ReceiptOutcomeMismatch);
    }
    if announced {
        let served = f.announcement_served_on(notice.dispatched_on);
        if on != served {
            return Err(if f.today < served {
                CaseError::DeadlineNotReached { deadline: served }
            } else {
                CaseError::ReceiptDateInvalid
            });
        }
    }
    let stay = Outcome {
        to: f.state,
        deadline: None,
        effective_on: None,
        return_round: f.return_round,
        resignation_last_day: None,
    };
    if !outcome.serves() {
        return Ok(stay);
    }
    let start = if f.policy.timers_from_receipt { on } else { notice.dispatched_on };
    match kind {
        NoticeKind::ReturnToWork => {
            let last = start.checked_add_days(Days::new(f.policy.return_notice_response_days.into())).unwrap_or(start);
            Ok(Outcome {
                to: CaseState::AwaitingReturn,
                deadline: Some(Some(f.calendar.next_workday_from(last))),
                ..stay
            })
        }
        NoticeKind::Termination => {
            let effective = if f.policy.termination_effective_on_service { on } else { notice.dispatched_on };
            Ok(Outcome { to: CaseState::Terminated, deadline: Some(None), effective_on: Some(effective), ..stay })
        }
    }
}

#[cfg(test)]
#[path = "process_tests.rs"]
mod tests;
