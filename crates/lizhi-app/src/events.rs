//! What other systems and people are told when a case moves, queued in the transaction of the move (the
//! transactional outbox), so a crash can neither lose a notice nor send one for a change that was rolled back.
//!
//! Webhooks get the four business events (finance stops pay only on `pay.stop_requested`, which exists only
//! once termination is effective). WeCom gets a text card for the person's line manager and HR. The person
//! the case is about is never a recipient: an absconding employee learns of the case through the served
//! notices, not through a chat message.

use crate::i18n::{Locale, t_args};
use crate::{AppError, case_flow};
use chrono::{DateTime, Utc};
use lizhi_core::auth::Role;
use lizhi_core::connector::ConnectorKind;
use lizhi_core::model::Employee;
use lizhi_store::Conn;
use lizhi_store::cases::CaseRow;
use lizhi_store::connectors::{self, ConnectorRow};
use lizhi_store::outbox;
use serde::{Deserialize, Serialize};

/// The outbox channel of webhook deliveries.
pub const WEBHOOK_CHANNEL: &str = "webhook";
/// The outbox channel of WeCom messages.
pub const WECOM_CHANNEL: &str = "wecom";
/// The outbox channel of updates to WeCom cards already sent (an approval card after the press).
pub const WECOM_UPDATE_CHANNEL: &str = "wecom_update";

/// What a card update carries: replace the pressed card's buttons with a note of what was done.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct CardUpdate {
    /// The WeCom connector's code.
    pub connector: String,
    /// The member whose card is updated.
    pub userid: String,
    /// The one-time code WeCom gave with the press.
    pub response_code: String,
    /// What the buttons become ("已同意").
    pub replace_name: String,
}

/// A business event other systems subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// An absconding employee's departure is confirmed (access is being cut).
    DepartureConfirmed,
    /// The contract has ended.
    Terminated,
    /// Everything is done; the person is in the alumni pool.
    CaseClosed,
    /// Payroll should stop pay (sent only once termination is effective).
    PayStopRequested,
    /// A person whose departure was confirmed came back (the case ended without termination): undo
    /// whatever `employee.departure_confirmed` started.
    Returned,
}

impl Event {
    /// Every event.
    pub const ALL: [Event; 5] =
        [Event::DepartureConfirmed, Event::Terminated, Event::CaseClosed, Event::PayStopRequested, Event::Returned];

    /// The event's wire name (`X-Lizhi-Event`, the `type` field, webhook subscriptions).
    pub fn name(self) -> &'static str {
        match self {
            Event::DepartureConfirmed => "employee.departure_confirmed",
            Event::Terminated => "employee.terminated",
            Event::CaseClosed => "case.closed",
            Event::PayStopRequested => "pay.stop_requested",
            Event::Returned => "employee.returned",
        }
    }

    /// Parses [`Event::name`].
    pub fn parse(raw: &str) -> Option<Event> {
        Event::ALL.into_iter().find(|e| e.name() == raw.trim())
    }

    /// Whether people are told in WeCom (pay is finance's business, told by webhook only).
    fn told_in_wecom(self) -> bool {
        self != Event::PayStopRequested
    }
}

/// The body of a webhook delivery: what happened, to whom, under which case. Only what a receiving system
/// needs to act (no contact details, no reasons).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventBody {
    /// Stable id of this event for this endpoint: receivers deduplicate on it.
    pub id: String,
    /// [`Event::name`].
    #[serde(rename = "type")]
    pub kind: String,
    /// When the case moved.
    pub occurred_at: DateTime<Utc>,
    /// The case and the person.
    pub data: EventData,
}

/// See [`EventBody`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct EventData {
    /// Case id in Lizhi.
    pub case_id: i64,
    /// Case type name.
    pub case_type: String,
    /// The case's state after the move.
    pub state: String,
    /// Employee number.
    pub employee_no: String,
    /// Name.
    pub employee_name: String,
    /// Legal entity code.
    pub legal_entity: String,
    /// Org unit code.
    pub org_unit: String,
    /// The last day of employment, once known.
    pub effective_on: Option<chrono::NaiveDate>,
}

