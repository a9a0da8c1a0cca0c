//! The HR morning page behind the scan: alert episodes with what people did about them, one
//! person's recent timeline, and recording contact attempts, dismissals and escalations.
//!
//! An episode is one absence streak of one employee, keyed by its first day, so a dismissal
//! hides that streak only: a new absence later is a new episode and shows again.

use crate::audit::{change, record};
use crate::risk::{Finding, RiskQuery, scan};
use crate::risk_scan::ScanSummary;
use crate::{App, AppError, Ctx};
use chrono::{DateTime, Days, NaiveDate, Utc};
use lizhi_core::absence::{Assessment, Level, RuleHit, RuleId};
use lizhi_core::auth::Permission;
use lizhi_store::attendance::{self as store, RiskAction};
use lizhi_store::org;
use lizhi_store::risk_scans as store_scans;
use serde::Serialize;
use std::collections::HashMap;

/// How far back the timeline of one person reaches.
pub const TIMELINE_DAYS: u64 = 60;

/// What the board shows of one alert episode.
#[derive(Debug, Clone, Serialize)]
pub struct BoardItem {
    /// The scan's finding.
    pub finding: Finding,
    /// First day of the streak (or the scan date for an activity-only alert).
    pub episode_start: NaiveDate,
    /// `open`, `escalated` or `dismissed`.
    pub status: &'static str,
    /// Contact attempts logged for the episode.
    pub contacts: usize,
}

/// Filters of the board.
#[derive(Debug, Clone, Default)]
pub struct BoardQuery {
    /// Legal entity code.
    pub legal_entity: Option<String>,
    /// Org unit code: that unit and below.
    pub org_unit: Option<String>,
    /// Also list dismissed episodes.
    pub include_dismissed: bool,
    /// Read each alert's full explanation (the API); a page lists the summary only.
    pub explanations: bool,
}

