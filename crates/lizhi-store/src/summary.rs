//! Per-employee, per-month attendance summaries.
//!
//! A daily scan needs, for every employee, which of the last few months' days had a punch and how
//! much activity each day saw. Read from `punches` and `activity` that is tens of millions of rows
//! at 100,000 employees; read from here it is four or five rows of under 100 bytes per person.
//! (Measured: per-year rows holding the whole year's activity were slower to read, because a scan
//! then carries three times the bytes it needs.) The imports keep the summaries in step in the same
//! transaction as the rows they summarise.

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
    /// Bit `d - 1` is set when day `d` had a punch.
    pub punch_days: u32,
    /// Activity events per day over all systems (index `d - 1`), saturated at 65,535 a day;
    /// `None` when there was none.
    pub activity: Option<Vec<u16>>,
}

impl MonthSummary {
    fn day(&self, index: usize) -> Option<NaiveDate> {
        self.month.with_day(u32::try_from(index).ok()? + 1)
    }

    /// The dates with a punch.
    pub fn punched(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.punched_days0().filter_map(|i| self.day(i))
    }

    /// The days of the month with a punch, 0-based (for callers that index by day).
    pub fn punched_days0(&self) -> impl Iterator<Item = usize> + use<> {
        let mut bits = self.punch_days;
        std::iter::from_fn(move || {
            if bits == 0 {
                return None;
            }
            let index = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            Some(index)
        })
    }

    /// Activity per day of the month, 0-based, days without activity left out.
    pub fn active_days0(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.activity
            .iter()
            .flat_map(|days| days.iter().enumerate().filter(|(_, n)| **n > 0))
            .map(|(i, n)| (i, u32::from(*n)))
    }

    /// The dates with activity and their totals.
    pub fn active(&self) -> impl Iterator<Item = (NaiveDate, u32)> + '_ {
        self.active_days0().filter_map(|(i, n)| Some((self.day(i)?, n)))
    }
}

/// The first day of the month of `day`: the key of its summary row.
pub fn month_of(day: NaiveDate) -> NaiveDate {
    day.with_day(1).unwrap_or(day)
}

fn index(day: NaiveDate) -> usize {
    day.day0() as usize
}

/// The last day of the month that starts on `month`.
fn month_end(month: NaiveDate) -> NaiveDate {
    month.checked_add_months(chrono::Months::new(1)).and_then(|d| d.pred_opt()).unwrap_or(month)
}

/// Day totals as stored: 4 hex digits per day (little-endian u16).
fn encode(days: &[u16]) -> String {
    hex::encode(days.iter().flat_map(|n| n.to_le_bytes()).collect::<Vec<u8>>())
}

fn decode(text: &str) -> Option<Vec<u16>> {
    let bytes = hex::decode(text).ok()?;
    (bytes.len() == DAYS * 2).then(|| bytes.chunks_exact(2).map(|c| u16::from_le_bytes([c[0], c[1]])).collect())
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
    /// Employees with ids in an inclusive range, of one legal entity or all: a share of a large
    /// scan, read on its own connection.
    Ids {
        /// Legal entity.
        entity: Option<i64>,
        /// Lowest id.
        first: i64,
        /// Highest id.
        last: i64,
    },
}

/// Employees whose summaries travel together in one result row (see [`months`]).
const BATCH: i64 = 256;