/// What a WeCom outbox row carries: the card, already in the recipients' language.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WeComCard {
    /// The WeCom connector's code.
    pub connector: String,
    /// WeCom userids (never the case's person).
    pub to: Vec<String>,
    /// Card title.
    pub title: String,
    /// Card text.
    pub description: String,
    /// Path of the page the card opens, joined to the public URL when sent.
    pub path: String,
    /// For an approval: a button card whose "approve" button comes back as a `template_card_event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval: Option<ApprovalButtons>,
}

/// The buttons of an approval card. Rejecting needs a reason, so "reject" opens the case page instead of
/// deciding from the chat.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ApprovalButtons {
    /// WeCom's task id, which names the case, the step and the approver: see [`parse_task_id`].
    pub task_id: String,
    /// The approve button's text.
    pub approve: String,
    /// The text of the button that opens the case page to reject.
    pub reject: String,
}

/// What a delivery is about, read from its outbox key (`<channel>:<connector>:<what>:…`, as written here and by
/// the card updates): an event name, `approval` or `card`.
pub fn subject_of_key(key: &str) -> &str {
    key.split(':').nth(2).unwrap_or_default()
}

/// The task id of an approval card: `lz<case>s<step>u<user>` (WeCom allows letters, digits, `_-@`).
pub fn task_id(case_id: i64, step_id: i64, user_id: i64) -> String {
    format!("lz{case_id}s{step_id}u{user_id}")
}

/// Reads [`task_id`] back as (case, step, user).
pub fn parse_task_id(raw: &str) -> Option<(i64, i64, i64)> {
    let rest = raw.strip_prefix("lz")?;
    let (case, rest) = rest.split_once('s')?;
    let (step, user) = rest.split_once('u')?;
    Some((case.parse().ok()?, step.parse().ok()?, user.parse().ok()?))
}

/// Webhook settings that matter here: which events an endpoint wants (all when absent).
#[derive(Deserialize)]
struct Subscription {
    #[serde(default)]
    events: Option<Vec<String>>,
}

fn subscribed(connector: &ConnectorRow, event: Event) -> bool {
    serde_json::from_str::<Subscription>(&connector.settings)
        .ok()
        .is_none_or(|s| s.events.is_none_or(|list| list.iter().any(|e| e == event.name())))
}

/// Queues `events` of a case for every enabled webhook subscribed to them and as WeCom cards to the
/// person's line manager and HR. Idempotent per (endpoint, event, case): a repeated move queues nothing.
pub(crate) async fn emit(
    c: &mut Conn<'_>,
    case: &CaseRow,
    employee: &Employee,
    events: &[Event],
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if events.is_empty() {
        return Ok(());
    }
    let systems: Vec<ConnectorRow> = connectors::list(c).await?.into_iter().filter(|k| k.enabled).collect();
    let kind = |k: &ConnectorRow| ConnectorKind::parse(&k.kind);
    let mut queued = false;
    for event in events {
        for hook in systems.iter().filter(|k| kind(k) == Some(ConnectorKind::Webhook) && subscribed(k, *event)) {
            let key = format!("webhook:{}:{}:case:{}", hook.code, event.name(), case.id);
            let body = EventBody {
                id: hex::encode(&sha256(&key)[..16]),
                kind: event.name().into(),
                occurred_at: now,
                data: EventData {
                    case_id: case.id,
                    case_type: case.case_type.clone(),
                    state: case.state.clone(),
                    employee_no: employee.employee_no.clone(),
                    employee_name: employee.name.clone(),
                    legal_entity: employee.legal_entity_code.clone(),
                    org_unit: employee.org_unit_code.clone(),
                    effective_on: case.effective_on,
                },
            };
            let payload = serde_json::to_string(&body).map_err(|e| AppError::Internal(e.to_string()))?;
            queued |= outbox::enqueue_for(c, WEBHOOK_CHANNEL, &key, &hook.code, &payload, Some(case.id), now).await?;
        }
    }
    let wecom: Vec<&ConnectorRow> = systems.iter().filter(|k| kind(k) == Some(ConnectorKind::WeCom)).collect();
    if !wecom.is_empty() && events.iter().any(|e| e.told_in_wecom()) {
        queued |= wecom_cards(c, case, employee, events, &wecom, now).await?;
    }
    if queued {
        lizhi_store::wake::announce(c).await?;
    }
    Ok(())
}

