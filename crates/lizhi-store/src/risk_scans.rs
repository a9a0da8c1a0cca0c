//! Stored risk scans and their alerts.
//!
//! A scan is claimed by inserting its slot (`daily:<entity>:<local date>` for the scheduler), which
//! succeeds for exactly one instance on either backend. The winner holds a lease; if it dies, the
//! row stays `running` past `lease_until` and the next instance takes it over with a conditional
//! update that also succeeds only once. Finishing checks the claim again in the same transaction
//! as the alert inserts, so a scan whose lease was taken over cannot write its alerts twice.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

/// A scan as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRow {
    /// Id.
    pub id: i64,
    /// Dedupe key.
    pub slot: String,
    /// The scanned legal entity.
    pub legal_entity_id: i64,
    /// The evaluated date (through its end).
    pub as_of: NaiveDate,
    /// `schedule` or `manual`.
    pub origin: String,
    /// `running`, `done` or `failed`.
    pub status: String,
    /// Claims so far (the first run counts as one).
    pub attempts: i64,
    /// Instance (or user) that holds or held the claim.
    pub claimed_by: String,
    /// When a running claim may be taken over.
    pub lease_until: DateTime<Utc>,
    /// Start of the latest attempt.
    pub started_at: DateTime<Utc>,
    /// End of a finished scan.
    pub finished_at: Option<DateTime<Utc>>,
    /// Red employees found.
    pub red: Option<i64>,
    /// Yellow employees found.
    pub yellow: Option<i64>,
    /// Why the latest attempt failed.
    pub error: Option<String>,
}

type ScanTuple = (
    i64,
    String,
    i64,
    NaiveDate,
    String,
    String,
    i64,
    String,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
    Option<i64>,
    Option<i64>,
    Option<String>,
);

impl From<ScanTuple> for ScanRow {
    fn from(t: ScanTuple) -> Self {
        let (
            id,
            slot,
            legal_entity_id,
            as_of,
            origin,
            status,
            attempts,
            claimed_by,
            lease_until,
            started_at,
            finished_at,
            red,
            yellow,
            error,
        ) = t;
        ScanRow {
            id,
            slot,
            legal_entity_id,
            as_of,
            origin,
            status,
            attempts,
            claimed_by,
            lease_until,
            started_at,
            finished_at,
            red,
            yellow,
            error,
        }
    }
}

const COLUMNS: &str = "id, slot, legal_entity_id, as_of, origin, status, attempts, claimed_by, lease_until, \
                       started_at, finished_at, red, yellow, error";

/// A claim on a new scan.
#[derive(Debug, Clone)]
pub struct NewScan<'a> {
    /// Dedupe key.
    pub slot: &'a str,
    /// Entity.
    pub legal_entity_id: i64,
    /// Date evaluated.
    pub as_of: NaiveDate,
    /// `schedule` or `manual`.
    pub origin: &'a str,
    /// Who claims it.
    pub claimed_by: &'a str,
}

/// One alert to store.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// Employee.
    pub employee_id: i64,
    /// `yellow` or `red`.
    pub level: String,
    /// The rules that fired as `rule:level`, `;`-separated.
    pub rules: String,
    /// Streak length.
    pub consecutive_absent_workdays: i64,
    /// First day of the streak.
    pub first_absent_date: Option<NaiveDate>,
    /// The assessment as JSON.
    pub assessment: String,
}

/// A stored alert with the employee fields the board shows.
#[derive(Debug, Clone)]
pub struct AlertRow {
    /// Scan.
    pub scan_id: i64,
    /// Employee.
    pub employee_id: i64,
    /// Employee number.
    pub employee_no: String,
    /// Name.
    pub name: String,
    /// Legal entity code.
    pub legal_entity: String,
    /// Org unit code.
    pub org_unit: String,
    /// `yellow` or `red`.
    pub level: String,
    /// The rules that fired as `rule:level`, `;`-separated.
    pub rules: String,
    /// Streak length.
    pub consecutive_absent_workdays: i64,
    /// First day of the streak.
    pub first_absent_date: Option<NaiveDate>,
    /// The whole assessment as JSON, when asked for.
    pub assessment: Option<String>,
}

