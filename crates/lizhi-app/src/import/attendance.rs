//! Imports of early-warning inputs: calendar overrides, rosters, punches, leave and activity.
//!
//! Each is idempotent by natural key: re-importing a file changes nothing and says so. The rows
//! themselves are attendance evidence, so one audit row per applied file records its digest and
//! counts instead of one per punch.

use super::{Columns, Counts, Errors, Pass, required_text};
use crate::audit::{change, digest_seq, record};
use crate::{App, AppError, Ctx};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use lizhi_core::calendar::{attendance_day, attendance_day_with_cutoff};
use lizhi_core::{EmployeeNo, EntityCode, WorkDate};
use lizhi_docs::{Record, Table};
use lizhi_store::attendance::{self as store, ActivityRow, CalendarDay, LeaveRow, Punch, RosterDay};
use lizhi_store::{Conn, employees, org, summary};
use rustc_hash::{FxHashMap, FxHashSet};
use std::collections::{HashMap, HashSet};

/// Employee number → (id, time zone of the employer).
struct People(FxHashMap<String, (i64, chrono_tz::Tz)>);

impl People {
    async fn load(c: &mut Conn<'_>) -> Result<People, AppError> {
        let zones: HashMap<i64, chrono_tz::Tz> = org::list_entities(c)
            .await?
            .into_iter()
            .map(|e| (e.id, e.time_zone.parse().unwrap_or(chrono_tz::UTC)))
            .collect();
        let index = employees::index(c).await?;
        Ok(People(
            index
                .into_iter()
                .map(|(no, id, entity)| (no, (id, zones.get(&entity).copied().unwrap_or(chrono_tz::UTC))))
                .collect(),
        ))
    }

    /// The employee of a row's `employee_no` cell, or a row error.
    fn find(&self, cols: &Columns<'_>, record: &Record, errors: &mut Errors) -> Option<(i64, chrono_tz::Tz)> {
        let raw = cols.get(record, "employee_no");
        let no = EmployeeNo::parse(raw).map_err(|e| errors.cell(record, "employee_no", &e, raw)).ok()?;
        let found = self.0.get(no.as_str()).copied();
        if found.is_none() {
            errors.push(Some(record.row), Some("employee_no"), "unknown_employee", Some(raw));
        }
        found
    }
}

fn date(cols: &Columns<'_>, record: &Record, column: &str, errors: &mut Errors) -> Option<NaiveDate> {
    let raw = cols.get(record, column);
    WorkDate::parse(raw).map(WorkDate::date).map_err(|e| errors.cell(record, column, &e, raw)).ok()
}

fn label(cols: &Columns<'_>, record: &Record, column: &str, max: usize, errors: &mut Errors) -> Option<String> {
    let raw = cols.get(record, column);
    required_text(raw, max).map_err(|e| errors.cell(record, column, &e, raw)).ok()
}

/// A record's cell in a column that may be absent.
fn cell(record: &Record, column: Option<usize>) -> &str {
    column.map_or("", |i| record.get(i))
}

/// Rejects a second row with the same key; true when the key is new.
fn first_time<K: std::hash::Hash + Eq>(
    seen: &mut HashSet<K>,
    key: K,
    record: &Record,
    column: &str,
    errors: &mut Errors,
) -> bool {
    let fresh = seen.insert(key);
    if !fresh {
        errors.push(Some(record.row), Some(column), "duplicate_in_file", None);
    }
    fresh
}

fn date_span<D: std::borrow::Borrow<NaiveDate>>(days: impl Iterator<Item = D>) -> Option<(NaiveDate, NaiveDate)> {
    days.map(|d| *d.borrow()).fold(None, |span, d| match span {
        None => Some((d, d)),
        Some((lo, hi)) => Some((lo.min(d), hi.max(d))),
    })
}

/// Counts rows against what is stored (same key) and keeps only new or changed ones.
fn diff<K: Eq + std::hash::Hash, V: PartialEq + Clone>(
    planned: Vec<(K, V)>,
    stored: &HashMap<K, V>,
) -> (Counts, Vec<V>) {
    let mut counts = Counts::default();
    let mut changed = Vec::new();
    for (key, value) in planned {
        match stored.get(&key) {
            Some(old) if *old == value => counts.unchanged += 1,
            Some(_) => {
                counts.updated += 1;
                changed.push(value);
            }
            None => {
                counts.created += 1;
                changed.push(value);
            }
        }
    }
    (counts, changed)
}

/// One audit row for an applied attendance file: what kind, how many rows, and a digest of them.
async fn audit_file(
    app: &App,
    c: &mut Conn<'_>,
    ctx: &Ctx,
    kind: &str,
    table: &Table,
    counts: &Counts,
) -> Result<(), AppError> {
    let rows: Vec<&Vec<String>> = table.rows.iter().map(|r| &r.cells).collect();
    let info = serde_json::json!({
        "headers": table.headers, "rows": rows.len(), "rows_digest": digest_seq(&rows),
        "created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged,
    });
    record(app, c, ctx, &[change(ctx, &format!("import.{kind}"), "import", kind, None, Some(&info))]).await
}

