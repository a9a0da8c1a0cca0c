//! Per-employee, per-year attendance summaries.
//!
//! A daily scan needs, for every employee, which of the last few months' days had a punch and how
//! much activity each day saw. Read from `punches` and `activity` that is tens of millions of rows
//! at 100,000 employees; read from here it is one row per person (two early in the year). The
//! imports keep the summaries in step in the same transaction as the rows they summarise.

use crate::{Conn, StoreError, on_conn};
use chrono::{Datelike, NaiveDate};
use sqlx::QueryBuilder;
use std::collections::{BTreeMap, BTreeSet};

/// Days in the longest year: the length of an activity blob in day totals.
const DAYS: usize = 366;
/// 64-bit words of the punch bitmap (`p0` … `p5`).
const WORDS: usize = DAYS.div_ceil(64);

/// One employee's year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YearSummary {
    /// Employee.
    pub employee_id: i64,
    /// The year.
    pub year: i32,
    /// Bit `o % 64` of word `o / 64` is set when the day with ordinal `o` (0 = 1 January) had a punch.
    pub punch_words: [u64; WORDS],
    /// Activity events per day over all systems (index = ordinal), `None` when there was none.
    pub activity: Option<Vec<u32>>,
}

impl YearSummary {
    fn day(&self, ordinal0: usize) -> Option<NaiveDate> {
        NaiveDate::from_yo_opt(self.year, u32::try_from(ordinal0).ok()? + 1)
    }

    /// The dates with a punch.
    pub fn punched(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.punch_words.iter().enumerate().flat_map(move |(w, word)| {
            let mut bits = *word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let bit = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * 64 + bit)
            })
            .filter_map(|o| self.day(o))
        })
    }

    /// The dates with activity and their totals.
    pub fn active(&self) -> impl Iterator<Item = (NaiveDate, u32)> + '_ {
        self.activity
            .iter()
            .flat_map(|days| days.iter().enumerate().filter(|(_, n)| **n > 0))
            .filter_map(|(o, n)| Some((self.day(o)?, *n)))
    }
}

/// The year a day's summary row belongs to.
pub fn year_of(day: NaiveDate) -> i32 {
    day.year()
}

fn ordinal0(day: NaiveDate) -> usize {
    day.ordinal0() as usize
}

fn encode(days: &[u32]) -> Vec<u8> {
    days.iter().flat_map(|n| n.to_le_bytes()).collect()
}

fn decode(blob: &[u8]) -> Option<Vec<u32>> {
    (blob.len() == DAYS * 4)
        .then(|| blob.chunks_exact(4).map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect())
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

type YearRow = (i64, i64, i64, i64, i64, i64, i64, i64, Option<Vec<u8>>);

/// Summaries of the years overlapping two dates (inclusive).
pub async fn years(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    whose: Whose,
) -> Result<Vec<YearSummary>, StoreError> {
    let (filter, id) = match whose {
        Whose::All => ("", None),
        Whose::Entity(id) => (" AND employee_id IN (SELECT id FROM employees WHERE legal_entity_id = $3)", Some(id)),
        Whose::Employee(id) => (" AND employee_id = $3", Some(id)),
    };
    let sql = format!(
        "SELECT employee_id, year, p0, p1, p2, p3, p4, p5, activity FROM attendance_years \
         WHERE year >= $1 AND year <= $2{filter}"
    );
    let rows: Vec<YearRow> = on_conn!(c, c => {
        let q = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(i64::from(from.year())).bind(i64::from(to.year()));
        match id { Some(id) => q.bind(id), None => q }.fetch_all(&mut **c).await?
    });
    Ok(rows
        .into_iter()
        .map(|(employee_id, year, p0, p1, p2, p3, p4, p5, blob)| YearSummary {
            employee_id,
            year: i32::try_from(year).unwrap_or_default(),
            // The words are stored as signed 64-bit integers; the bit pattern is what counts.
            punch_words: [p0, p1, p2, p3, p4, p5].map(|w| w as u64),
            activity: blob.as_deref().and_then(decode),
        })
        .collect())
}

/// Punch bitmaps per (employee, year) for the given days.
fn bitmaps(days: impl IntoIterator<Item = (i64, NaiveDate)>) -> BTreeMap<(i64, i32), [i64; WORDS]> {
    let mut out: BTreeMap<(i64, i32), [i64; WORDS]> = BTreeMap::new();
    for (employee_id, day) in days {
        let o = ordinal0(day);
        out.entry((employee_id, year_of(day))).or_default()[o / 64] |= 1i64 << (o % 64);
    }
    out
}

/// Writes punch bitmaps: `merge` ORs them into what is stored, otherwise they replace it.
async fn write_bitmaps(
    c: &mut Conn<'_>,
    rows: &BTreeMap<(i64, i32), [i64; WORDS]>,
    merge: bool,
) -> Result<(), StoreError> {
    let set = if merge {
        "p0 = attendance_years.p0 | excluded.p0, p1 = attendance_years.p1 | excluded.p1, \
         p2 = attendance_years.p2 | excluded.p2, p3 = attendance_years.p3 | excluded.p3, \
         p4 = attendance_years.p4 | excluded.p4, p5 = attendance_years.p5 | excluded.p5"
    } else {
        "p0 = excluded.p0, p1 = excluded.p1, p2 = excluded.p2, p3 = excluded.p3, p4 = excluded.p4, p5 = excluded.p5"
    };
    let rows: Vec<(&(i64, i32), &[i64; WORDS])> = rows.iter().collect();
    for chunk in rows.chunks(2_000) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new("INSERT INTO attendance_years (employee_id, year, p0, p1, p2, p3, p4, p5) ");
            qb.push_values(chunk, |mut b, ((employee_id, year), words)| {
                b.push_bind(*employee_id).push_bind(i64::from(*year));
                for w in words.iter() {
                    b.push_bind(*w);
                }
            });
            qb.push(" ON CONFLICT (employee_id, year) DO UPDATE SET ").push(set);
            qb.build().execute(&mut **c).await?;
        });
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

