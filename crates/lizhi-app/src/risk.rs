//! Absence scans and backtests: load each employee's schedule, punches, leave and activity for a
//! window, and let the pure rules of `lizhi_core::absence` decide.
//!
//! The window reaches back far enough for the longest rule (cumulative windows, the activity
//! baseline). A streak that runs past the window's start is recomputed from the hire date, so
//! `first_absent_date` and the streak length are exact however long someone has been gone.

use crate::{App, AppError, Ctx};
use chrono::{Datelike, Days, NaiveDate, NaiveTime};
use lizhi_core::absence::{AbsenceInput, Assessment, DayEvents, Leave, LeaveStatus, PunchDays, assess};
use lizhi_core::auth::Permission;
use lizhi_core::backtest::backtest as core_backtest;
use lizhi_core::calendar::{DayOverride, DaySource, Roster, Schedule, Shift, WorkCalendar};
use lizhi_core::model::Employee;
use lizhi_core::policy::Policy;
use lizhi_core::values::PolicyProfile;
use lizhi_store::attendance::{self as store};
use lizhi_store::employees::ScanSubject;
use lizhi_store::summary::{self, Whose};
use lizhi_store::{Conn, employees, org};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// One non-green assessment of one employee on one date.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The evaluated date (through its end).
    pub date: NaiveDate,
    /// Employee id (links actions recorded on the finding).
    pub employee_id: i64,
    /// Employee number.
    pub employee_no: String,
    /// Name.
    pub name: String,
    /// Legal entity code.
    pub legal_entity: String,
    /// Org unit code.
    pub org_unit: String,
    /// What the rules decided, with the facts behind it.
    pub assessment: Assessment,
}

/// What a scan or backtest covers.
#[derive(Debug, Clone, Default)]
pub struct RiskQuery {
    /// Only this legal entity (code).
    pub legal_entity: Option<String>,
    /// Use this policy for everyone instead of each entity's profile (a trial run of a candidate).
    pub policy: Option<Policy>,
    /// Only this employee (one alert opened).
    pub employee_no: Option<String>,
}

/// Calendar days loaded before the first evaluated date: enough for every rule of the policy.
fn lookback_days(policy: &Policy) -> u64 {
    let cumulative = policy.cumulative.iter().map(|r| u64::from(r.window_days)).max().unwrap_or(0);
    // Activity windows count scheduled days; two calendar days per scheduled day covers long holidays.
    let activity = u64::from(policy.activity.recent_days + policy.activity.baseline_days) * 2;
    cumulative.max(activity).max(62) + 7
}

/// One employee's punch days and activity over the loaded window: a bitmap and a day array, filled
/// straight from the monthly summaries (no set or map per person).
#[derive(Debug)]
struct Window {
    /// First day, as days from the common era (cheap to subtract, unlike dates).
    start: i32,
    len: usize,
    punched: Vec<u64>,
    /// Empty until the person has any activity.
    events: Vec<u32>,
}

/// The window of someone with no punches and no activity.
static NOTHING: Window = Window { start: 0, len: 0, punched: Vec::new(), events: Vec::new() };

impl Window {
    fn new(start: NaiveDate, len: usize) -> Self {
        Window { start: start.num_days_from_ce(), len, punched: vec![0; len.div_ceil(64)], events: Vec::new() }
    }

    /// The index of a day given as days from the common era.
    fn at(&self, day: i32) -> Option<usize> {
        usize::try_from(day - self.start).ok().filter(|i| *i < self.len)
    }

    fn index(&self, date: NaiveDate) -> Option<usize> {
        self.at(date.num_days_from_ce())
    }

    fn mark(&mut self, day: i32) {
        if let Some(i) = self.at(day) {
            self.punched[i / 64] |= 1 << (i % 64);
        }
    }

    fn add(&mut self, day: i32, events: u32) {
        if let Some(i) = self.at(day) {
            if self.events.is_empty() {
                self.events = vec![0; self.len];
            }
            self.events[i] = self.events[i].saturating_add(events);
        }
    }
}

