//! The daily scan: each legal entity is scanned once a day at its own local time, as of the
//! previous local day (the last complete one), and the alerts are stored for the board.
//!
//! Any number of instances may call [`run_due`] every minute: a scan's slot
//! (`daily:<entity>:<local date>`) can be claimed once, a crashed claim is taken over after its
//! lease, and a failed scan is retried a few times. A server that was down at the scan time
//! catches up when it comes back the same day.

use crate::audit::{change, record};
use crate::risk::{Finding, RiskQuery, backtest};
use crate::{App, AppError, Ctx};
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use lizhi_core::auth::Permission;
use lizhi_core::model::LegalEntity;
use lizhi_store::org;
use lizhi_store::risk_scans::{self as store, NewAlert, NewScan, ScanRow};
use serde::Serialize;

/// How long a claim holds before another instance may take the scan over.
pub const LEASE: Duration = Duration::minutes(15);
/// Attempts per slot before the scheduler gives up on it (the board then shows the failure).
pub const MAX_ATTEMPTS: i64 = 3;
/// Pause before a failed scan is retried.
pub const RETRY_AFTER: Duration = Duration::minutes(5);

/// A scan as shown to people and the API.
#[derive(Debug, Clone, Serialize)]
pub struct ScanSummary {
    /// Id.
    pub id: i64,
    /// Legal entity code.
    pub legal_entity: String,
    /// The evaluated date (through its end).
    pub as_of: NaiveDate,
    /// `schedule` or `manual`.
    pub origin: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Instance or user that ran it.
    pub claimed_by: String,
    /// Start of the latest attempt.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
    /// Red employees.
    pub red: Option<i64>,
    /// Yellow employees.
    pub yellow: Option<i64>,
    /// Why it failed.
    pub error: Option<String>,
}

impl ScanSummary {
    /// A stored scan with its entity's code.
    pub fn from_row(row: ScanRow, entities: &[LegalEntity]) -> Self {
        let code = entities.iter().find(|e| e.id == row.legal_entity_id).map(|e| e.code.clone()).unwrap_or_default();
        ScanSummary {
            id: row.id,
            legal_entity: code,
            as_of: row.as_of,
            origin: row.origin,
            status: row.status,
            attempts: row.attempts,
            claimed_by: row.claimed_by,
            started_at: row.started_at,
            finished_at: row.finished_at,
            red: row.red,
            yellow: row.yellow,
            error: row.error,
        }
    }
}

/// The entity's time zone (UTC if the stored name is somehow unknown).
fn zone(e: &LegalEntity) -> chrono_tz::Tz {
    e.time_zone.parse().unwrap_or(chrono_tz::UTC)
}

/// The last complete local day of an entity at `now`: what a scan started now evaluates.
pub fn last_complete_day(e: &LegalEntity, now: DateTime<Utc>) -> NaiveDate {
    let today = now.with_timezone(&zone(e)).date_naive();
    today.pred_opt().unwrap_or(today)
}

/// The slot of the entity's scheduled scan at `now`, if its scan time has come today.
fn due_slot(e: &LegalEntity, now: DateTime<Utc>) -> Option<(String, NaiveDate)> {
    let local = now.with_timezone(&zone(e));
    let at = NaiveTime::parse_from_str(&e.scan_time, "%H:%M").unwrap_or(NaiveTime::MIN);
    (local.time() >= at).then(|| (format!("daily:{}:{}", e.code, local.date_naive()), last_complete_day(e, now)))
}

/// Runs every scheduled scan that is due and not claimed by another instance; returns the scans
/// this call ran. `instance` names the caller in the scan rows (host and process).
pub async fn run_due(app: &App, instance: &str) -> Result<Vec<ScanSummary>, AppError> {
    let now = app.clock.now();
    let entities = {
        let mut conn = app.db.acquire().await?;
        org::list_entities(&mut conn.conn()).await?
    };
    let mut ran = Vec::new();
    for e in &entities {
        let Some((slot, as_of)) = due_slot(e, now) else { continue };
        let claimed = {
            let mut conn = app.db.acquire().await?;
            let mut c = conn.conn();
            let scan = NewScan { slot: &slot, legal_entity_id: e.id, as_of, origin: "schedule", claimed_by: instance };
            match store::claim(&mut c, &scan, now, now + LEASE).await? {
                Some(id) => Some((id, as_of)),
                None => store::take_over(&mut c, &slot, instance, now, now + LEASE, MAX_ATTEMPTS)
                    .await?
                    .map(|row| (row.id, row.as_of)),
            }
        };
        if let Some((id, as_of)) = claimed {
            ran.push(execute(app, id, e, as_of, instance).await?);
        }
    }
    Ok(ran.into_iter().map(|row| ScanSummary::from_row(row, &entities)).collect())
}