/// Inserts a scan claimed by the caller; `None` when the slot is taken already.
pub async fn claim(
    c: &mut Conn<'_>,
    scan: &NewScan<'_>,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<Option<i64>, StoreError> {
    Ok(on_conn!(c, c => sqlx::query_scalar(
        "INSERT INTO risk_scans (slot, legal_entity_id, as_of, origin, status, attempts, claimed_by, lease_until, started_at) \
         VALUES ($1, $2, $3, $4, 'running', 1, $5, $6, $7) ON CONFLICT (slot) DO NOTHING RETURNING id")
        .bind(scan.slot).bind(scan.legal_entity_id).bind(scan.as_of).bind(scan.origin).bind(scan.claimed_by)
        .bind(lease_until).bind(now).fetch_optional(&mut **c).await?))
}

/// Takes over a slot whose holder's lease ran out (a crashed instance) or whose last attempt
/// failed, if fewer than `max_attempts` were made; returns the scan on success.
pub async fn take_over(
    c: &mut Conn<'_>,
    slot: &str,
    claimed_by: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    max_attempts: i64,
) -> Result<Option<ScanRow>, StoreError> {
    let sql = format!(
        "UPDATE risk_scans SET claimed_by = $2, lease_until = $3, started_at = $4, attempts = attempts + 1, \
         status = 'running', error = NULL \
         WHERE slot = $1 AND status IN ('running', 'failed') AND lease_until < $4 AND attempts < $5 RETURNING {COLUMNS}"
    );
    let row: Option<ScanTuple> = on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(slot).bind(claimed_by).bind(lease_until).bind(now).bind(max_attempts)
        .fetch_optional(&mut **c).await?);
    Ok(row.map(ScanRow::from))
}

/// Marks a scan done and stores its alerts, if the caller still holds the claim (call inside a
/// transaction); false when the claim was lost, and then nothing is written.
pub async fn finish(
    c: &mut Conn<'_>,
    scan_id: i64,
    claimed_by: &str,
    alerts: &[NewAlert],
    now: DateTime<Utc>,
) -> Result<bool, StoreError> {
    let red = alerts.iter().filter(|a| a.level == "red").count() as i64;
    let yellow = alerts.len() as i64 - red;
    let updated = on_conn!(c, c => sqlx::query(
        "UPDATE risk_scans SET status = 'done', finished_at = $3, red = $4, yellow = $5 \
         WHERE id = $1 AND claimed_by = $2 AND status = 'running'")
        .bind(scan_id).bind(claimed_by).bind(now).bind(red).bind(yellow).execute(&mut **c).await?.rows_affected());
    if updated != 1 {
        return Ok(false);
    }
    for chunk in alerts.chunks(2_000) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO risk_alerts (scan_id, employee_id, level, rules, consecutive_absent_workdays, \
                 first_absent_date, assessment) ",
            );
            qb.push_values(chunk, |mut b, a| {
                b.push_bind(scan_id)
                    .push_bind(a.employee_id)
                    .push_bind(&a.level)
                    .push_bind(&a.rules)
                    .push_bind(a.consecutive_absent_workdays)
                    .push_bind(a.first_absent_date)
                    .push_bind(&a.assessment);
            });
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(true)
}

/// Records a failed attempt; the slot may be retried once `retry_at` has passed.
pub async fn fail(
    c: &mut Conn<'_>,
    scan_id: i64,
    claimed_by: &str,
    error: &str,
    retry_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query(
        "UPDATE risk_scans SET status = 'failed', error = $3, lease_until = $4 \
         WHERE id = $1 AND claimed_by = $2 AND status = 'running'")
        .bind(scan_id).bind(claimed_by).bind(error).bind(retry_at).execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// A scan by slot.
pub async fn by_slot(c: &mut Conn<'_>, slot: &str) -> Result<Option<ScanRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM risk_scans WHERE slot = $1");
    let row: Option<ScanTuple> =
        on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(slot).fetch_optional(&mut **c).await?);
    Ok(row.map(ScanRow::from))
}

/// A scan by id.
pub async fn by_id(c: &mut Conn<'_>, id: i64) -> Result<Option<ScanRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM risk_scans WHERE id = $1");
    let row: Option<ScanTuple> =
        on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(&mut **c).await?);
    Ok(row.map(ScanRow::from))
}