impl PunchDays for Window {
    fn punched(&self, date: NaiveDate) -> bool {
        self.index(date).is_some_and(|i| self.punched[i / 64] & (1 << (i % 64)) != 0)
    }
}

impl DayEvents for Window {
    fn events_on(&self, date: NaiveDate) -> u32 {
        self.index(date).and_then(|i| self.events.get(i).copied()).unwrap_or(0)
    }
}

/// Everything stored about a group of employees over a window, grouped by employee id.
#[derive(Default)]
struct Evidence {
    rosters: HashMap<i64, Roster>,
    days: HashMap<i64, Window>,
    leaves: HashMap<i64, Vec<Leave>>,
}

/// Punch days and activity from the monthly summaries: a few small rows per person.
async fn windows(
    c: &mut Conn<'_>,
    from: NaiveDate,
    to: NaiveDate,
    whose: Whose,
) -> Result<HashMap<i64, Window>, AppError> {
    let len = usize::try_from((to - from).num_days() + 1).unwrap_or(0);
    let mut out: HashMap<i64, Window> = HashMap::new();
    for m in summary::months(c, from, to, whose).await? {
        let window = out.entry(m.employee_id).or_insert_with(|| Window::new(from, len));
        let first = m.month.num_days_from_ce();
        for day0 in m.punched_days0() {
            window.mark(first + day0 as i32);
        }
        for (day0, events) in m.active_days0() {
            window.add(first + day0 as i32, events);
        }
    }
    Ok(out)
}

/// Scans of more people than this read their summaries in two halves on two connections, which
/// SQLite serves on two threads.
const PARALLEL_FROM: usize = 20_000;

impl Evidence {
    /// Loads a group's evidence; `halves` splits the summary read of a large group in two.
    async fn load_split(
        app: &App,
        from: NaiveDate,
        to: NaiveDate,
        whose: Whose,
        halves: Option<[Whose; 2]>,
    ) -> Result<Evidence, AppError> {
        let Some([a, b]) = halves else {
            let mut conn = app.db.acquire().await?;
            return Evidence::load(&mut conn.conn(), from, to, whose).await;
        };
        let half = |part: Whose| async move {
            let mut conn = app.db.acquire().await?;
            windows(&mut conn.conn(), from, to, part).await
        };
        let (first, second) = tokio::try_join!(half(a), half(b))?;
        let mut conn = app.db.acquire().await?;
        let mut e = Evidence::rest(&mut conn.conn(), from, to, None).await?;
        e.days = first;
        e.days.extend(second);
        Ok(e)
    }

    async fn load(c: &mut Conn<'_>, from: NaiveDate, to: NaiveDate, whose: Whose) -> Result<Evidence, AppError> {
        let employee = match whose {
            Whose::Employee(id) => Some(id),
            _ => None,
        };
        let mut e = Evidence::rest(c, from, to, employee).await?;
        e.days = windows(c, from, to, whose).await?;
        Ok(e)
    }

    /// Rosters and leave (small tables), of one employee or all.
    async fn rest(
        c: &mut Conn<'_>,
        from: NaiveDate,
        to: NaiveDate,
        employee: Option<i64>,
    ) -> Result<Evidence, AppError> {
        let mut e = Evidence::default();
        for r in store::roster_days(c, from, to, employee).await? {
            let day_start = r.day_ends_at.as_deref().and_then(|t| NaiveTime::parse_from_str(t, "%H:%M").ok());
            if let Ok(shift) = Shift::parse(&r.shift, day_start) {
                e.rosters.entry(r.employee_id).or_default().set(r.day, shift);
            }
        }
        for l in store::leaves(c, from, to, employee).await? {
            let status = LeaveStatus::parse(&l.status).unwrap_or(LeaveStatus::Pending);
            if let Ok(leave) = Leave::new(l.start_day, l.end_day, l.kind, status) {
                e.leaves.entry(l.employee_id).or_default().push(leave);
            }
        }
        Ok(e)
    }
}