/// The first and last day of a year.
fn year_span(year: i32) -> Option<(NaiveDate, NaiveDate)> {
    Some((NaiveDate::from_yo_opt(year, 1)?, NaiveDate::from_ymd_opt(year, 12, 31)?))
}

/// Reads `(employee, day, value)` rows for groups of at most 500 employees, each group over the
/// span of years asked for it, through the employee-first indexes.
async fn per_employee<T>(
    c: &mut Conn<'_>,
    keys: &BTreeSet<(i64, i32)>,
    select: &str,
    group_by: &str,
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
        let years: Vec<i32> =
            keys.range((group[0], i32::MIN)..=(group[group.len() - 1], i32::MAX)).map(|k| k.1).collect();
        let (Some(first), Some(last)) =
            (years.iter().min().and_then(|y| year_span(*y)), years.iter().max().and_then(|y| year_span(*y)))
        else {
            continue;
        };
        let rows: Vec<T> = on_conn!(c, c => {
            let mut qb = QueryBuilder::new(select);
            qb.push(" WHERE employee_id IN (");
            let mut sep = qb.separated(", ");
            for id in group {
                sep.push_bind(*id);
            }
            qb.push(") AND ").push(group_by).push(" >= ").push_bind(first.0);
            qb.push(" AND ").push(group_by).push(" <= ").push_bind(last.1);
            qb.push(" GROUP BY employee_id, ").push(group_by);
            qb.build_query_as().fetch_all(&mut **c).await?
        });
        out.extend(rows);
    }
    Ok(out)
}

/// Recomputes the punch bitmaps of the given employee-years from the `punches` table (after
/// punches moved to another attendance day).
pub async fn refresh_punch_days(c: &mut Conn<'_>, keys: &BTreeSet<(i64, i32)>) -> Result<(), StoreError> {
    let days: Vec<(i64, NaiveDate)> =
        per_employee(c, keys, "SELECT employee_id, attendance_day FROM punches", "attendance_day").await?;
    let mut maps = bitmaps(days.into_iter().filter(|(e, d)| keys.contains(&(*e, year_of(*d)))));
    for key in keys {
        maps.entry(*key).or_default();
    }
    write_bitmaps(c, &maps, false).await
}

/// Recomputes the activity totals of the given employee-years from the `activity` table.
pub async fn refresh_activity(c: &mut Conn<'_>, keys: &BTreeSet<(i64, i32)>) -> Result<(), StoreError> {
    let totals: Vec<(i64, NaiveDate, i64)> =
        per_employee(c, keys, "SELECT employee_id, day, CAST(SUM(events) AS BIGINT) FROM activity", "day").await?;
    let mut blobs: BTreeMap<(i64, i32), Vec<u32>> = keys.iter().map(|k| (*k, vec![0; DAYS])).collect();
    for (employee_id, day, events) in totals {
        if let Some(days) = blobs.get_mut(&(employee_id, year_of(day))) {
            days[ordinal0(day)] = u32::try_from(events).unwrap_or(u32::MAX);
        }
    }
    let rows: Vec<(i64, i64, Option<Vec<u8>>)> = blobs
        .into_iter()
        .map(|((e, y), days)| (e, i64::from(y), days.iter().any(|n| *n > 0).then(|| encode(&days))))
        .collect();
    for chunk in rows.chunks(2_000) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new("INSERT INTO attendance_years (employee_id, year, activity) ");
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.0).push_bind(r.1).push_bind(r.2.clone());
            });
            qb.push(" ON CONFLICT (employee_id, year) DO UPDATE SET activity = excluded.activity");
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
    let keys: BTreeSet<(i64, i32)> = active.into_iter().map(|(e, d)| (e, year_of(d))).collect();
    refresh_activity(c, &keys).await
}