/// The WeCom cards of `events`, one per connector, event and language; true when any was new.
async fn wecom_cards(
    c: &mut Conn<'_>,
    case: &CaseRow,
    employee: &Employee,
    events: &[Event],
    wecom: &[&ConnectorRow],
    now: DateTime<Utc>,
) -> Result<bool, AppError> {
    let mut queued = false;
    let people = recipients(c, case, employee).await?;
    for system in wecom.iter().copied() {
        // Each recipient's WeCom account in this corp, grouped by the language they read Lizhi in.
        let mut by_locale: Vec<(Locale, Vec<String>)> = Vec::new();
        for (employee_id, locale) in &people {
            let Some(account) =
                connectors::identities_of(c, *employee_id).await?.into_iter().find(|i| i.system == system.code)
            else {
                continue;
            };
            match by_locale.iter_mut().find(|(l, _)| l == locale) {
                Some((_, to)) => to.push(account.account_id),
                None => by_locale.push((*locale, vec![account.account_id])),
            }
        }
        for event in events.iter().filter(|e| e.told_in_wecom()) {
            for (locale, to) in &by_locale {
                let what = event.name().replace('.', "-");
                let card = card(system, case, *locale, &what, &card_args(case, employee, *locale), to.clone());
                let key = format!("wecom:{}:{}:case:{}:{}", system.code, event.name(), case.id, locale.tag());
                let payload = serde_json::to_string(&card).map_err(|e| AppError::Internal(e.to_string()))?;
                queued |=
                    outbox::enqueue_for(c, WECOM_CHANNEL, &key, &system.code, &payload, Some(case.id), now).await?;
            }
        }
    }
    Ok(queued)
}

fn sha256(text: &str) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).to_vec()
}

/// The placeholders of every card text: the case, the person, their unit, the case type, state and last day.
fn card_args(case: &CaseRow, employee: &Employee, locale: Locale) -> Vec<(&'static str, String)> {
    vec![
        ("case", case.id.to_string()),
        ("name", employee.name.clone()),
        ("no", employee.employee_no.clone()),
        ("unit", employee.org_unit_name.clone()),
        ("type", crate::i18n::t(locale, &format!("case-type-{}", case.case_type))),
        ("state", crate::i18n::t(locale, &format!("case-state-{}", case.state))),
        ("effective", case.effective_on.map(|d| d.to_string()).unwrap_or_else(|| "—".into())),
    ]
}

/// A card that opens the case page, its title and text from the messages `wecom-title-<what>` and
/// `wecom-body-<what>`.
fn card(
    system: &ConnectorRow,
    case: &CaseRow,
    locale: Locale,
    what: &str,
    args: &[(&str, String)],
    to: Vec<String>,
) -> WeComCard {
    let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
    WeComCard {
        connector: system.code.clone(),
        to,
        title: t_args(locale, &format!("wecom-title-{what}"), &args),
        description: t_args(locale, &format!("wecom-body-{what}"), &args),
        path: format!("/cases/{}", case.id),
        approval: None,
    }
}

/// The language a user reads Lizhi in (WeCom users default to Chinese).
pub(crate) fn locale_of(user: &lizhi_core::model::User) -> Locale {
    user.locale.as_deref().and_then(Locale::parse).unwrap_or(Locale::ZhCn)
}