/// The work calendars by name (Mon–Fri plus stored overrides).
pub(crate) async fn calendars(c: &mut Conn<'_>, names: Vec<String>) -> Result<HashMap<String, WorkCalendar>, AppError> {
    let mut out: HashMap<String, WorkCalendar> =
        names.iter().map(|n| (n.clone(), WorkCalendar::new(n.clone()))).collect();
    for d in store::calendar_days(c, &names).await? {
        if let (Some(cal), Ok(o)) = (out.get_mut(&d.calendar), DayOverride::parse(&d.kind, &d.name)) {
            cal.set_override(d.day, o);
        }
    }
    Ok(out)
}

/// Evaluates every employee in reach on every date from `from` to `to` and returns the non-green
/// results, ordered by date then employee number.
pub async fn backtest(
    app: &App,
    ctx: &Ctx,
    from: NaiveDate,
    to: NaiveDate,
    query: &RiskQuery,
) -> Result<Vec<Finding>, AppError> {
    let scope = ctx.scope(Permission::ViewRisk)?;
    if to < from {
        return Err(AppError::invalid("to", "end_before_start"));
    }
    if let Some(p) = &query.policy {
        p.validate().map_err(|e| AppError::invalid("policy", e.code()))?;
    }
    let started = std::time::Instant::now();
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let entities = org::list_entities(&mut c).await?;
    let entity = match &query.legal_entity {
        Some(code) => Some(
            entities
                .iter()
                .find(|e| &e.code == code)
                .ok_or(AppError::invalid("legal_entity", "unknown_legal_entity"))?,
        ),
        None => None,
    };
    let policies: HashMap<i64, Policy> = entities
        .iter()
        .map(|e| {
            let policy = query.policy.clone().unwrap_or_else(|| {
                Policy::defaults(PolicyProfile::parse(&e.policy).unwrap_or(PolicyProfile::CnDefault))
            });
            (e.id, policy)
        })
        .collect();
    let codes: HashMap<i64, &str> = entities.iter().map(|e| (e.id, e.code.as_str())).collect();
    let paths = crate::people::scope_paths(&mut c, &scope).await?;
    let people: Vec<ScanSubject> = employees::scan_subjects(&mut c, entity.map(|e| e.id), query.employee_no.as_deref())
        .await?
        .into_iter()
        .filter(|e| paths.as_ref().is_none_or(|ps| ps.iter().any(|p| e.org_path.starts_with(p.as_str()))))
        .collect();
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let lookback = policies.values().map(lookback_days).max().unwrap_or(69);
    let window_start = from.checked_sub_days(Days::new(lookback)).unwrap_or(from);
    let mut calendar_names: Vec<String> = entities.iter().map(|e| e.code.clone()).collect();
    calendar_names.extend(people.iter().filter_map(|e| e.work_calendar.clone()));
    calendar_names.sort();
    calendar_names.dedup();
    let calendars = calendars(&mut c, calendar_names).await?;
    drop(conn);
    let whose = match (&people[..], entity) {
        ([one], _) if query.employee_no.is_some() => Whose::Employee(one.id),
        (_, Some(e)) => Whose::Entity(e.id),
        _ => Whose::All,
    };
    let halves = (people.len() >= PARALLEL_FROM).then(|| {
        let mut ids: Vec<i64> = people.iter().map(|p| p.id).collect();
        ids.sort_unstable();
        let mid = ids[ids.len() / 2];
        let entity = entity.map(|e| e.id);
        [Whose::Ids { entity, first: i64::MIN, last: mid - 1 }, Whose::Ids { entity, first: mid, last: i64::MAX }]
    });
    let loaded_people = started.elapsed();
    let evidence = Evidence::load_split(app, window_start, to, whose, halves).await?;
    let loaded_evidence = started.elapsed();

    let mut findings = Vec::new();
    for e in &people {
        let Some(policy) = policies.get(&e.legal_entity_id) else { continue };
        let entity_code = codes.get(&e.legal_entity_id).copied().unwrap_or_default();
        let calendar_name = e.work_calendar.as_deref().unwrap_or(entity_code);
        let Some(calendar) = calendars.get(calendar_name) else { continue };
        let mut results = evaluate(e.id, e.hire_date, calendar, &evidence, policy, from, to);
        // A streak reaching back past the loaded window: recompute this person from the hire date.
        if results.iter().any(|(_, a)| a.first_absent_date.is_some_and(|d| d <= window_start)) {
            let mut conn = app.db.acquire().await?;
            let full = Evidence::load(&mut conn.conn(), e.hire_date, to, Whose::Employee(e.id)).await?;
            results = evaluate(e.id, e.hire_date, calendar, &full, policy, from, to);
        }
        findings.extend(results.into_iter().map(|(date, assessment)| Finding {
            date,
            employee_id: e.id,
            employee_no: e.employee_no.clone(),
            name: e.name.clone(),
            legal_entity: entity_code.to_owned(),
            org_unit: e.org_unit_code.clone(),
            assessment,
        }));
    }
    findings.sort_by(|a, b| (a.date, &a.employee_no).cmp(&(b.date, &b.employee_no)));
    tracing::debug!(
        employees = people.len(),
        days = (to - from).num_days() + 1,
        findings = findings.len(),
        people_ms = loaded_people.as_millis() as u64,
        evidence_ms = (loaded_evidence - loaded_people).as_millis() as u64,
        evaluate_ms = (started.elapsed() - loaded_evidence).as_millis() as u64,
        "risk evaluation"
    );
    Ok(findings)
}

