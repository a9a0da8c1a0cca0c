//! Demo cases in every state, driven through the same use cases and rules as real ones, with notice dates in
//! the past so every period has run where the story needs it to.

use crate::case_flow::decide;
use crate::cases::{self, Command, OpenCase};
use crate::{App, AppError, Ctx, auth};
use chrono::{Days, NaiveDate};
use lizhi_core::case::approval::Decision;

/// How far down the absconding process a demo case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Stage {
    Contacting,
    Serving,
    Awaiting,
    Review,
    Union,
    Termination,
    Announced,
    Terminated,
    Closed,
}

/// Employees the demo cases need.
pub(crate) const CASE_PEOPLE: usize = 13;

fn ago(today: NaiveDate, days: u64) -> NaiveDate {
    today.checked_sub_days(Days::new(days)).unwrap_or(today)
}

/// The id of the notice just sent.
async fn last_notice(app: &App, ctx: &Ctx, id: i64) -> Result<i64, AppError> {
    let case = crate::case_view::get(app, ctx, id).await?;
    case.notices.last().map(|n| n.id).ok_or(AppError::Internal("demo: no notice".into()))
}

async fn run(app: &App, ctx: &Ctx, id: i64, command: Command) -> Result<(), AppError> {
    cases::act(app, ctx, id, &command).await
}

/// Opens an absconding case and walks it to `stage`.
async fn absconding(
    app: &App,
    hr: &Ctx,
    approvers: &[Ctx],
    no: &str,
    today: NaiveDate,
    stage: Stage,
) -> Result<i64, AppError> {
    let open = OpenCase {
        employee_no: no.into(),
        case_type: "absconding".into(),
        first_absent_date: None,
        effective_on: None,
    };
    let id = cases::open(app, hr, &open).await?;
    let contacts = if stage == Stage::Contacting { 1 } else { 3 };
    for (i, channel) in ["phone", "wecom", "phone"].into_iter().take(contacts).enumerate() {
        let note = ["电话无人接听", "企业微信消息未读", "再次致电，关机"][i];
        let log = Command::LogContact {
            channel: channel.into(),
            outcome: "no_answer".into(),
            happened_at: None,
            note: Some(note.into()),
        };
        run(app, hr, id, log).await?;
    }
    if stage == Stage::Contacting {
        return Ok(id);
    }
    run(app, hr, id, Command::ConfirmDeparture).await?;
    // A fresh notice is still on its way; the others were received long enough ago for the period to run.
    let sent = match stage {
        Stage::Serving => ago(today, 1),
        Stage::Awaiting => ago(today, 2),
        _ => ago(today, 14),
    };
    let post = Command::DispatchNotice {
        method: "post".into(),
        on: sent,
        tracking_no: Some(format!("EMS{id:09}")),
        reason: None,
    };
    run(app, hr, id, post).await?;
    if stage == Stage::Serving {
        return Ok(id);
    }
    let received = if stage == Stage::Awaiting { ago(today, 1) } else { ago(today, 12) };
    let notice_id = last_notice(app, hr, id).await?;
    let receipt = Command::RecordReceipt {
        notice_id,
        outcome: "signed".into(),
        on: received,
        note: Some("EMS 妥投，本人签收".into()),
    };
    run(app, hr, id, receipt).await?;
    if stage == Stage::Awaiting {
        return Ok(id);
    }
    run(app, hr, id, Command::OpenReview).await?;
    if stage == Stage::Review {
        return Ok(id);
    }
    for approver in approvers {
        decide(app, approver, id, Decision::Approve, Some("证据齐全，同意")).await?;
    }
    let screen = Command::ScreenProtectedStatus {
        protected: false, note: Some("无孕期、医疗期、工伤等情形".into())
    };
    run(app, hr, id, screen).await?;
    run(app, hr, id, Command::NotifyUnion).await?;
    if stage == Stage::Union {
        return Ok(id);
    }
    // The union was notified today by the server's clock (the demo's "today" may be a chosen past date).
    let notified = crate::case_view::get(app, hr, id).await?.union_notified_on.unwrap_or(today);
    run(app, hr, id, Command::RecordUnionReply { on: notified, note: Some("工会无异议".into()) }).await?;
    run(app, hr, id, Command::ServeTermination).await?;
    let post = Command::DispatchNotice { method: "post".into(), on: ago(today, 2), tracking_no: None, reason: None };
    run(app, hr, id, post).await?;
    if stage == Stage::Termination {
        return Ok(id);
    }
    let notice_id = last_notice(app, hr, id).await?;
    if stage == Stage::Announced {
        let back = Command::RecordReceipt { notice_id, outcome: "undeliverable".into(), on: ago(today, 1), note: None };
        run(app, hr, id, back).await?;
        let reason = Some("合同地址查无此人，电话关机，下落不明".into());
        run(
            app,
            hr,
            id,
            Command::DispatchNotice { method: "public_notice".into(), on: today, tracking_no: None, reason },
        )
        .await?;
        return Ok(id);
    }
    let served = Command::RecordReceipt { notice_id, outcome: "signed".into(), on: ago(today, 1), note: None };
    run(app, hr, id, served).await?;
    if stage == Stage::Closed {
        let items = crate::case_view::get(app, hr, id).await?.checklist;
        for item in items {
            crate::case_flow::update_item(app, hr, item.id, "done", Some("演示数据：已办结")).await?;
        }
        let close = Command::Close {
            rehire_eligible: None,
            rehire_reason: None,
            skills: Some("Rust, PostgreSQL, 性能优化".into()),
        };
        run(app, hr, id, close).await?;
    }
    Ok(id)
}