pub(super) async fn calendar(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let mut seen = HashSet::new();
    let mut planned = Vec::new();
    for record in &table.rows {
        let raw = cols.get(record, "calendar");
        let calendar = EntityCode::parse(raw).map_err(|e| errors.cell(record, "calendar", &e, raw)).ok();
        let day = date(cols, record, "date", errors);
        let kind_raw = cols.get(record, "kind").trim().to_ascii_lowercase();
        let kind = matches!(kind_raw.as_str(), "holiday" | "workday").then_some(kind_raw.clone());
        if kind.is_none() {
            errors.push(Some(record.row), Some("kind"), "invalid_day_kind", Some(cols.get(record, "kind")));
        }
        let name = label(cols, record, "name", 100, errors);
        let (Some(calendar), Some(day), Some(kind), Some(name)) = (calendar, day, kind, name) else { continue };
        let calendar = calendar.to_string();
        if first_time(&mut seen, (calendar.clone(), day), record, "date", errors) {
            planned.push(((calendar.clone(), day), CalendarDay { calendar, day, kind, name }));
        }
    }
    let names: Vec<String> = planned.iter().map(|((c, _), _)| c.clone()).collect::<HashSet<_>>().into_iter().collect();
    let stored: HashMap<(String, NaiveDate), CalendarDay> =
        store::calendar_days(c, &names).await?.into_iter().map(|d| ((d.calendar.clone(), d.day), d)).collect();
    let (counts, changed) = diff(planned, &stored);
    if write && errors.is_empty() && !changed.is_empty() {
        store::upsert_calendar_days(c, &changed, app.clock.now()).await?;
        audit_file(app, c, ctx, "calendar", table, &counts).await?;
    }
    Ok(counts)
}

pub(super) async fn rosters(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let people = People::load(c).await?;
    let mut seen = HashSet::new();
    let mut planned = Vec::new();
    for record in &table.rows {
        let employee = people.find(cols, record, errors);
        let day = date(cols, record, "date", errors);
        let raw = cols.get(record, "shift");
        let shift = EntityCode::parse(raw)
            .map(|s| if s.as_str().eq_ignore_ascii_case("rest") { "REST".to_owned() } else { s.to_string() })
            .map_err(|e| errors.cell(record, "shift", &e, raw))
            .ok();
        let raw_end = cols.optional(record, "day_ends_at").map(str::trim).filter(|v| !v.is_empty());
        let day_ends_at = match (raw_end, &shift) {
            (None, _) => Ok(None),
            (Some(raw), Some(s)) if s != "REST" => night_end(raw).map(Some).ok_or(raw),
            (Some(raw), _) => Err(raw),
        }
        .map_err(|raw| errors.push(Some(record.row), Some("day_ends_at"), "invalid_day_end", Some(raw)));
        let (Some((employee_id, _)), Some(day), Some(shift), Ok(day_ends_at)) = (employee, day, shift, day_ends_at)
        else {
            continue;
        };
        if first_time(&mut seen, (employee_id, day), record, "date", errors) {
            planned.push(((employee_id, day), RosterDay { employee_id, day, shift, day_ends_at }));
        }
    }
    let Some((from, to)) = date_span(planned.iter().map(|((_, d), _)| d)) else { return Ok(Counts::default()) };
    let stored: HashMap<(i64, NaiveDate), RosterDay> =
        store::roster_days(c, from, to, None).await?.into_iter().map(|r| ((r.employee_id, r.day), r)).collect();
    let (counts, changed) = diff(planned, &stored);
    if write && errors.is_empty() && !changed.is_empty() {
        store::upsert_roster_days(c, &changed, app.clock.now()).await?;
        reattribute(c, &people, &changed).await?;
        audit_file(app, c, ctx, "rosters", table, &counts).await?;
    }
    Ok(counts)
}

/// A night shift's end (`HH:MM`, after midnight and no later than noon), normalised.
fn night_end(raw: &str) -> Option<String> {
    let t = NaiveTime::parse_from_str(raw, "%H:%M").ok()?;
    (t > NaiveTime::MIN && t <= NaiveTime::from_hms_opt(12, 0, 0)?).then(|| t.format("%H:%M").to_string())
}