/// The non-green results of one employee over the dates.
fn evaluate(
    id: i64,
    hire_date: NaiveDate,
    calendar: &WorkCalendar,
    evidence: &Evidence,
    policy: &Policy,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDate, Assessment)> {
    let source = match evidence.rosters.get(&id) {
        Some(roster) => DaySource::Roster(roster),
        None => DaySource::Calendar(calendar),
    };
    let Ok(schedule) = Schedule::new(source, hire_date, None) else { return Vec::new() };
    let days = evidence.days.get(&id).unwrap_or(&NOTHING);
    let input = AbsenceInput {
        schedule,
        punch_days: days,
        leaves: evidence.leaves.get(&id).map(Vec::as_slice).unwrap_or(&[]),
        activity: days,
    };
    if from == to {
        let a = assess(&input, policy, from);
        if a.level == lizhi_core::absence::Level::Green { Vec::new() } else { vec![(from, a)] }
    } else {
        core_backtest(&input, policy, from, to)
    }
}

/// The non-green employees at the end of `as_of`: the daily scan.
pub async fn scan(app: &App, ctx: &Ctx, as_of: NaiveDate, query: &RiskQuery) -> Result<Vec<Finding>, AppError> {
    backtest(app, ctx, as_of, as_of, query).await
}

/// The days an employee is scheduled between two dates (their roster if they have one in the
/// period, else their work calendar), for timelines.
pub async fn scheduled_days(
    app: &App,
    employee: &Employee,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<BTreeSet<NaiveDate>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let name = employee.work_calendar.clone().unwrap_or_else(|| employee.legal_entity_code.clone());
    let calendars = calendars(&mut c, vec![name.clone()]).await?;
    // Only the roster decides; punches and activity are not needed here.
    let evidence = Evidence::rest(&mut c, from, to, Some(employee.id)).await?;
    let fallback = WorkCalendar::new(name.clone());
    let calendar = calendars.get(&name).unwrap_or(&fallback);
    let source = match evidence.rosters.get(&employee.id) {
        Some(roster) => DaySource::Roster(roster),
        None => DaySource::Calendar(calendar),
    };
    let schedule =
        Schedule::new(source, employee.hire_date, None).map_err(|_| AppError::invalid("hire_date", "invalid_date"))?;
    Ok(schedule.scheduled_days(from, to).collect())
}
