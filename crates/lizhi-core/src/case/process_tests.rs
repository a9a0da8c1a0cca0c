use super::*;
use crate::calendar::DayOverride;
use crate::values::PolicyProfile;

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// CN calendar around National Day 2024: 1–7 Oct off, 29 Sep and 12 Oct worked.
fn calendar() -> WorkCalendar {
    let mut cal = WorkCalendar::new("cn");
    for day in 1..=7 {
        cal.set_override(NaiveDate::from_ymd_opt(2024, 10, day).unwrap(), DayOverride::Holiday { name: "国庆".into() });
    }
    cal.set_override(d("2024-09-29"), DayOverride::Workday { name: "调休".into() });
    cal.set_override(d("2024-10-12"), DayOverride::Workday { name: "调休".into() });
    cal
}

/// A case driven through `apply`, keeping its facts as the application would.
struct Case {
    policy: Policy,
    calendar: WorkCalendar,
    case_type: CaseType,
    state: CaseState,
    today: NaiveDate,
    contacts: Vec<Contact>,
    notices: Vec<Notice>,
    return_round: u32,
    approved: bool,
    protected_status: Option<bool>,
    union_notified_on: Option<NaiveDate>,
    union_replied_on: Option<NaiveDate>,
    open_items: usize,
    actor_approves: bool,
    deadline: Option<NaiveDate>,
    effective_on: Option<NaiveDate>,
}

impl Case {
    fn new(profile: PolicyProfile, case_type: CaseType, today: &str) -> Self {
        Case {
            policy: Policy::defaults(profile),
            calendar: calendar(),
            case_type,
            state: if case_type == CaseType::Absconding { CaseState::Contacting } else { CaseState::Open },
            today: d(today),
            contacts: Vec::new(),
            notices: Vec::new(),
            return_round: 0,
            approved: false,
            protected_status: None,
            union_notified_on: None,
            union_replied_on: None,
            open_items: 0,
            actor_approves: true,
            deadline: None,
            effective_on: None,
        }
    }

    fn facts(&self) -> Facts<'_> {
        Facts {
            case_type: self.case_type,
            state: self.state,
            policy: &self.policy,
            calendar: &self.calendar,
            today: self.today,
            contacts: self.contacts.clone(),
            notices: self.notices.clone(),
            return_round: self.return_round,
            approved: self.approved,
            protected_status: self.protected_status,
            union_notified_on: self.union_notified_on,
            union_replied_on: self.union_replied_on,
            open_items: self.open_items,
            actor_approves: self.actor_approves,
        }
    }

    /// Applies an action and records its effects; returns the error code on refusal.
    fn act(&mut self, action: Action) -> Result<CaseState, &'static str> {
        let out = apply(&self.facts(), &action).map_err(|e| e.code())?;
        match &action {
            Action::LogContact { channel } => self.contacts.push(Contact { channel: *channel }),
            Action::DispatchNotice { method, on, .. } => {
                let (kind, round) = self.facts().notice_in_play().unwrap();
                let id = self.notices.len() as i64 + 1;
                self.notices.push(Notice { id, kind, round, method: *method, dispatched_on: *on, receipt: None });
            }
            Action::RecordReceipt { notice_id, outcome, on } => {
                let n = self.notices.iter_mut().find(|n| n.id == *notice_id).unwrap();
                n.receipt = Some((*outcome, *on));
            }
            Action::ScreenProtectedStatus { protected } => self.protected_status = Some(*protected),
            Action::NotifyUnion => self.union_notified_on = Some(self.today),
            Action::RecordUnionReply { on } => self.union_replied_on = Some(*on),
            _ => {}
        }
        self.state = out.to;
        self.return_round = out.return_round;
        if let Some(deadline) = out.deadline {
            self.deadline = deadline;
        }
        if out.effective_on.is_some() {
            self.effective_on = out.effective_on;
        }
        Ok(self.state)
    }

    fn contacted(&mut self) {
        for channel in [Channel::Phone, Channel::Phone, Channel::Wecom] {
            self.act(Action::LogContact { channel }).unwrap();
        }
    }

    fn last_notice(&self) -> i64 {
        self.notices.last().unwrap().id
    }

    fn dispatch(&mut self, method: ServiceMethod, on: &str) -> Result<CaseState, &'static str> {
        self.act(Action::DispatchNotice { method, on: d(on), reason: None })
    }

    fn receive(&mut self, outcome: ReceiptOutcome, on: &str) -> Result<CaseState, &'static str> {
        self.act(Action::RecordReceipt { notice_id: self.last_notice(), outcome, on: d(on) })
    }
}

