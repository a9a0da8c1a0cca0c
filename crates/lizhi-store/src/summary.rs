//! Per-employee, per-month attendance summaries.
//!
//! A daily scan needs, for every employee, which of the last few months' days had a punch and how
//! much activity each day saw. Read from `punches` and `activity` that is tens of millions of rows
//! at 100,000 employees; read from here it is a handful of small rows per person. The imports keep
//! the summaries in step in the same transaction as the rows they summarise.

use crate::{Conn, StoreError, on_conn};
use chrono::{Datelike, NaiveDate};
use sqlx::QueryBuilder;
use std::collections::{BTreeMap, BTreeSet};

/// Days in the longest month: the length of an activity blob in day totals.
const DAYS: usize = 31;

/// One employee's month.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthSummary {
    /// Employee.
    pub employee_id: i64,
    /// First day of the month.
    pub month: NaiveDate,
    /// Bit `d - 1` is set when day `d` had at least one punch.
    pub punch_days: u32,
    /// Activity events per day over all systems (index `d - 1`), `None` when there was none.
    pub activity: Option<[u32; DAYS]>,
}

impl MonthSummary {
    /// The dates with a punch.
    pub fn punched(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        (0..DAYS as u32).filter(|d| self.punch_days & (1 << d) != 0).filter_map(|d| self.month.with_day(d + 1))
    }

    /// The dates with activity and their totals.
    pub fn active(&self) -> impl Iterator<Item = (NaiveDate, u32)> + '_ {
        self.activity.iter().flat_map(|days| {
            days.iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .filter_map(|(i, n)| Some((self.month.with_day(i as u32 + 1)?, *n)))
        })
    }
}

/// The first day of the month of `day`.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn encode(days: &[u32; DAYS]) -> Vec<u8> {
    days.iter().flat_map(|n| n.to_le_bytes()).collect()
}

fn decode(blob: &[u8]) -> Option<[u32; DAYS]> {
    if blob.len() != DAYS * 4 {
        return None;
    }
    let mut days = [0u32; DAYS];
    for (i, chunk) in blob.chunks_exact(4).enumerate() {
        days[i] = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    Some(days)
}

/// Which employees' summaries to read.
#[derive(Debug, Clone, Copy)]
pub enum Whose {
    /// Everyone.
    All,
    /// The employees of one legal entity.
    Entity(i64),
    /// One employee.
    Employee(i64),
}

/// Summaries of the months overlapping two dates (inclusive).
pub async fn months(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    whose: Whose,
) -> Result<Vec<MonthSummary>, StoreError> {
    let (entity, employee) = match whose {
        Whose::All => (None, None),
        Whose::Entity(id) => (Some(id), None),
        Whose::Employee(id) => (None, Some(id)),
    };
    let rows: Vec<(i64, NaiveDate, i64, Option<Vec<u8>>)> = on_conn!(c, c => sqlx::query_as(
        "SELECT employee_id, month, punch_days, activity FROM attendance_months \
         WHERE month >= $1 AND month <= $2 AND ($3 IS NULL OR employee_id = $3) \
         AND ($4 IS NULL OR employee_id IN (SELECT id FROM employees WHERE legal_entity_id = $4))")
        .bind(month_of(from)).bind(to).bind(employee).bind(entity).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(employee_id, month, bits, blob)| MonthSummary {
            employee_id,
            month,
            punch_days: u32::try_from(bits).unwrap_or(0),
            activity: blob.as_deref().and_then(decode),
        })
        .collect())
}

/// Marks days as punched (never unmarks: punches are only ever added).
pub async fn add_punch_days(
    c: &mut Conn<'_>,
    days: impl IntoIterator<Item = (i64, NaiveDate)>,
) -> Result<(), StoreError> {
    let mut bits: BTreeMap<(i64, NaiveDate), i64> = BTreeMap::new();
    for (employee_id, day) in days {
        *bits.entry((employee_id, month_of(day))).or_default() |= 1 << day.day0();
    }
    let rows: Vec<(i64, NaiveDate, i64)> = bits.into_iter().map(|((e, m), b)| (e, m, b)).collect();
    const MERGE: &str = " ON CONFLICT (employee_id, month) DO UPDATE \
                         SET punch_days = attendance_months.punch_days | excluded.punch_days";
    match c {
        Conn::Postgres(pg) => {
            for chunk in rows.chunks(50_000) {
                let sql = format!(
                    "INSERT INTO attendance_months (employee_id, month, punch_days) \
                     SELECT * FROM UNNEST($1::int8[], $2::date[], $3::int8[]){MERGE}"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(chunk.iter().map(|r| r.0).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.1).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.2).collect::<Vec<_>>())
                    .execute(&mut **pg)
                    .await?;
            }
        }
        Conn::Sqlite(lite) => {
            for chunk in rows.chunks(3_000) {
                let mut qb = QueryBuilder::new("INSERT INTO attendance_months (employee_id, month, punch_days) ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2);
                });
                qb.push(MERGE);
                qb.build().execute(&mut **lite).await?;
            }
        }
    }
    Ok(())
}

