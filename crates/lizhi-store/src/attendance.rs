//! Early-warning inputs: calendar overrides, rosters, punches, leave and activity.
//!
//! Writes are idempotent by natural key (re-importing the same punches adds nothing); reads are by
//! date range so an import can tell new, changed and unchanged rows apart.

use crate::{Conn, StoreError, on_conn, summary};
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::QueryBuilder;

/// A calendar override: a holiday on a weekday or a make-up workday on a weekend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarDay {
    /// Calendar name (a legal entity's code names its default calendar).
    pub calendar: String,
    /// The date.
    pub day: NaiveDate,
    /// `holiday` or `workday`.
    pub kind: String,
    /// Name shown in explanations (e.g. 国庆节, 调休).
    pub name: String,
}

/// One rostered day of one employee.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RosterDay {
    /// Employee.
    pub employee_id: i64,
    /// The date.
    pub day: NaiveDate,
    /// Shift code, or `REST`.
    pub shift: String,
    /// Night shifts: punches on the next date before this local time (`HH:MM`) belong to this day.
    pub day_ends_at: Option<String>,
}

/// One clock event, with the attendance day it counts for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Punch {
    /// Employee.
    pub employee_id: i64,
    /// The instant, stored in UTC.
    pub punched_at: DateTime<Utc>,
    /// Device or system that recorded it.
    pub source: String,
    /// Local date in the employer's time zone.
    pub attendance_day: NaiveDate,
}

/// A leave request and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaveRow {
    /// Employee.
    pub employee_id: i64,
    /// First day, inclusive.
    pub start_day: NaiveDate,
    /// Last day, inclusive.
    pub end_day: NaiveDate,
    /// Leave type (annual, sick, …).
    pub kind: String,
    /// `approved`, `pending` or `rejected`.
    pub status: String,
}

/// Activity events of one employee in one system on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityRow {
    /// Employee.
    pub employee_id: i64,
    /// The date.
    pub day: NaiveDate,
    /// System (OA, VPN, WeCom…).
    pub system: String,
    /// Logins and actions that day.
    pub events: i64,
}

/// ` AND employee_id = $n` when filtering by one employee: a separate statement rather than
/// `($n IS NULL OR employee_id = $n)`, which keeps SQLite from using the employee indexes.
fn only(employee: Option<i64>, n: usize) -> String {
    employee.map(|_| format!(" AND employee_id = ${n}")).unwrap_or_default()
}

/// Overrides of the given calendars.
pub async fn calendar_days(c: &mut Conn<'_>, calendars: &[String]) -> Result<Vec<CalendarDay>, StoreError> {
    if calendars.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<(String, NaiveDate, String, String)> = on_conn!(c, c => {
        let mut qb = QueryBuilder::new("SELECT calendar, day, kind, name FROM calendar_days WHERE calendar IN (");
        let mut sep = qb.separated(", ");
        for name in calendars {
            sep.push_bind(name.clone());
        }
        qb.push(") ORDER BY calendar, day");
        qb.build_query_as().fetch_all(&mut **c).await?
    });
    Ok(rows.into_iter().map(|(calendar, day, kind, name)| CalendarDay { calendar, day, kind, name }).collect())
}