/// Summaries of the months overlapping two dates (inclusive).
///
/// The drivers hand rows over one at a time, at a few microseconds each, and a scan of 100,000
/// people needs some 400,000 summary rows. So the database packs the rows of [`BATCH`] employees
/// into one text value (`id,month,bits,activity;…`) and this function unpacks it: a few hundred rows
/// cross the driver instead of hundreds of thousands.
pub async fn months(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    whose: Whose,
) -> Result<Vec<MonthSummary>, StoreError> {
    const IN_ENTITY: &str = " AND employee_id IN (SELECT id FROM employees WHERE legal_entity_id = $";
    let (filter, binds): (String, Vec<i64>) = match whose {
        Whose::All => (String::new(), vec![]),
        Whose::Entity(id) => (format!("{IN_ENTITY}3)"), vec![id]),
        Whose::Employee(id) => (" AND employee_id = $3".into(), vec![id]),
        Whose::Ids { entity: None, first, last } => {
            (" AND employee_id >= $3 AND employee_id <= $4".into(), vec![first, last])
        }
        Whose::Ids { entity: Some(e), first, last } => {
            (format!(" AND employee_id >= $3 AND employee_id <= $4{IN_ENTITY}5)"), vec![first, last, e])
        }
    };
    let packed = match c {
        Conn::Sqlite(_) => {
            // One printf per row allocates less than a chain of `||` (NULL prints as nothing).
            "group_concat(printf('%d,%s,%d,%s', employee_id, month, punch_days, activity), ';')"
        }
        Conn::Postgres(_) => {
            "string_agg(employee_id::text || ',' || to_char(month, 'YYYY-MM-DD') || ',' || punch_days::text || ',' \
             || coalesce(activity, ''), ';')"
        }
    };
    let sql = format!(
        "SELECT {packed} FROM attendance_months WHERE month >= $1 AND month <= $2{filter} GROUP BY employee_id / {BATCH}"
    );
    let batches: Vec<(Option<String>,)> = on_conn!(c, c => {
        let mut q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(month_of(from)).bind(to);
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(&mut **c).await?
    });
    let mut out = Vec::new();
    for (batch,) in batches {
        for entry in batch.as_deref().unwrap_or_default().split(';').filter(|e| !e.is_empty()) {
            out.push(unpack(entry).ok_or_else(|| StoreError::Corrupt(format!("attendance summary `{entry}`")))?);
        }
    }
    Ok(out)
}

/// `YYYY-MM-DD` (as both databases print dates), without the general format parser.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let (y, rest) = text.split_once('-')?;
    let (m, d) = rest.split_once('-')?;
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// One `id,month,bits,hex` entry of a packed batch.
fn unpack(entry: &str) -> Option<MonthSummary> {
    let mut fields = entry.split(',');
    let employee_id = fields.next()?.parse().ok()?;
    let month = parse_date(fields.next()?)?;
    let punch_days = fields.next()?.parse().ok()?;
    let hex_text = fields.next()?;
    let activity = if hex_text.is_empty() { None } else { Some(decode(hex_text)?) };
    Some(MonthSummary { employee_id, month, punch_days, activity })
}

/// Punch bitmaps per (employee, month) for the given days.
fn bitmaps(days: impl IntoIterator<Item = (i64, NaiveDate)>) -> BTreeMap<(i64, NaiveDate), i64> {
    let mut out: BTreeMap<(i64, NaiveDate), i64> = BTreeMap::new();
    for (employee_id, day) in days {
        *out.entry((employee_id, month_of(day))).or_default() |= 1 << index(day);
    }
    out
}