/// Scans one legal entity now, as of `as_of` (default: its last complete day), and stores the
/// alerts. A manager may start it too: the scan covers the entity, but every read of the stored
/// alerts is limited to the reader's subtrees.
pub async fn scan_now(
    app: &App,
    ctx: &Ctx,
    legal_entity: &str,
    as_of: Option<NaiveDate>,
) -> Result<ScanSummary, AppError> {
    ctx.require(Permission::ActOnRisk)?;
    let now = app.clock.now();
    let entities = {
        let mut conn = app.db.acquire().await?;
        org::list_entities(&mut conn.conn()).await?
    };
    let e = entities
        .iter()
        .find(|e| e.code == legal_entity)
        .ok_or(AppError::invalid("legal_entity", "unknown_legal_entity"))?;
    let as_of = as_of.unwrap_or_else(|| last_complete_day(e, now));
    if as_of >= now.with_timezone(&zone(e)).date_naive() {
        return Err(AppError::invalid("as_of", "day_not_over"));
    }
    let slot = format!("manual:{}:{}:{}", e.code, as_of, ctx.request_id);
    let id = {
        let mut conn = app.db.acquire().await?;
        let scan = NewScan { slot: &slot, legal_entity_id: e.id, as_of, origin: "manual", claimed_by: &ctx.actor };
        store::claim(&mut conn.conn(), &scan, now, now + LEASE).await?.ok_or(AppError::invalid("slot", "conflict"))?
    };
    let row = execute(app, id, e, as_of, &ctx.actor).await?;
    Ok(ScanSummary::from_row(row, &entities))
}

/// The stored form of a finding.
fn alert(f: &Finding) -> Result<NewAlert, AppError> {
    let a = &f.assessment;
    Ok(NewAlert {
        employee_id: f.employee_id,
        level: a.level.code().to_owned(),
        rules: a.rules.iter().map(|r| format!("{}:{}", r.rule.code(), r.level.code())).collect::<Vec<_>>().join(";"),
        consecutive_absent_workdays: i64::from(a.consecutive_absent_workdays),
        first_absent_date: a.first_absent_date,
        assessment: serde_json::to_string(a).map_err(|e| AppError::Internal(e.to_string()))?,
    })
}

/// Evaluates the entity and stores the result under the claimed scan, with an audit row; a
/// failure is recorded on the scan for a later retry.
async fn execute(app: &App, id: i64, e: &LegalEntity, as_of: NaiveDate, holder: &str) -> Result<ScanRow, AppError> {
    let ctx = Ctx::system(holder);
    let query = RiskQuery { legal_entity: Some(e.code.clone()), ..RiskQuery::default() };
    let outcome = match backtest(app, &ctx, as_of, as_of, &query).await {
        Ok(findings) => findings.iter().map(alert).collect::<Result<Vec<_>, _>>(),
        Err(err) => Err(err),
    };
    let mut tx = app.db.begin().await?;
    match outcome {
        Ok(alerts) => {
            let now = app.clock.now();
            if store::finish(&mut tx.conn(), id, holder, &alerts, now).await? {
                let red = alerts.iter().filter(|a| a.level == "red").count();
                let info = serde_json::json!({"scan_id": id, "as_of": as_of, "red": red, "yellow": alerts.len() - red});
                record(
                    app,
                    &mut tx.conn(),
                    &ctx,
                    &[change(&ctx, "risk.scan", "legal_entity", &e.code, None, Some(&info))],
                )
                .await?;
            }
        }
        Err(err) => {
            tracing::warn!(scan = id, entity = %e.code, error = %err, "risk scan failed");
            store::fail(&mut tx.conn(), id, holder, err.code(), app.clock.now() + RETRY_AFTER).await?;
        }
    }
    tx.commit().await?;
    let mut conn = app.db.acquire().await?;
    let rows = store::by_id(&mut conn.conn(), id).await?;
    rows.ok_or(AppError::NotFound)
}

/// The latest scans of every entity, newest first, for the board's history.
pub async fn history(app: &App, ctx: &Ctx, limit: i64) -> Result<Vec<ScanSummary>, AppError> {
    ctx.require(Permission::ViewRisk)?;
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let entities = org::list_entities(&mut c).await?;
    Ok(store::recent(&mut c, limit).await?.into_iter().map(|row| ScanSummary::from_row(row, &entities)).collect())
}