/// Inserts or replaces calendar overrides.
pub async fn upsert_calendar_days(
    c: &mut Conn<'_>,
    rows: &[CalendarDay],
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new("INSERT INTO calendar_days (calendar, day, kind, name, updated_at) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(&r.calendar).push_bind(r.day).push_bind(&r.kind).push_bind(&r.name).push_bind(now);
            });
            qb.push(
                " ON CONFLICT (calendar, day) DO UPDATE SET kind = excluded.kind, name = excluded.name, \
                 updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// Roster days between two dates (inclusive), of one employee or of all.
pub async fn roster_days(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    employee: Option<i64>,
) -> Result<Vec<RosterDay>, StoreError> {
    let rows: Vec<(i64, NaiveDate, String, Option<String>)> = on_conn!(c, c => {
        let sql = format!("SELECT employee_id, day, shift, day_ends_at FROM roster_days WHERE day >= $1 AND day <= $2{} ORDER BY employee_id, day", only(employee, 3));
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        match employee { Some(id) => q.bind(id), None => q }.fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(employee_id, day, shift, day_ends_at)| RosterDay { employee_id, day, shift, day_ends_at })
        .collect())
}

/// Inserts or replaces roster days.
pub async fn upsert_roster_days(c: &mut Conn<'_>, rows: &[RosterDay], now: DateTime<Utc>) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_conn!(c, c => {
            let mut qb =
                QueryBuilder::new("INSERT INTO roster_days (employee_id, day, shift, day_ends_at, updated_at) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.employee_id).push_bind(r.day).push_bind(&r.shift).push_bind(&r.day_ends_at).push_bind(now);
            });
            qb.push(
                " ON CONFLICT (employee_id, day) DO UPDATE SET shift = excluded.shift, \
                 day_ends_at = excluded.day_ends_at, updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// Adds punches, ignoring ones already stored (same employee, instant and source), and marks
/// their days in the monthly summaries; returns how many were new.
pub async fn insert_punches(c: &mut Conn<'_>, rows: &[Punch], now: DateTime<Utc>) -> Result<usize, StoreError> {
    let mut inserted = 0;
    match c {
        // Array parameters: one statement per batch instead of thousands of bound values.
        Conn::Postgres(pg) => {
            for chunk in rows.chunks(50_000) {
                let done = sqlx::query(
                    "INSERT INTO punches (employee_id, punched_at, source, attendance_day, created_at) \
                     SELECT t.e, t.at, t.src, t.day, $5 FROM UNNEST($1::int8[], $2::timestamptz[], $3::text[], $4::date[]) \
                     AS t(e, at, src, day) ON CONFLICT (employee_id, punched_at, source) DO NOTHING",
                )
                .bind(chunk.iter().map(|p| p.employee_id).collect::<Vec<_>>())
                .bind(chunk.iter().map(|p| p.punched_at).collect::<Vec<_>>())
                .bind(chunk.iter().map(|p| p.source.clone()).collect::<Vec<_>>())
                .bind(chunk.iter().map(|p| p.attendance_day).collect::<Vec<_>>())
                .bind(now)
                .execute(&mut **pg)
                .await?;
                inserted += done.rows_affected() as usize;
            }
        }
        Conn::Sqlite(lite) => {
            // `created_at` is bound once per statement, not once per row: a million punches
            // otherwise spend a second formatting the same instant.
            let build = |chunk: &[Punch]| {
                let mut qb = QueryBuilder::new(
                    "INSERT INTO punches (employee_id, punched_at, source, attendance_day, created_at) \
                     SELECT column1, column2, column3, column4, ",
                );
                qb.push_bind(now).push(" FROM (");
                qb.push_values(chunk, |mut b, p| {
                    b.push_bind(p.employee_id).push_bind(p.punched_at).push_bind(&p.source).push_bind(p.attendance_day);
                });
                // `WHERE true` tells SQLite's parser the ON CONFLICT belongs to the INSERT.
                qb.push(") WHERE true ON CONFLICT (employee_id, punched_at, source) DO NOTHING");
                qb
            };
            // SQLite runs a statement on sqlx's worker thread; the next one is bound meanwhile.
            // 8,000 rows × 4 parameters stays under SQLite's limit of 32,766 per statement.
            let mut chunks = rows.chunks(8_000);
            let mut next = chunks.next().map(build);
            while let Some(mut qb) = next.take() {
                let (done, following) =
                    tokio::join!(qb.build().execute(&mut **lite), async { chunks.next().map(build) });
                inserted += done?.rows_affected() as usize;
                next = following;
            }
        }
    }
    summary::add_punch_days(c, rows.iter().map(|p| (p.employee_id, p.attendance_day))).await?;
    Ok(inserted)
}

/// Days with at least one punch between two dates (inclusive), of one employee or of all.
pub async fn attendance_days(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    employee: Option<i64>,
) -> Result<Vec<(i64, NaiveDate)>, StoreError> {
    Ok(on_conn!(c, c => {
        let sql = format!("SELECT DISTINCT employee_id, attendance_day FROM punches WHERE attendance_day >= $1 AND attendance_day <= $2{} ORDER BY employee_id, attendance_day", only(employee, 3));
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        match employee { Some(id) => q.bind(id), None => q }.fetch_all(&mut **c).await?
    }))
}

/// Leave overlapping two dates (inclusive), of one employee or of all.
pub async fn leaves(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    employee: Option<i64>,
) -> Result<Vec<LeaveRow>, StoreError> {
    let rows: Vec<(i64, NaiveDate, NaiveDate, String, String)> = on_conn!(c, c => {
        let sql = format!("SELECT employee_id, start_day, end_day, kind, status FROM leaves WHERE end_day >= $1 AND start_day <= $2{} ORDER BY employee_id, start_day", only(employee, 3));
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        match employee { Some(id) => q.bind(id), None => q }.fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(employee_id, start_day, end_day, kind, status)| LeaveRow {
            employee_id,
            start_day,
            end_day,
            kind,
            status,
        })
        .collect())
}

/// Inserts leave or updates its status.
pub async fn upsert_leaves(c: &mut Conn<'_>, rows: &[LeaveRow], now: DateTime<Utc>) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new("INSERT INTO leaves (employee_id, start_day, end_day, kind, status, updated_at) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.employee_id)
                    .push_bind(r.start_day)
                    .push_bind(r.end_day)
                    .push_bind(&r.kind)
                    .push_bind(&r.status)
                    .push_bind(now);
            });
            qb.push(
                " ON CONFLICT (employee_id, start_day, end_day, kind) DO UPDATE SET status = excluded.status, \
                 updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// Activity between two dates (inclusive), of one employee or of all.
pub async fn activity(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    employee: Option<i64>,
) -> Result<Vec<ActivityRow>, StoreError> {
    let rows: Vec<(i64, NaiveDate, String, i64)> = on_conn!(c, c => {
        let sql = format!("SELECT employee_id, day, system, events FROM activity WHERE day >= $1 AND day <= $2{} ORDER BY employee_id, day", only(employee, 3));
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(from).bind(to);
        match employee { Some(id) => q.bind(id), None => q }.fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(employee_id, day, system, events)| ActivityRow { employee_id, day, system, events })
        .collect())
}

/// Inserts or replaces activity counts and recomputes the monthly summaries they touch.
pub async fn upsert_activity(c: &mut Conn<'_>, rows: &[ActivityRow], now: DateTime<Utc>) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new("INSERT INTO activity (employee_id, day, system, events, updated_at) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.employee_id).push_bind(r.day).push_bind(&r.system).push_bind(r.events).push_bind(now);
            });
            qb.push(
                " ON CONFLICT (employee_id, day, system) DO UPDATE SET events = excluded.events, \
                 updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut **c).await?;
        });
    }
    let months = rows.iter().map(|r| (r.employee_id, summary::month_of(r.day))).collect();
    summary::refresh_activity(c, &months).await
}