#[test]
fn a_cn_absconding_case_runs_every_step_in_order() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-02");
    assert_eq!(c.act(Action::ConfirmDeparture), Err("contact_attempts_insufficient"));
    c.act(Action::LogContact { channel: Channel::Phone }).unwrap();
    c.act(Action::LogContact { channel: Channel::Phone }).unwrap();
    c.act(Action::LogContact { channel: Channel::Phone }).unwrap();
    assert_eq!(c.act(Action::ConfirmDeparture), Err("contact_attempts_insufficient"), "one channel only");
    c.act(Action::LogContact { channel: Channel::Wecom }).unwrap();
    assert_eq!(c.act(Action::ConfirmDeparture), Ok(CaseState::ReturnNoticeServing));

    c.dispatch(ServiceMethod::Post, "2024-09-02").unwrap();
    c.today = d("2024-09-05");
    assert_eq!(c.receive(ReceiptOutcome::Signed, "2024-09-04"), Ok(CaseState::AwaitingReturn));
    assert_eq!(c.deadline, Some(d("2024-09-09")), "4 Sep + 3 = Saturday 7 Sep, rolled to Monday 9 Sep");
    assert_eq!(c.facts().deadline(), c.deadline, "the stored timer and the derived one agree");
    c.today = d("2024-09-09");
    assert_eq!(c.act(Action::OpenReview), Err("deadline_not_reached"), "the last day itself still counts");
    c.today = d("2024-09-10");
    assert_eq!(c.act(Action::OpenReview), Ok(CaseState::CaseReview));

    assert_eq!(c.act(Action::NotifyUnion), Err("approvals_pending"));
    c.approved = true;
    assert_eq!(c.act(Action::NotifyUnion), Err("protected_status_not_screened"));
    c.act(Action::ScreenProtectedStatus { protected: false }).unwrap();
    c.actor_approves = false;
    assert_eq!(c.act(Action::NotifyUnion), Err("approver_required"));
    c.actor_approves = true;
    assert_eq!(c.act(Action::Skip { step: Step::Union, reason: "no union".into() }), Err("step_required_by_policy"));
    assert_eq!(c.act(Action::NotifyUnion), Ok(CaseState::UnionNotified));
    assert_eq!(c.deadline, Some(d("2024-09-17")), "5 workdays after Tuesday 10 Sep");

    assert_eq!(c.act(Action::ServeTermination), Err("union_wait_running"));
    c.today = d("2024-09-12");
    c.act(Action::RecordUnionReply { on: d("2024-09-12") }).unwrap();
    assert_eq!(c.act(Action::ServeTermination), Ok(CaseState::TerminationServing));
    c.dispatch(ServiceMethod::InPerson, "2024-09-12").unwrap();
    assert_eq!(c.receive(ReceiptOutcome::Signed, "2024-09-12"), Ok(CaseState::Terminated));
    assert_eq!(c.effective_on, Some(d("2024-09-12")), "effective on service");

    c.open_items = 2;
    assert_eq!(c.act(Action::Close), Err("checklist_open"));
    c.open_items = 0;
    assert_eq!(c.act(Action::Cancel { reason: "oops".into() }), Err("action_not_allowed"));
    assert_eq!(c.act(Action::Close), Ok(CaseState::Closed));
}

#[test]
fn steps_cannot_be_skipped() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-02");
    for action in [Action::OpenReview, Action::NotifyUnion, Action::ServeTermination, Action::Close, Action::Approve] {
        assert_eq!(c.act(action.clone()), Err("action_not_allowed"), "{action:?} from contacting");
    }
    assert_eq!(c.act(Action::Terminate { effective_on: d("2024-09-02") }), Err("action_not_allowed"));
    c.contacted();
    c.act(Action::ConfirmDeparture).unwrap();
    assert_eq!(c.act(Action::OpenReview), Err("action_not_allowed"), "no review before a notice is served");
    assert_eq!(
        c.act(Action::Skip { step: Step::ReturnNotice, reason: "urgent".into() }),
        Err("step_required_by_policy")
    );
    assert_eq!(c.act(Action::ConfirmDeparture), Err("action_not_allowed"), "not twice");
}