/// Seeds cases in every state for the given employees, in this order: contacting, serving a return notice,
/// awaiting return (best given to planted absconders), then review, union, termination, announcement,
/// terminated, closed, returned, converted, cancelled and an approved mutual agreement (people whose department
/// head is the demo manager, so the approvals go through). Needs [`CASE_PEOPLE`] employee numbers.
pub(crate) async fn seed(app: &App, people: &[String], today: NaiveDate) -> Result<(), AppError> {
    let hr = Ctx::system("demo");
    let mut approvers = Vec::new();
    for name in ["hr-supervisor", "manager"] {
        approvers.push(Ctx::user(auth::principal_named(app, name).await?, crate::new_request_id()));
    }
    let stages = [
        Stage::Contacting,
        Stage::Serving,
        Stage::Awaiting,
        Stage::Review,
        Stage::Union,
        Stage::Termination,
        Stage::Announced,
        Stage::Terminated,
        Stage::Closed,
    ];
    let mut people = people.iter();
    let mut next = || people.next().cloned().ok_or(AppError::Internal("demo: too few employees for cases".into()));
    for stage in stages {
        absconding(app, &hr, &approvers, &next()?, today, stage).await?;
    }
    let open = |no: String, kind: &str, effective_on: Option<NaiveDate>| OpenCase {
        employee_no: no,
        case_type: kind.into(),
        first_absent_date: None,
        effective_on,
    };
    let returned = cases::open(app, &hr, &open(next()?, "absconding", None)).await?;
    run(
        app,
        &hr,
        returned,
        Command::Resolve {
            resolution: "discipline_only".into(), note: Some("第三天返岗，按旷工处理".into())
        },
    )
    .await?;
    let converted = cases::open(app, &hr, &open(next()?, "absconding", None)).await?;
    run(app, &hr, converted, Command::ConvertToResignation { received_on: ago(today, 1), probation: false }).await?;
    let cancelled = cases::open(app, &hr, &open(next()?, "absconding", None)).await?;
    run(app, &hr, cancelled, Command::Cancel { reason: "考勤机故障导致误报".into() }).await?;
    let agreed =
        cases::open(app, &hr, &open(next()?, "mutual_agreement", today.checked_add_days(Days::new(30)))).await?;
    decide(app, &approvers[0], agreed, Decision::Approve, Some("同意协商解除")).await?;
    Ok(())
}