/// The summary of a stored alert (level, rules, streak) without its facts.
fn summary_of(row: &store_scans::AlertRow) -> Result<Assessment, AppError> {
    let bad = || AppError::Internal(format!("stored alert of employee {}", row.employee_id));
    let rules = row
        .rules
        .split(';')
        .filter(|r| !r.is_empty())
        .map(|r| {
            let (rule, level) = r.split_once(':').ok_or_else(bad)?;
            Ok(RuleHit { rule: RuleId::parse(rule).ok_or_else(bad)?, level: Level::parse(level).ok_or_else(bad)? })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok(Assessment {
        level: Level::parse(&row.level).ok_or_else(bad)?,
        rules,
        consecutive_absent_workdays: u32::try_from(row.consecutive_absent_workdays).map_err(|_| bad())?,
        first_absent_date: row.first_absent_date,
        absent_dates: Vec::new(),
        explanation: Vec::new(),
    })
}

fn episode_start(f: &Finding) -> NaiveDate {
    f.assessment.first_absent_date.unwrap_or(f.date)
}

fn status_of(actions: &[&RiskAction]) -> &'static str {
    match actions.iter().rev().find(|a| a.kind != "contact").map(|a| a.kind.as_str()) {
        Some("dismiss") => "dismissed",
        Some("escalate") => "escalated",
        _ => "open",
    }
}

/// Where one legal entity's part of the board comes from.
#[derive(Debug, Clone, Serialize)]
pub struct BoardSource {
    /// Legal entity code.
    pub legal_entity: String,
    /// The evaluated date.
    pub as_of: NaiveDate,
    /// The stored scan shown; `None` when no scan was stored for the date and the board
    /// evaluated the entity on the spot.
    pub scan: Option<ScanSummary>,
}

/// The board: episodes, red first, and what each entity's part comes from.
#[derive(Debug, Clone, Serialize)]
pub struct Board {
    /// Alert episodes with their status.
    pub items: Vec<BoardItem>,
    /// One per legal entity shown.
    pub sources: Vec<BoardSource>,
}

/// Org paths the caller may see and asked for: the scope's subtrees narrowed to the chosen unit.
fn visible_paths(scope: Option<Vec<String>>, unit: Option<&str>) -> Option<Vec<String>> {
    match (scope, unit) {
        (None, None) => None,
        (None, Some(u)) => Some(vec![u.to_owned()]),
        (Some(paths), None) => Some(paths),
        (Some(paths), Some(u)) => Some(
            paths
                .iter()
                .filter_map(|p| {
                    if u.starts_with(p.as_str()) {
                        Some(u.to_owned())
                    } else if p.starts_with(u) {
                        Some(p.clone())
                    } else {
                        None
                    }
                })
                .collect(),
        ),
    }
}

/// The alert episodes of the latest stored scans (or of the scans of `as_of`), red first, each
/// with its status and contact count. An entity without a stored scan for the date is evaluated
/// on the spot, and its source says so.
pub async fn board(app: &App, ctx: &Ctx, as_of: Option<NaiveDate>, query: &BoardQuery) -> Result<Board, AppError> {
    let scope = ctx.scope(Permission::ViewRisk)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let all_entities = org::list_entities(&mut c).await?;
    let entities: Vec<_> =
        all_entities.iter().filter(|e| query.legal_entity.as_ref().is_none_or(|code| &e.code == code)).collect();
    if entities.is_empty() && query.legal_entity.is_some() {
        return Err(AppError::invalid("legal_entity", "unknown_legal_entity"));
    }
    let units = org::list_org_units(&mut c).await?;
    let unit_path = match &query.org_unit {
        Some(code) => Some(
            units
                .iter()
                .find(|u| &u.code == code)
                .map(|u| u.path.clone())
                .ok_or(AppError::invalid("org_unit", "unknown_org_unit"))?,
        ),
        None => None,
    };
    let scope_paths = crate::people::scope_paths(&mut c, &scope).await?;
    let paths = visible_paths(scope_paths, unit_path.as_deref());
    let scans = store_scans::latest_done(&mut c, as_of).await?;
    let mut findings = Vec::new();
    let mut sources = Vec::new();
    let mut stored = Vec::new();
    for e in &entities {
        match scans.iter().find(|s| s.legal_entity_id == e.id) {
            Some(scan) => {
                stored.push(scan.id);
                let summary = ScanSummary::from_row(scan.clone(), &all_entities);
                sources.push(BoardSource { legal_entity: e.code.clone(), as_of: scan.as_of, scan: Some(summary) });
            }
            None => sources.push(BoardSource {
                legal_entity: e.code.clone(),
                as_of: as_of.unwrap_or_else(|| crate::risk_scan::last_complete_day(e, app.clock.now())),
                scan: None,
            }),
        }
    }
    for row in store_scans::alerts(&mut c, &stored, paths.as_deref(), query.explanations).await? {
        let Some(scan) = scans.iter().find(|s| s.id == row.scan_id) else { continue };
        let assessment = match &row.assessment {
            Some(json) => serde_json::from_str(json).map_err(|e| AppError::Internal(format!("stored alert: {e}")))?,
            None => summary_of(&row)?,
        };
        findings.push(Finding {
            date: scan.as_of,
            employee_id: row.employee_id,
            employee_no: row.employee_no,
            name: row.name,
            legal_entity: row.legal_entity,
            org_unit: row.org_unit,
            assessment,
        });
    }
    drop(conn);
    let path_of: HashMap<&str, &str> = units.iter().map(|u| (u.code.as_str(), u.path.as_str())).collect();
    for source in sources.iter().filter(|s| s.scan.is_none()) {
        let live = RiskQuery { legal_entity: Some(source.legal_entity.clone()), ..RiskQuery::default() };
        findings.extend(scan(app, ctx, source.as_of, &live).await?.into_iter().filter(|f| {
            let path = path_of.get(f.org_unit.as_str()).copied().unwrap_or("");
            paths.as_ref().is_none_or(|ps| ps.iter().any(|p| path.starts_with(p.as_str())))
        }));
    }
    let oldest = findings.iter().map(episode_start).min().unwrap_or_else(|| app.clock.now().date_naive());
    let actions = {
        let mut conn = app.db.acquire().await?;
        store::risk_actions(&mut conn.conn(), oldest, None).await?
    };
    let mut by_episode: HashMap<(i64, NaiveDate), Vec<&RiskAction>> = HashMap::new();
    for a in &actions {
        by_episode.entry((a.employee_id, a.episode_start)).or_default().push(a);
    }
    let mut items: Vec<BoardItem> = findings
        .into_iter()
        .map(|finding| {
            let start = episode_start(&finding);
            let mine = by_episode.get(&(finding.employee_id, start)).map(Vec::as_slice).unwrap_or(&[]);
            BoardItem {
                status: status_of(mine),
                contacts: mine.iter().filter(|a| a.kind == "contact").count(),
                episode_start: start,
                finding,
            }
        })
        .filter(|item| query.include_dismissed || item.status != "dismissed")
        .collect();
    items.sort_by_cached_key(|i| {
        (
            std::cmp::Reverse(i.finding.assessment.level),
            std::cmp::Reverse(i.finding.assessment.consecutive_absent_workdays),
            i.finding.employee_no.clone(),
        )
    });
    Ok(Board { items, sources })
}

/// One day of a person's recent history.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineDay {
    /// The date.
    pub date: NaiveDate,
    /// Whether they were expected at work.
    pub scheduled: bool,
    /// Whether they punched.
    pub punched: bool,
    /// Leave covering the day: (type, status).
    pub leave: Option<(String, String)>,
    /// Activity events across systems.
    pub activity: i64,
}