#[test]
fn the_response_period_runs_from_receipt_not_dispatch_and_around_holidays() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-20");
    c.contacted();
    c.act(Action::ConfirmDeparture).unwrap();
    c.dispatch(ServiceMethod::Post, "2024-09-20").unwrap();
    c.today = d("2024-09-30");
    assert_eq!(c.receive(ReceiptOutcome::Signed, "2024-10-01"), Err("receipt_date_invalid"), "in the future");
    assert_eq!(c.receive(ReceiptOutcome::Signed, "2024-09-19"), Err("receipt_date_invalid"), "before dispatch");
    c.receive(ReceiptOutcome::Signed, "2024-09-28").unwrap();
    // 28 Sep + 3 = 1 Oct, a holiday: the period ends on the first workday after, 8 Oct.
    assert_eq!(c.deadline, Some(d("2024-10-08")));
    c.today = d("2024-10-08");
    assert_eq!(c.act(Action::NextNotice), Err("deadline_not_reached"));
    c.today = d("2024-10-09");
    assert_eq!(c.act(Action::NextNotice), Ok(CaseState::ReturnNoticeServing));
    assert_eq!(c.return_round, 2);
    c.dispatch(ServiceMethod::Post, "2024-10-09").unwrap();
    c.today = d("2024-10-20");
    c.receive(ReceiptOutcome::Refused, "2024-10-10").unwrap();
    assert_eq!(c.deadline, Some(d("2024-10-14")), "refusal serves; 13 Oct is a Sunday");
    c.today = d("2024-10-15");
    assert_eq!(c.act(Action::NextNotice), Err("return_notices_exhausted"));
    assert_eq!(c.act(Action::OpenReview), Ok(CaseState::CaseReview));
}

#[test]
fn undelivered_notices_start_nothing_and_announcement_is_the_last_resort() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-02");
    c.contacted();
    c.act(Action::ConfirmDeparture).unwrap();
    let announce = |c: &mut Case, reason: Option<&str>| {
        c.act(Action::DispatchNotice {
            method: ServiceMethod::PublicNotice,
            on: c.today,
            reason: reason.map(str::to_owned),
        })
    };
    assert_eq!(announce(&mut c, Some("whereabouts unknown")), Err("public_notice_needs_failed_service"));
    c.dispatch(ServiceMethod::Post, "2024-09-02").unwrap();
    c.today = d("2024-09-06");
    assert_eq!(c.receive(ReceiptOutcome::DeemedServed, "2024-09-05"), Err("receipt_outcome_mismatch"));
    assert_eq!(c.receive(ReceiptOutcome::Undeliverable, "2024-09-05"), Ok(CaseState::ReturnNoticeServing));
    assert_eq!(c.act(Action::OpenReview), Err("action_not_allowed"));
    assert_eq!(announce(&mut c, None), Err("public_notice_needs_failed_service"), "a reason is required");
    c.actor_approves = false;
    assert_eq!(announce(&mut c, Some("whereabouts unknown")), Err("approver_required"));
    c.actor_approves = true;
    announce(&mut c, Some("whereabouts unknown")).unwrap();
    assert_eq!(c.deadline, Some(d("2024-10-06")), "served 30 days after publication");
    assert_eq!(c.receive(ReceiptOutcome::DeemedServed, "2024-09-06"), Err("deadline_not_reached"));
    c.today = d("2024-10-06");
    assert_eq!(c.receive(ReceiptOutcome::Signed, "2024-10-06"), Err("receipt_outcome_mismatch"));
    assert_eq!(c.receive(ReceiptOutcome::DeemedServed, "2024-10-06"), Ok(CaseState::AwaitingReturn));
    assert_eq!(c.deadline, Some(d("2024-10-09")), "6 Oct + 3 = 9 Oct, a workday");
}

#[test]
fn termination_by_announcement_takes_effect_when_it_counts_as_served() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-11-01");
    c.state = CaseState::TerminationServing;
    c.dispatch(ServiceMethod::Post, "2024-11-01").unwrap();
    c.receive(ReceiptOutcome::Undeliverable, "2024-11-01").unwrap();
    c.act(Action::DispatchNotice {
        method: ServiceMethod::PublicNotice,
        on: d("2024-11-01"),
        reason: Some("moved".into()),
    })
    .unwrap();
    assert_eq!(c.state, CaseState::PublicNotice);
    c.today = d("2024-11-30");
    assert_eq!(c.receive(ReceiptOutcome::DeemedServed, "2024-11-30"), Err("deadline_not_reached"));
    c.today = d("2024-12-01");
    assert_eq!(c.receive(ReceiptOutcome::DeemedServed, "2024-12-01"), Ok(CaseState::Terminated));
    assert_eq!(c.effective_on, Some(d("2024-12-01")));
}