/// The latest finished scan of each legal entity (latest date, then latest run), or the latest
/// one as of a given date.
pub async fn latest_done(c: &mut Conn<'_>, as_of: Option<NaiveDate>) -> Result<Vec<ScanRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM risk_scans s WHERE status = 'done' AND ($1 IS NULL OR as_of = $1) \
         AND NOT EXISTS (SELECT 1 FROM risk_scans t WHERE t.legal_entity_id = s.legal_entity_id \
         AND t.status = 'done' AND ($1 IS NULL OR t.as_of = $1) \
         AND (t.as_of > s.as_of OR (t.as_of = s.as_of AND t.id > s.id)))"
    );
    let rows: Vec<ScanTuple> =
        on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(as_of).fetch_all(&mut **c).await?);
    Ok(rows.into_iter().map(ScanRow::from).collect())
}

/// The most recent scans of all entities, newest first (the scan history).
pub async fn recent(c: &mut Conn<'_>, limit: i64) -> Result<Vec<ScanRow>, StoreError> {
    let sql = format!("SELECT {COLUMNS} FROM risk_scans ORDER BY started_at DESC, id DESC LIMIT $1");
    let rows: Vec<ScanTuple> =
        on_conn!(c, c => sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(limit).fetch_all(&mut **c).await?);
    Ok(rows.into_iter().map(ScanRow::from).collect())
}

/// Alerts of the given scans, limited to employees in org units whose path starts with one of
/// `paths` (all when `None`); with the full assessments only when `explanations` is set (a board
/// page needs the summary columns, an API client may want every fact).
pub async fn alerts(
    c: &mut Conn<'_>,
    scan_ids: &[i64],
    paths: Option<&[String]>,
    explanations: bool,
) -> Result<Vec<AlertRow>, StoreError> {
    if scan_ids.is_empty() || paths.is_some_and(<[String]>::is_empty) {
        return Ok(Vec::new());
    }
    type Row = (i64, i64, String, String, String, String, String, String, i64, Option<NaiveDate>, Option<String>);
    // One JSON array for all the alerts: a board of a thousand alerts would otherwise spend most
    // of its time in the driver.
    let columns = format!(
        "a.scan_id, a.employee_id, e.employee_no, e.name, le.code, ou.code, a.level, a.rules, \
         a.consecutive_absent_workdays, a.first_absent_date, {}",
        if explanations { "a.assessment" } else { "NULL" }
    );
    let select = format!("SELECT {}", c.json_rows(&columns));
    let packed: Option<String> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new(select);
        qb.push(
            // CROSS JOIN keeps SQLite from starting at the employees (100,000 of them) instead of
            // the scan's alerts; PostgreSQL plans it like any inner join.
            " FROM risk_alerts a CROSS JOIN employees e CROSS JOIN legal_entities le \
             CROSS JOIN org_units ou WHERE e.id = a.employee_id AND le.id = e.legal_entity_id \
             AND ou.id = e.org_unit_id AND a.scan_id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in scan_ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        crate::org::push_scope(&mut qb, "ou.path", paths);
        qb.build_query_scalar().fetch_one(&mut **c).await?
    });
    let rows: Vec<Row> = match packed {
        Some(json) => serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(format!("risk alerts: {e}")))?,
        None => Vec::new(),
    };
    Ok(rows
        .into_iter()
        .map(
            |(
                scan_id,
                employee_id,
                employee_no,
                name,
                legal_entity,
                org_unit,
                level,
                rules,
                consecutive_absent_workdays,
                first_absent_date,
                assessment,
            )| AlertRow {
                scan_id,
                employee_id,
                employee_no,
                name,
                legal_entity,
                org_unit,
                level,
                rules,
                consecutive_absent_workdays,
                first_absent_date,
                assessment,
            },
        )
        .collect())
}

/// The first absent day of an employee's most recent stored alert (a case opened from the board starts there).
pub async fn latest_first_absent(c: &mut Conn<'_>, employee_id: i64) -> Result<Option<NaiveDate>, StoreError> {
    let sql = "SELECT a.first_absent_date FROM risk_alerts a JOIN risk_scans s ON s.id = a.scan_id \
               WHERE a.employee_id = $1 AND a.first_absent_date IS NOT NULL ORDER BY s.as_of DESC, s.id DESC LIMIT 1";
    let found: Option<Option<NaiveDate>> =
        on_conn!(c, c => sqlx::query_scalar(sql).bind(employee_id).fetch_optional(&mut **c).await?);
    Ok(found.flatten())
}