/// Night-shift cut-offs by (employee, rostered date) between two dates.
async fn night_cutoffs(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<HashMap<(i64, NaiveDate), NaiveTime>, AppError> {
    Ok(store::roster_days(c, from, to, None)
        .await?
        .into_iter()
        .filter(|r| r.shift != "REST")
        .filter_map(|r| {
            let end = NaiveTime::parse_from_str(r.day_ends_at.as_deref()?, "%H:%M").ok()?;
            Some(((r.employee_id, r.day), end))
        })
        .collect())
}

/// The attendance day of a punch: its local date, or the previous date when that date's rostered
/// shift is a night shift whose day had not ended yet (a 06:00 clock-out closes last night's shift).
fn punch_day<Z: chrono::TimeZone>(
    at: DateTime<Z>,
    tz: chrono_tz::Tz,
    employee_id: i64,
    cutoffs: &HashMap<(i64, NaiveDate), NaiveTime>,
) -> NaiveDate {
    let local = attendance_day(at.clone(), tz);
    let cutoff = local.pred_opt().and_then(|prev| cutoffs.get(&(employee_id, prev)).copied());
    attendance_day_with_cutoff(at, tz, cutoff)
}

/// After a roster change, moves the punches whose night-shift attribution changed and refreshes
/// the monthly summaries they touch.
async fn reattribute(c: &mut Conn<'_>, people: &People, changed: &[RosterDay]) -> Result<(), AppError> {
    let Some((from, to)) = date_span(changed.iter().map(|r| &r.day)) else { return Ok(()) };
    let to = to.succ_opt().unwrap_or(to);
    let ids: HashSet<i64> = changed.iter().map(|r| r.employee_id).collect();
    let zones: HashMap<i64, chrono_tz::Tz> = people.0.values().copied().collect();
    let cutoffs = night_cutoffs(c, from.pred_opt().unwrap_or(from), to).await?;
    let mut moves = Vec::new();
    let mut months = std::collections::BTreeSet::new();
    for p in store::punches_between(c, from, to).await?.into_iter().filter(|p| ids.contains(&p.employee_id)) {
        let tz = zones.get(&p.employee_id).copied().unwrap_or(chrono_tz::UTC);
        let day = punch_day(p.punched_at, tz, p.employee_id, &cutoffs);
        if day != p.attendance_day {
            months.insert((p.employee_id, summary::month_of(day)));
            months.insert((p.employee_id, summary::month_of(p.attendance_day)));
            moves.push((p, day));
        }
    }
    if !moves.is_empty() {
        store::set_attendance_days(c, &moves).await?;
        summary::refresh_punch_days(c, &months).await?;
    }
    Ok(())
}

pub(super) async fn punches(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let people = People::load(c).await?;
    let mut parsed = Vec::with_capacity(table.rows.len());
    let mut counts = Counts::default();
    // A million-row file is the normal case here, so the row loop avoids allocating: a known
    // employee number is looked up as written and only an unknown one goes through validation.
    let (no_at, at_at, source_at) = (table.column("employee_no"), table.column("punched_at"), table.column("source"));
    // Sources as written → index into their validated labels (a handful per file).
    let mut source_index: FxHashMap<&str, usize> = FxHashMap::default();
    let mut sources: Vec<String> = Vec::new();
    for record in &table.rows {
        let employee = match people.0.get(cell(record, no_at).trim()) {
            Some(found) => Some(*found),
            None => people.find(cols, record, errors),
        };
        let raw = cell(record, at_at);
        let at = DateTime::parse_from_rfc3339(raw.trim()).map_err(|_| {
            errors.push(Some(record.row), Some("punched_at"), "invalid_timestamp", Some(raw));
        });
        let raw_source = cell(record, source_at).trim();
        let source = match source_index.get(raw_source) {
            Some(i) => Some(*i),
            None => label(cols, record, "source", 64, errors).map(|s| {
                sources.push(s);
                source_index.insert(raw_source, sources.len() - 1);
                sources.len() - 1
            }),
        };
        let (Some((employee_id, tz)), Ok(at), Some(source)) = (employee, at, source) else { continue };
        parsed.push((employee_id, tz, at, source));
    }
    // Night shifts rostered in the file's span (and the day before) decide early-morning punches.
    let cutoffs = match date_span(parsed.iter().map(|(_, _, at, _)| at.date_naive())) {
        Some((from, to)) => night_cutoffs(c, from.checked_sub_days(chrono::Days::new(2)).unwrap_or(from), to).await?,
        None => HashMap::new(),
    };
    let mut planned: Vec<Punch> = parsed
        .into_iter()
        .map(|(employee_id, tz, at, source)| Punch {
            employee_id,
            punched_at: at.with_timezone(&Utc),
            source: sources[source].clone(),
            attendance_day: punch_day(at, tz, employee_id, &cutoffs),
        })
        .collect();
    // Device exports come in time order; per person they land next to each other in the indexes.
    // The same punch twice in one file (exports overlap) is not an error, just nothing new.
    planned.sort_unstable_by(|a, b| {
        (a.employee_id, a.punched_at, &a.source).cmp(&(b.employee_id, b.punched_at, &b.source))
    });
    let before = planned.len();
    planned.dedup_by(|a, b| (a.employee_id, a.punched_at, &a.source) == (b.employee_id, b.punched_at, &b.source));
    counts.unchanged += before - planned.len();
    if write && errors.is_empty() {
        let inserted = store::insert_punches(c, &planned, app.clock.now()).await?;
        counts.created = inserted;
        counts.unchanged += planned.len() - inserted;
        if inserted > 0 {
            audit_file(app, c, ctx, "punches", table, &counts).await?;
        }
    } else if let Some((from, to)) = date_span(planned.iter().map(|p| &p.attendance_day)) {
        let stored: FxHashSet<(i64, DateTime<Utc>, String)> = store::punches_between(c, from, to)
            .await?
            .into_iter()
            .map(|p| (p.employee_id, p.punched_at, p.source))
            .collect();
        for p in &planned {
            if stored.contains(&(p.employee_id, p.punched_at, p.source.clone())) {
                counts.unchanged += 1;
            } else {
                counts.created += 1;
            }
        }
    }
    Ok(counts)
}

pub(super) async fn leaves(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let people = People::load(c).await?;
    let mut seen = HashSet::new();
    let mut planned = Vec::new();
    for record in &table.rows {
        let employee = people.find(cols, record, errors);
        let start = date(cols, record, "start_date", errors);
        let end = date(cols, record, "end_date", errors);
        let kind = label(cols, record, "type", 32, errors);
        let raw = cols.get(record, "status");
        let status = raw.trim().to_ascii_lowercase();
        let status = matches!(status.as_str(), "approved" | "pending" | "rejected").then_some(status);
        if status.is_none() {
            errors.push(Some(record.row), Some("status"), "invalid_leave_status", Some(raw));
        }
        let (Some((employee_id, _)), Some(start_day), Some(end_day), Some(kind), Some(status)) =
            (employee, start, end, kind, status)
        else {
            continue;
        };
        if end_day < start_day {
            errors.push(Some(record.row), Some("end_date"), "end_before_start", Some(cols.get(record, "end_date")));
            continue;
        }
        let key = (employee_id, start_day, end_day, kind.clone());
        if first_time(&mut seen, key.clone(), record, "start_date", errors) {
            planned.push((key, LeaveRow { employee_id, start_day, end_day, kind, status }));
        }
    }
    let (from, to) = match (
        date_span(planned.iter().map(|(_, l)| &l.start_day)),
        date_span(planned.iter().map(|(_, l)| &l.end_day)),
    ) {
        (Some((from, _)), Some((_, to))) => (from, to),
        _ => return Ok(Counts::default()),
    };
    let stored: HashMap<(i64, NaiveDate, NaiveDate, String), LeaveRow> = store::leaves(c, from, to, None)
        .await?
        .into_iter()
        .map(|l| ((l.employee_id, l.start_day, l.end_day, l.kind.clone()), l))
        .collect();
    let (counts, changed) = diff(planned, &stored);
    if write && errors.is_empty() && !changed.is_empty() {
        store::upsert_leaves(c, &changed, app.clock.now()).await?;
        audit_file(app, c, ctx, "leaves", table, &counts).await?;
    }
    Ok(counts)
}

pub(super) async fn activity(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let people = People::load(c).await?;
    let mut seen = HashSet::new();
    let mut planned = Vec::new();
    for record in &table.rows {
        let employee = people.find(cols, record, errors);
        let day = date(cols, record, "date", errors);
        let system = label(cols, record, "system", 32, errors);
        let raw = cols.get(record, "events");
        let events = raw.trim().parse::<u32>().map(i64::from).map_err(|_| {
            errors.push(Some(record.row), Some("events"), "invalid_number", Some(raw));
        });
        let (Some((employee_id, _)), Some(day), Some(system), Ok(events)) = (employee, day, system, events) else {
            continue;
        };
        if first_time(&mut seen, (employee_id, day, system.clone()), record, "system", errors) {
            planned.push(((employee_id, day, system.clone()), ActivityRow { employee_id, day, system, events }));
        }
    }
    let Some((from, to)) = date_span(planned.iter().map(|(_, a)| &a.day)) else { return Ok(Counts::default()) };
    let stored: HashMap<(i64, NaiveDate, String), ActivityRow> = store::activity(c, from, to, None)
        .await?
        .into_iter()
        .map(|a| ((a.employee_id, a.day, a.system.clone()), a))
        .collect();
    let (counts, changed) = diff(planned, &stored);
    if write && errors.is_empty() && !changed.is_empty() {
        store::upsert_activity(c, &changed, app.clock.now()).await?;
        audit_file(app, c, ctx, "activity", table, &counts).await?;
    }
    Ok(counts)
}