/// An alert opened: the finding (if not green), the timeline and what was done.
#[derive(Debug, Clone, Serialize)]
pub struct AlertDetail {
    /// The employee.
    pub employee: lizhi_core::model::Employee,
    /// The finding at `as_of`, `None` when green.
    pub finding: Option<Finding>,
    /// The last [`TIMELINE_DAYS`] days, newest first.
    pub timeline: Vec<TimelineDay>,
    /// Actions on this person's episodes in the timeline's range, oldest first.
    pub actions: Vec<ActionView>,
}

/// An action as shown.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    /// Episode key.
    pub episode_start: NaiveDate,
    /// `dismiss`, `contact`, `escalate`.
    pub kind: String,
    /// Reason, channel, outcome, note.
    pub reason: Option<String>,
    /// Channel.
    pub channel: Option<String>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Note.
    pub note: Option<String>,
    /// When.
    pub happened_at: DateTime<Utc>,
    /// Who.
    pub actor: String,
}

/// One person's alert and the last 60 days of punches, leave and activity.
pub async fn detail(app: &App, ctx: &Ctx, employee_no: &str, as_of: NaiveDate) -> Result<AlertDetail, AppError> {
    ctx.require(Permission::ViewRisk)?;
    // Scope: the same rule as the employee page (not found outside the caller's subtrees).
    let employee = crate::people::get_employee(app, ctx, employee_no).await?;
    // Only this person is evaluated, not their whole legal entity.
    let only = RiskQuery { employee_no: Some(employee.employee_no.clone()), ..RiskQuery::default() };
    let findings = scan(app, ctx, as_of, &only).await?;
    let finding = findings.into_iter().find(|f| f.employee_no == employee_no);
    let from = as_of.checked_sub_days(Days::new(TIMELINE_DAYS - 1)).unwrap_or(as_of);
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let id = Some(employee.id);
    let punched: std::collections::HashSet<NaiveDate> =
        store::attendance_days(&mut c, from, as_of, id).await?.into_iter().map(|(_, d)| d).collect();
    let leaves = store::leaves(&mut c, from, as_of, id).await?;
    let mut activity: std::collections::HashMap<NaiveDate, i64> = std::collections::HashMap::new();
    for a in store::activity(&mut c, from, as_of, id).await? {
        *activity.entry(a.day).or_default() += a.events;
    }
    let scheduled = crate::risk::scheduled_days(app, &employee, from, as_of).await?;
    let mut timeline = Vec::new();
    let mut day = as_of;
    while day >= from {
        let leave =
            leaves.iter().find(|l| l.start_day <= day && day <= l.end_day).map(|l| (l.kind.clone(), l.status.clone()));
        timeline.push(TimelineDay {
            date: day,
            scheduled: scheduled.contains(&day),
            punched: punched.contains(&day),
            leave,
            activity: activity.get(&day).copied().unwrap_or(0),
        });
        match day.pred_opt() {
            Some(d) => day = d,
            None => break,
        }
    }
    let actions = store::risk_actions(&mut c, from.checked_sub_days(Days::new(365)).unwrap_or(from), id)
        .await?
        .into_iter()
        .map(|a| ActionView {
            episode_start: a.episode_start,
            kind: a.kind,
            reason: a.reason,
            channel: a.channel,
            outcome: a.outcome,
            note: a.note,
            happened_at: a.happened_at,
            actor: a.actor,
        })
        .collect();
    Ok(AlertDetail { employee, finding, timeline, actions })
}