/// Recomputes the punch masks of the given employee-months from the `punches` table (after punches
/// moved to another attendance day).
pub async fn refresh_punch_days(c: &mut Conn<'_>, keys: &BTreeSet<(i64, NaiveDate)>) -> Result<(), StoreError> {
    let mut masks: BTreeMap<(i64, NaiveDate), i64> = keys.iter().map(|k| (*k, 0)).collect();
    let employees: Vec<i64> = keys.iter().map(|k| k.0).collect::<BTreeSet<_>>().into_iter().collect();
    for group in employees.chunks(500) {
        let months: Vec<NaiveDate> =
            keys.range((group[0], NaiveDate::MIN)..=(group[group.len() - 1], NaiveDate::MAX)).map(|k| k.1).collect();
        let (Some(&first), Some(&last)) = (months.iter().min(), months.iter().max()) else { continue };
        let last_day = last.checked_add_months(chrono::Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(last);
        let days: Vec<(i64, NaiveDate)> = on_conn!(c, c => {
            let mut qb = QueryBuilder::new("SELECT DISTINCT employee_id, attendance_day FROM punches WHERE employee_id IN (");
            let mut sep = qb.separated(", ");
            for id in group {
                sep.push_bind(*id);
            }
            qb.push(") AND attendance_day >= ").push_bind(first).push(" AND attendance_day <= ").push_bind(last_day);
            qb.build_query_as().fetch_all(&mut **c).await?
        });
        for (employee_id, day) in days {
            if let Some(mask) = masks.get_mut(&(employee_id, month_of(day))) {
                *mask |= 1 << day.day0();
            }
        }
    }
    for ((employee_id, month), mask) in masks {
        on_conn!(c, c => sqlx::query(
            "INSERT INTO attendance_months (employee_id, month, punch_days) VALUES ($1, $2, $3) \
             ON CONFLICT (employee_id, month) DO UPDATE SET punch_days = excluded.punch_days")
            .bind(employee_id).bind(month).bind(mask).execute(&mut **c).await?.rows_affected());
    }
    Ok(())
}

/// Recomputes the activity totals of the given employee-months from the `activity` table.
pub async fn refresh_activity(c: &mut Conn<'_>, keys: &BTreeSet<(i64, NaiveDate)>) -> Result<(), StoreError> {
    // By groups of employees, each read through the primary key (employee, day, system) over the
    // group's span of months: the rows read are those of the people and months being refreshed.
    let employees: Vec<i64> = keys.iter().map(|k| k.0).collect::<BTreeSet<_>>().into_iter().collect();
    let mut totals: Vec<(i64, NaiveDate, i64)> = Vec::new();
    for group in employees.chunks(500) {
        let months: Vec<NaiveDate> =
            keys.range((group[0], NaiveDate::MIN)..=(group[group.len() - 1], NaiveDate::MAX)).map(|k| k.1).collect();
        let (Some(&first), Some(&last)) = (months.iter().min(), months.iter().max()) else { continue };
        let last_day = last.checked_add_months(chrono::Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(last);
        let rows: Vec<(i64, NaiveDate, i64)> = on_conn!(c, c => {
            let mut qb = QueryBuilder::new(
                "SELECT employee_id, day, CAST(SUM(events) AS BIGINT) FROM activity WHERE employee_id IN (",
            );
            let mut sep = qb.separated(", ");
            for id in group {
                sep.push_bind(*id);
            }
            qb.push(") AND day >= ").push_bind(first).push(" AND day <= ").push_bind(last_day);
            qb.push(" GROUP BY employee_id, day");
            qb.build_query_as().fetch_all(&mut **c).await?
        });
        totals.extend(rows);
    }
    let mut blobs: BTreeMap<(i64, NaiveDate), [u32; DAYS]> = keys.iter().map(|k| (*k, [0; DAYS])).collect();
    for (employee_id, day, events) in totals {
        if let Some(days) = blobs.get_mut(&(employee_id, month_of(day))) {
            days[day.day0() as usize] = u32::try_from(events).unwrap_or(u32::MAX);
        }
    }
    let rows: Vec<(i64, NaiveDate, Option<Vec<u8>>)> =
        blobs.into_iter().map(|((e, m), days)| (e, m, days.iter().any(|n| *n > 0).then(|| encode(&days)))).collect();
    const MERGE: &str = " ON CONFLICT (employee_id, month) DO UPDATE SET activity = excluded.activity";
    match c {
        Conn::Postgres(pg) => {
            for chunk in rows.chunks(20_000) {
                let sql = format!(
                    "INSERT INTO attendance_months (employee_id, month, activity) \
                     SELECT * FROM UNNEST($1::int8[], $2::date[], $3::bytea[]){MERGE}"
                );
                sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(chunk.iter().map(|r| r.0).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.1).collect::<Vec<_>>())
                    .bind(chunk.iter().map(|r| r.2.clone()).collect::<Vec<_>>())
                    .execute(&mut **pg)
                    .await?;
            }
        }
        Conn::Sqlite(lite) => {
            for chunk in rows.chunks(3_000) {
                let mut qb = QueryBuilder::new("INSERT INTO attendance_months (employee_id, month, activity) ");
                qb.push_values(chunk, |mut b, r| {
                    b.push_bind(r.0).push_bind(r.1).push_bind(r.2.clone());
                });
                qb.push(MERGE);
                qb.build().execute(&mut **lite).await?;
            }
        }
    }
    Ok(())
}

/// Rebuilds every summary from `punches` and `activity`: for databases whose attendance was
/// loaded before summaries existed. Idempotent, so instances starting together may both run it.
pub async fn rebuild_all(c: &mut Conn<'_>) -> Result<(), StoreError> {
    let days: Vec<(i64, NaiveDate)> = on_conn!(c, c => sqlx::query_as(
        "SELECT DISTINCT employee_id, attendance_day FROM punches").fetch_all(&mut **c).await?);
    add_punch_days(c, days).await?;
    let months: Vec<(i64, NaiveDate)> = on_conn!(c, c => sqlx::query_as(
        "SELECT DISTINCT employee_id, day FROM activity").fetch_all(&mut **c).await?);
    let keys: BTreeSet<(i64, NaiveDate)> = months.into_iter().map(|(e, d)| (e, month_of(d))).collect();
    refresh_activity(c, &keys).await
}