#[test]
fn a_return_before_termination_ends_the_termination_path_but_not_after() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-02");
    c.state = CaseState::UnionNotified;
    c.union_notified_on = Some(d("2024-09-02"));
    assert_eq!(c.act(Action::Resolve { resolution: Resolution::DisciplineOnly }), Ok(CaseState::Returned));
    assert_eq!(c.act(Action::ServeTermination), Err("action_not_allowed"));
    let mut t = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-02");
    t.state = CaseState::Terminated;
    assert_eq!(t.act(Action::Resolve { resolution: Resolution::Justified }), Err("action_not_allowed"));
}

#[test]
fn a_written_resignation_converts_with_the_notice_period() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-10");
    c.contacted();
    let out =
        apply(&c.facts(), &Action::ConvertToResignation { received_on: d("2024-09-09"), probation: false }).unwrap();
    assert_eq!((out.to, out.resignation_last_day), (CaseState::Converted, Some(d("2024-10-09"))));
    let out =
        apply(&c.facts(), &Action::ConvertToResignation { received_on: d("2024-09-09"), probation: true }).unwrap();
    assert_eq!(out.resignation_last_day, Some(d("2024-09-12")));
    let future = Action::ConvertToResignation { received_on: d("2024-09-11"), probation: false };
    assert_eq!(c.act(future), Err("date_invalid"));
}

#[test]
fn a_protected_status_stops_the_termination_path() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Absconding, "2024-09-02");
    c.state = CaseState::CaseReview;
    c.approved = true;
    c.act(Action::ScreenProtectedStatus { protected: true }).unwrap();
    assert_eq!(c.act(Action::NotifyUnion), Err("protected_status"));
    assert_eq!(c.act(Action::Cancel { reason: " ".into() }), Err("reason_required"));
    assert_eq!(c.act(Action::Cancel { reason: "medical leave certified".into() }), Ok(CaseState::Cancelled));
}

#[test]
fn a_policy_without_the_union_step_still_needs_a_recorded_reason() {
    let mut c = Case::new(PolicyProfile::UsGeneric, CaseType::Absconding, "2024-09-02");
    c.state = CaseState::CaseReview;
    c.approved = true;
    c.protected_status = Some(false);
    assert_eq!(c.act(Action::Skip { step: Step::Union, reason: "".into() }), Err("reason_required"));
    assert_eq!(
        c.act(Action::Skip { step: Step::Union, reason: "no union under US-generic".into() }),
        Ok(CaseState::TerminationServing)
    );
    let mut r = Case::new(PolicyProfile::UsGeneric, CaseType::Absconding, "2024-09-02");
    r.state = CaseState::ReturnNoticeServing;
    r.return_round = 1;
    assert_eq!(
        r.act(Action::Skip { step: Step::ReturnNotice, reason: "policy: no letter".into() }),
        Ok(CaseState::CaseReview)
    );
}

#[test]
fn other_types_go_open_approved_terminated_closed() {
    let mut c = Case::new(PolicyProfile::CnDefault, CaseType::Resignation, "2024-09-02");
    assert_eq!(c.act(Action::Approve), Err("approvals_pending"));
    assert_eq!(c.act(Action::ConfirmDeparture), Err("action_not_allowed"));
    assert_eq!(c.act(Action::Resolve { resolution: Resolution::Justified }), Err("action_not_allowed"));
    c.approved = true;
    assert_eq!(c.act(Action::Approve), Ok(CaseState::Approved));
    assert_eq!(c.act(Action::Terminate { effective_on: d("2024-10-02") }), Ok(CaseState::Terminated));
    assert_eq!(c.effective_on, Some(d("2024-10-02")));
    assert_eq!(c.act(Action::Close), Ok(CaseState::Closed));
}

#[test]
fn channel_names_list_every_channel_in_order() {
    let names: Vec<&str> = Channel::ALL.iter().map(|c| c.name()).collect();
    assert_eq!(names, Channel::NAMES);
    assert!(Channel::NAMES.iter().all(|n| Channel::parse(n).is_some()));
}