/// What a person does about an alert.
#[derive(Debug, Clone)]
pub enum Action {
    /// A contact attempt, possibly logged after it happened.
    Contact {
        /// `phone`, `wecom`, `sms`, `email`, `visit` or `other`.
        channel: String,
        /// `reached`, `no_answer`, `message_left` or `refused`.
        outcome: String,
        /// When it happened.
        at: DateTime<Utc>,
        /// Free text.
        note: Option<String>,
    },
    /// Not a real absence.
    Dismiss {
        /// `justified` or `data_error`.
        reason: String,
        /// Why, in words.
        note: Option<String>,
    },
    /// Hand over to a separation case (until cases exist, this records the decision).
    Escalate {
        /// Why.
        note: Option<String>,
    },
}

const CHANNELS: [&str; 6] = lizhi_core::case::process::Channel::NAMES;
/// Outcomes of a contact attempt, on alerts and cases alike.
pub(crate) const OUTCOMES: [&str; 4] = ["reached", "no_answer", "message_left", "refused"];
const REASONS: [&str; 2] = ["justified", "data_error"];

/// The choices the forms offer, for pages and validation alike.
pub fn choices() -> (&'static [&'static str], &'static [&'static str], &'static [&'static str]) {
    (&CHANNELS, &OUTCOMES, &REASONS)
}

/// Records an action on the episode that starts on `episode_start`, with its audit row.
pub async fn act(
    app: &App,
    ctx: &Ctx,
    employee_no: &str,
    episode_start: NaiveDate,
    action: Action,
) -> Result<(), AppError> {
    ctx.require(Permission::ActOnRisk)?;
    let employee = crate::people::get_employee(app, ctx, employee_no).await?;
    let now = app.clock.now();
    let clean =
        |n: Option<String>| n.map(|s| s.trim().chars().take(1000).collect::<String>()).filter(|s| !s.is_empty());
    let row = match action {
        Action::Contact { channel, outcome, at, note } => {
            if !CHANNELS.contains(&channel.as_str()) {
                return Err(AppError::invalid("channel", "invalid_input"));
            }
            if !OUTCOMES.contains(&outcome.as_str()) {
                return Err(AppError::invalid("outcome", "invalid_input"));
            }
            if at > now {
                return Err(AppError::invalid("at", "contact_in_future"));
            }
            RiskAction {
                employee_id: employee.id,
                episode_start,
                kind: "contact".into(),
                reason: None,
                channel: Some(channel),
                outcome: Some(outcome),
                note: clean(note),
                happened_at: at,
                actor: ctx.actor.clone(),
            }
        }
        Action::Dismiss { reason, note } => {
            if !REASONS.contains(&reason.as_str()) {
                return Err(AppError::invalid("reason", "invalid_input"));
            }
            let note = clean(note).ok_or(AppError::invalid("note", "required"))?;
            RiskAction {
                employee_id: employee.id,
                episode_start,
                kind: "dismiss".into(),
                reason: Some(reason),
                channel: None,
                outcome: None,
                note: Some(note),
                happened_at: now,
                actor: ctx.actor.clone(),
            }
        }
        Action::Escalate { note } => RiskAction {
            employee_id: employee.id,
            episode_start,
            kind: "escalate".into(),
            reason: None,
            channel: None,
            outcome: None,
            note: clean(note),
            happened_at: now,
            actor: ctx.actor.clone(),
        },
    };
    let info = serde_json::json!({
        "employee_no": employee_no, "episode_start": episode_start, "kind": row.kind, "reason": row.reason,
        "channel": row.channel, "outcome": row.outcome, "happened_at": row.happened_at,
        "note_digest": row.note.as_ref().map(|n| crate::auth::secret_hash(n)),
    });
    let mut tx = app.db.begin().await?;
    store::add_risk_action(&mut tx.conn(), &row, now).await?;
    let action = format!("risk.{}", row.kind);
    record(app, &mut tx.conn(), ctx, &[change(ctx, &action, "employee", employee_no, None, Some(&info))]).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether an item is worth showing first (used by pages to split red and yellow).
pub fn is_red(item: &BoardItem) -> bool {
    item.finding.assessment.level == Level::Red
}