/// Writes punch bitmaps: `merge` ORs them into what is stored, otherwise they replace it.
async fn write_bitmaps(
    c: &mut Conn<'_>,
    rows: &BTreeMap<(i64, NaiveDate), i64>,
    merge: bool,
) -> Result<(), StoreError> {
    let set = if merge {
        " ON CONFLICT (employee_id, month) DO UPDATE SET punch_days = attendance_months.punch_days | excluded.punch_days"
    } else {
        " ON CONFLICT (employee_id, month) DO UPDATE SET punch_days = excluded.punch_days"
    };
    let rows: Vec<(i64, NaiveDate, i64)> = rows.iter().map(|((e, m), b)| (*e, *m, *b)).collect();
    match c {
        // Array parameters: one statement per batch instead of thousands of bound values.
        Conn::Postgres(pg) => {
            for chunk in rows.chunks(50_000) {
                let sql = format!(
                    "INSERT INTO attendance_months (employee_id, month, punch_days) \
                     SELECT * FROM UNNEST($1::int8[], $2::date[], $3::int8[]){set}"
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
                qb.push(set);
                qb.build().execute(&mut **lite).await?;
            }
        }
    }
    Ok(())
}

/// Marks days as punched (never unmarks: punches are only ever added).
pub async fn add_punch_days(
    c: &mut Conn<'_>,
    days: impl IntoIterator<Item = (i64, NaiveDate)>,
) -> Result<(), StoreError> {
    write_bitmaps(c, &bitmaps(days), true).await
}

/// Reads `(employee, day, value)` rows for groups of at most 500 employees, each group over the
/// span of months asked for it, through the employee-first indexes.
async fn per_employee<T>(
    c: &mut Conn<'_>,
    keys: &BTreeSet<(i64, NaiveDate)>,
    select: &str,
    day_column: &str,
) -> Result<Vec<T>, StoreError>
where
    T: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let employees: Vec<i64> = keys.iter().map(|k| k.0).collect::<BTreeSet<_>>().into_iter().collect();
    let mut out = Vec::new();
    for group in employees.chunks(500) {
        let months: Vec<NaiveDate> =
            keys.range((group[0], NaiveDate::MIN)..=(group[group.len() - 1], NaiveDate::MAX)).map(|k| k.1).collect();
        let (Some(&first), Some(&last)) = (months.iter().min(), months.iter().max()) else { continue };
        let rows: Vec<T> = on_conn!(c, c => {
            let mut qb = QueryBuilder::new(select);
            qb.push(" WHERE employee_id IN (");
            let mut sep = qb.separated(", ");
            for id in group {
                sep.push_bind(*id);
            }
            qb.push(") AND ").push(day_column).push(" >= ").push_bind(first);
            qb.push(" AND ").push(day_column).push(" <= ").push_bind(month_end(last));
            qb.push(" GROUP BY employee_id, ").push(day_column);
            qb.build_query_as().fetch_all(&mut **c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Recomputes the punch bitmaps of the given employee-months from the `punches` table (after
/// punches moved to another attendance day).
pub async fn refresh_punch_days(c: &mut Conn<'_>, keys: &BTreeSet<(i64, NaiveDate)>) -> Result<(), StoreError> {
    let days: Vec<(i64, NaiveDate)> =
        per_employee(c, keys, "SELECT employee_id, attendance_day FROM punches", "attendance_day").await?;
    let mut maps = bitmaps(days.into_iter().filter(|(e, d)| keys.contains(&(*e, month_of(*d)))));
    for key in keys {
        maps.entry(*key).or_default();
    }
    write_bitmaps(c, &maps, false).await
}

/// Recomputes the activity totals of the given employee-months from the `activity` table.
pub async fn refresh_activity(c: &mut Conn<'_>, keys: &BTreeSet<(i64, NaiveDate)>) -> Result<(), StoreError> {
    let totals: Vec<(i64, NaiveDate, i64)> =
        per_employee(c, keys, "SELECT employee_id, day, CAST(SUM(events) AS BIGINT) FROM activity", "day").await?;
    let mut blobs: BTreeMap<(i64, NaiveDate), Vec<u16>> = keys.iter().map(|k| (*k, vec![0; DAYS])).collect();
    for (employee_id, day, events) in totals {
        if let Some(days) = blobs.get_mut(&(employee_id, month_of(day))) {
            days[index(day)] = u16::try_from(events).unwrap_or(u16::MAX);
        }
    }
    let rows: Vec<(i64, NaiveDate, Option<String>)> =
        blobs.into_iter().map(|((e, m), days)| (e, m, days.iter().any(|n| *n > 0).then(|| encode(&days)))).collect();
    for chunk in rows.chunks(3_000) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new("INSERT INTO attendance_months (employee_id, month, activity) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.0).push_bind(r.1).push_bind(r.2.clone());
            });
            qb.push(" ON CONFLICT (employee_id, month) DO UPDATE SET activity = excluded.activity");
            qb.build().execute(&mut **c).await?;
        });
    }
    Ok(())
}

/// Rebuilds every summary from `punches` and `activity`: for databases whose attendance was
/// loaded before summaries existed. Idempotent, so instances starting together may both run it.
pub async fn rebuild_all(c: &mut Conn<'_>) -> Result<(), StoreError> {
    let days: Vec<(i64, NaiveDate)> = on_conn!(c, c => sqlx::query_as(
        "SELECT DISTINCT employee_id, attendance_day FROM punches").fetch_all(&mut **c).await?);
    write_bitmaps(c, &bitmaps(days), false).await?;
    let active: Vec<(i64, NaiveDate)> = on_conn!(c, c => sqlx::query_as(
        "SELECT DISTINCT employee_id, day FROM activity").fetch_all(&mut **c).await?);
    let keys: BTreeSet<(i64, NaiveDate)> = active.into_iter().map(|(e, d)| (e, month_of(d))).collect();
    refresh_activity(c, &keys).await
}