/// Queues, for every enabled WeCom connector, a button card to each approver of a step that just became
/// active, so a manager can approve from WeCom (the callback comes back as `template_card_event`).
pub(crate) async fn approval_cards(
    c: &mut Conn<'_>,
    case_id: i64,
    step: &lizhi_store::approvals::StepRow,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    let systems: Vec<ConnectorRow> = connectors::list(c)
        .await?
        .into_iter()
        .filter(|k| k.enabled && ConnectorKind::parse(&k.kind) == Some(ConnectorKind::WeCom))
        .collect();
    if systems.is_empty() {
        return Ok(());
    }
    let case = lizhi_store::cases::get(c, case_id, false).await?.ok_or(AppError::NotFound)?;
    let employee = lizhi_store::employees::get_by_id(c, case.employee_id).await?.ok_or(AppError::NotFound)?;
    let users = lizhi_store::users::list(c).await?;
    for (user_id, _) in &step.assignees {
        let Some(user) = users.iter().find(|u| u.id == *user_id && !u.disabled) else { continue };
        let Some(employee_id) = user.employee_id.filter(|id| *id != case.employee_id) else { continue };
        let locale = locale_of(user);
        let accounts = connectors::identities_of(c, employee_id).await?;
        for system in &systems {
            let Some(account) = accounts.iter().find(|i| i.system == system.code) else { continue };
            let mut args = card_args(&case, &employee, locale);
            args.push(("step", step.name.clone()));
            let mut card = card(system, &case, locale, "approval", &args, vec![account.account_id.clone()]);
            card.approval = Some(ApprovalButtons {
                task_id: task_id(case.id, step.id, user.id),
                approve: crate::i18n::t(locale, "wecom-approve"),
                reject: crate::i18n::t(locale, "wecom-reject"),
            });
            let key = format!("wecom:{}:approval:case:{}:step:{}:user:{}", system.code, case.id, step.id, user.id);
            let payload = serde_json::to_string(&card).map_err(|e| AppError::Internal(e.to_string()))?;
            if outbox::enqueue_for(c, WECOM_CHANNEL, &key, &system.code, &payload, Some(case.id), now).await? {
                lizhi_store::wake::announce(c).await?;
            }
        }
    }
    Ok(())
}

/// Who is told in WeCom, as (employee id, language): the person's line manager and the department heads,
/// the case owner and the HR supervisors; never the person the case is about.
async fn recipients(c: &mut Conn<'_>, case: &CaseRow, employee: &Employee) -> Result<Vec<(i64, Locale)>, AppError> {
    let users = lizhi_store::users::list(c).await?;
    let mut user_ids = case_flow::with_role(&users, Role::HrSupervisor);
    user_ids.extend(case.owner_user_id);
    user_ids.extend(case_flow::department_heads(c, employee, &users).await?);
    let mut people: Vec<(i64, Locale)> = users
        .iter()
        .filter(|u| user_ids.contains(&u.id) && !u.disabled)
        .filter_map(|u| Some((u.employee_id?, locale_of(u))))
        .collect();
    if let Some(manager) = employee.manager_id
        && !people.iter().any(|(id, _)| *id == manager)
    {
        let locale = users.iter().find(|u| u.employee_id == Some(manager)).map_or(Locale::ZhCn, locale_of);
        people.push((manager, locale));
    }
    people.retain(|(id, _)| *id != case.employee_id);
    people.sort_unstable_by_key(|(id, _)| *id);
    people.dedup_by_key(|(id, _)| *id);
    Ok(people)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names_round_trip() {
        for e in Event::ALL {
            assert_eq!(Event::parse(e.name()), Some(e));
        }
        assert_eq!(Event::parse("employee.hired"), None);
        assert!(!Event::PayStopRequested.told_in_wecom());
    }

    #[test]
    fn task_ids_round_trip_and_reject_foreign_ids() {
        assert_eq!(parse_task_id(&task_id(12, 34, 5)), Some((12, 34, 5)));
        for foreign in ["", "lz", "lz1s2", "xx1s2u3", "lz1s2u3x", "lzas2u3"] {
            assert_eq!(parse_task_id(foreign), None, "{foreign}");
        }
    }
}