/// Moves punches (by their natural key) to another attendance day, after a roster change moved a
/// night shift's cut-off; callers refresh the summaries of the months involved.
pub async fn set_attendance_days(c: &mut Conn<'_>, moves: &[(Punch, NaiveDate)]) -> Result<(), StoreError> {
    for (p, day) in moves {
        on_conn!(c, c => sqlx::query(
            "UPDATE punches SET attendance_day = $4 WHERE employee_id = $1 AND punched_at = $2 AND source = $3")
            .bind(p.employee_id).bind(p.punched_at).bind(&p.source).bind(*day)
            .execute(&mut **c).await?.rows_affected());
    }
    Ok(())
}

/// Punches whose attendance day lies between two dates (inclusive), all employees.
pub async fn punches_between(c: &mut Conn<'_>, from: NaiveDate, to: NaiveDate) -> Result<Vec<Punch>, StoreError> {
    let rows: Vec<(i64, DateTime<Utc>, String, NaiveDate)> = on_conn!(c, c => sqlx::query_as(
        "SELECT employee_id, punched_at, source, attendance_day FROM punches \
         WHERE attendance_day >= $1 AND attendance_day <= $2 ORDER BY employee_id, punched_at")
        .bind(from).bind(to).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(employee_id, punched_at, source, attendance_day)| Punch {
            employee_id,
            punched_at,
            source,
            attendance_day,
        })
        .collect())
}

/// Something a person did about an alert episode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskAction {
    /// Employee.
    pub employee_id: i64,
    /// First day of the absence streak (the episode's key).
    pub episode_start: NaiveDate,
    /// `dismiss`, `contact` or `escalate`.
    pub kind: String,
    /// Dismissal reason (`justified`, `data_error`).
    pub reason: Option<String>,
    /// Contact channel (`phone`, `wecom`, `sms`, `email`, `visit`, `other`).
    pub channel: Option<String>,
    /// Contact outcome (`reached`, `no_answer`, `message_left`, `refused`).
    pub outcome: Option<String>,
    /// Free text.
    pub note: Option<String>,
    /// When it happened (a call may be logged after the fact).
    pub happened_at: DateTime<Utc>,
    /// Who recorded it.
    pub actor: String,
}

/// Records an action.
pub async fn add_risk_action(c: &mut Conn<'_>, a: &RiskAction, now: DateTime<Utc>) -> Result<(), StoreError> {
    on_conn!(c, c => sqlx::query(
        "INSERT INTO risk_actions (employee_id, episode_start, kind, reason, channel, outcome, note, happened_at, actor, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)")
        .bind(a.employee_id).bind(a.episode_start).bind(&a.kind).bind(&a.reason).bind(&a.channel).bind(&a.outcome)
        .bind(&a.note).bind(a.happened_at).bind(&a.actor).bind(now)
        .execute(&mut **c).await?.rows_affected());
    Ok(())
}

/// Actions on episodes that started on or after `since`, of one employee or of all, oldest first.
pub async fn risk_actions(
    c: &mut Conn<'_>,
    since: NaiveDate,
    employee: Option<i64>,
) -> Result<Vec<RiskAction>, StoreError> {
    type R =
        (i64, NaiveDate, String, Option<String>, Option<String>, Option<String>, Option<String>, DateTime<Utc>, String);
    let rows: Vec<R> = on_conn!(c, c => {
        let sql = format!(
            "SELECT employee_id, episode_start, kind, reason, channel, outcome, note, happened_at, actor \
             FROM risk_actions WHERE episode_start >= $1{} ORDER BY happened_at, id",
            only(employee, 2)
        );
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(since);
        match employee { Some(id) => q.bind(id), None => q }.fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(employee_id, episode_start, kind, reason, channel, outcome, note, happened_at, actor)| RiskAction {
            employee_id,
            episode_start,
            kind,
            reason,
            channel,
            outcome,
            note,
            happened_at,
            actor,
        })
        .collect())
}
