//! The demo company's attendance: work calendars, a night-shift roster, punches, leave, activity and a
//! handful of absconders, generated as import files so they take the path real data takes.
//!
//! Everything is a pure function of the employees and "today", so tests know exactly who must be red.
//! The noise is chosen so the rules have nothing to find except what was planted: a random absence is
//! a single scheduled day at least five scheduled days from the next one (a yellow, never a red, and
//! never enough to halve anyone's activity), and pending or rejected leave never excuses anyone who
//! stayed away for long.

use crate::demo::{DemoEmployee, Lcg};
use crate::demo_calendar::{Calendars, calendars, days_between};
use crate::import::ImportKind;
use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Utc};
use chrono_tz::Tz;
use lizhi_core::absence::Level;
use lizhi_core::calendar::DayOverride;
use lizhi_docs::write_csv;

/// Days of attendance generated, ending with "today": more than the activity rule's 45 scheduled days and
/// the risk board's 60-day timeline need.
pub const ATTENDANCE_DAYS: u32 = 120;

/// The team that works rostered day and night shifts (holidays do not apply to them).
const ROSTERED_UNIT: &str = "CN-OPS-WH";
/// Day, day, night, night, rest, rest; each person starts at their own point of the cycle.
const SHIFT_CYCLE: [&str; 6] = ["D", "D", "N", "N", "REST", "REST"];
/// Rows per generated file at most: well under the upload limit, and one transaction each.
const ROWS_PER_FILE: usize = 100_000;
/// Dates per punches and activity file (a 2,000-person demo gives four files of each).
const BLOCK_DAYS: usize = 30;
/// Fewest scheduled days between two random absences of one person, so they stay single yellow days and
/// never pull the recent activity window down to half.
const ABSENCE_GAP: usize = 5;

/// The employees who stop coming in a demo of at least 50 employees (they all exist from that size on;
/// smaller demos get the ones that exist). In this order: a night-shift warehouse worker who misses three
/// rostered shifts (red), a CN office worker whose third missing day is a make-up workday when one is
/// near (red), a UK engineer who does not come back from leave (red), a UK salesperson missing two days
/// (yellow), and one CN and one UK person whose activity fades before they stop (yellow, activity drop).
pub const DEMO_ABSCONDERS: &[&str] = &["C00045", "C00023", "U00026", "U00029", "C00034", "U00036"];

/// How each of [`DEMO_ABSCONDERS`] leaves, position by position.
const ABSCONDER_PATTERNS: [AbsconderPattern; 6] = [
    AbsconderPattern::Stops { days: 3 },
    AbsconderPattern::StopsOverMakeUpDay,
    AbsconderPattern::StopsAfterLeave { days: 4 },
    AbsconderPattern::Stops { days: 2 },
    AbsconderPattern::FadesThenStops { days: 1 },
    AbsconderPattern::FadesThenStops { days: 2 },
];

/// Activity share on the last eight scheduled days of someone who is drifting away (oldest first).
const FADE: [f64; 8] = [0.75, 0.6, 0.45, 0.35, 0.25, 0.2, 0.15, 0.1];

/// How a demo absconder leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AbsconderPattern {
    /// Misses the last `days` scheduled days up to and including today.
    Stops {
        /// Consecutive unexplained scheduled days at today.
        days: u32,
    },
    /// Red, with the third missing day on a make-up workday (调休) when one falls in the last eight
    /// scheduled days before today; otherwise simply misses the last four scheduled days.
    StopsOverMakeUpDay,
    /// Takes three days of approved annual leave and does not come back after it.
    StopsAfterLeave {
        /// Unexplained scheduled days after the leave, through today.
        days: u32,
    },
    /// Activity falls to about a fifth of the personal baseline over eight scheduled days while still
    /// punching, then misses the last `days` scheduled days: the early warning before the absence rule.
    FadesThenStops {
        /// Consecutive unexplained scheduled days at today.
        days: u32,
    },
}

/// A planted absconder and what the rules must say about them at the end of "today".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Absconder {
    /// Employee number.
    pub employee_no: String,
    /// How they leave.
    pub pattern: AbsconderPattern,
    /// First unexplained scheduled day.
    pub first_absent_date: NaiveDate,
    /// Consecutive unexplained scheduled days at today.
    pub absent_days: u32,
    /// The level the absence rule gives at today (red from the 3rd day, yellow before).
    pub expected_level: Level,
    /// Whether the activity-drop rule is meant to fire (the fading pattern).
    pub declining_activity: bool,
    /// The make-up workday that is their third missing day, when the pattern found one.
    pub make_up_day: Option<NaiveDate>,
}

/// What someone is expected to do on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Duty {
    /// Calendar staff: a weekday or make-up workday.
    Office,
    /// Rostered day shift.
    Day,
    /// Rostered night shift (clock-out after midnight, on the next date).
    Night,
}

/// What happened on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// At work (if scheduled), or simply a day off.
    Normal,
    /// Covered by approved leave.
    Leave,
    /// Scheduled, no punch, no approved leave.
    Absent,
}

/// One person's days over the window.
struct Plan<'a> {
    person: &'a DemoEmployee,
    index: usize,
    rostered: bool,
    /// Expected duty per window day (`None`: not scheduled).
    duty: Vec<Option<Duty>>,
    state: Vec<State>,
    /// Activity share of the personal baseline per window day (1.0 = usual).
    activity: Vec<f64>,
    leaves: Vec<Vec<String>>,
}

impl Plan<'_> {
    /// Window indexes of scheduled days, ascending.
    fn scheduled(&self) -> Vec<usize> {
        (0..self.duty.len()).filter(|&i| self.duty[i].is_some()).collect()
    }

    fn leave(&mut self, from: NaiveDate, to: NaiveDate, kind: &str, status: &str) {
        self.leaves.push(vec![
            self.person.employee_no.clone(),
            from.to_string(),
            to.to_string(),
            kind.to_owned(),
            status.to_owned(),
        ]);
    }
}

/// Where an absconder's absence starts and what it means at today.
struct Departure {
    pattern: AbsconderPattern,
    /// Position in the scheduled days of the first missing day.
    first: usize,
    /// Positions in the scheduled days of a leave right before it.
    leave: Option<(usize, usize)>,
    make_up_day: Option<NaiveDate>,
}

fn window(today: NaiveDate) -> Vec<NaiveDate> {
    let start = today.checked_sub_days(Days::new(u64::from(ATTENDANCE_DAYS - 1))).unwrap_or(today);
    days_between(start, today).collect()
}

fn base_plan<'a>(person: &'a DemoEmployee, index: usize, days: &[NaiveDate], cals: &Calendars) -> Plan<'a> {
    let rostered = person.org_unit == ROSTERED_UNIT;
    let duty = days
        .iter()
        .map(|&d| {
            if d < person.hire_date {
                None
            } else if rostered {
                match SHIFT_CYCLE[cycle_position(d, index)] {
                    "D" => Some(Duty::Day),
                    "N" => Some(Duty::Night),
                    _ => None,
                }
            } else {
                let cal = if person.legal_entity == "UK01" { &cals.uk } else { &cals.cn };
                cal.is_workday(d).then_some(Duty::Office)
            }
        })
        .collect();
    Plan {
        person,
        index,
        rostered,
        duty,
        state: vec![State::Normal; days.len()],
        activity: vec![1.0; days.len()],
        leaves: Vec::new(),
    }
}

fn cycle_position(d: NaiveDate, index: usize) -> usize {
    (usize::try_from(d.num_days_from_ce()).unwrap_or(0) + index) % SHIFT_CYCLE.len()
}

/// Where an absconder's absence starts, or `None` when the window is too short for the pattern.
fn departure(plan: &Plan<'_>, pattern: AbsconderPattern, days: &[NaiveDate], cals: &Calendars) -> Option<Departure> {
    let sched = plan.scheduled();
    let n = sched.len();
    let last = |k: u32| n.checked_sub(usize::try_from(k).ok()?);
    let (first, leave, make_up_day) = match pattern {
        AbsconderPattern::Stops { days } | AbsconderPattern::FadesThenStops { days } => (last(days)?, None, None),
        AbsconderPattern::StopsAfterLeave { days } => {
            let first = last(days)?;
            (first, Some((first.checked_sub(3)?, first - 1)), None)
        }
        AbsconderPattern::StopsOverMakeUpDay => {
            let cal = if plan.person.legal_entity == "UK01" { &cals.uk } else { &cals.cn };
            let make_up = (n.saturating_sub(8)..n).filter(|&p| p >= 2).rev().find(|&p| {
                !plan.rostered && matches!(cal.overrides.get(&days[sched[p]]), Some(DayOverride::Workday { .. }))
            });
            match make_up {
                Some(p) => (p - 2, None, Some(days[sched[p]])),
                None => (last(4)?, None, None),
            }
        }
    };
    // The fading pattern needs its eight days and a 40-day baseline before them.
    let needed = if matches!(pattern, AbsconderPattern::FadesThenStops { .. }) { 50 } else { 4 };
    (first >= needed).then_some(Departure { pattern, first, leave, make_up_day })
}

/// The planted absconders present among `employees`, with what the rules must say about them at `today`.
pub fn demo_absconders(employees: &[DemoEmployee], today: NaiveDate) -> Vec<Absconder> {
    let days = window(today);
    let cals = calendars(days.first().copied().unwrap_or(today), today);
    plans(employees, today, &days, &cals).1
}

/// The leave story of someone who is not an absconder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LeaveStory {
    /// No leave request.
    None,
    /// Approved leave of 1–5 scheduled days somewhere in the window.
    Approved,
    /// Approved leave running through today (stays green).
    OnLeaveToday,
    /// A request for the coming days, not yet decided.
    PendingSoon,
    /// A pending request for a past day they stayed away (a yellow on that day, not an excuse).
    PendingPast,
    /// A refused request; they came to work anyway.
    Rejected,
}

/// Stories every demo of some size shows once (first eligible people), then ~3% approved, ~0.8% pending
/// and ~0.5% rejected at random.
const FIRST_STORIES: [LeaveStory; 4] =
    [LeaveStory::OnLeaveToday, LeaveStory::PendingSoon, LeaveStory::PendingPast, LeaveStory::Rejected];

/// Plans everyone's days; returns the plans and the absconders among them.
fn plans<'a>(
    employees: &'a [DemoEmployee],
    today: NaiveDate,
    days: &[NaiveDate],
    cals: &Calendars,
) -> (Vec<Plan<'a>>, Vec<Absconder>) {
    let mut plans = Vec::with_capacity(employees.len());
    let mut absconders = Vec::new();
    let mut first_stories = FIRST_STORIES.iter().peekable();
    for (index, person) in employees.iter().enumerate() {
        let mut plan = base_plan(person, index, days, cals);
        let mut rng = Lcg(0x4C49_5A48_4931_3230 ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let pattern = DEMO_ABSCONDERS
            .iter()
            .position(|no| *no == person.employee_no)
            .and_then(|i| ABSCONDER_PATTERNS.get(i).copied());
        let departure = pattern.and_then(|p| departure(&plan, p, days, cals));
        if let Some(dep) = departure {
            absconders.push(plant_absconder(&mut plan, &dep, days));
        } else if pattern.is_none() {
            let roll = rng.next(1000);
            let eligible = index >= 22 && !plan.rostered;
            let story = match first_stories.next_if(|_| eligible) {
                Some(story) => *story,
                None if roll < 30 => LeaveStory::Approved,
                None if roll < 34 => LeaveStory::PendingSoon,
                None if roll < 38 => LeaveStory::PendingPast,
                None if roll < 43 => LeaveStory::Rejected,
                None => LeaveStory::None,
            };
            everyday_life(&mut plan, &mut rng, days, today, story);
        }
        plans.push(plan);
    }
    (plans, absconders)
}

fn plant_absconder(plan: &mut Plan<'_>, dep: &Departure, days: &[NaiveDate]) -> Absconder {
    let sched = plan.scheduled();
    let n = sched.len();
    for &i in &sched[dep.first..] {
        plan.state[i] = State::Absent;
        plan.activity[i] = 0.0;
    }
    match dep.pattern {
        AbsconderPattern::FadesThenStops { .. } => {
            for (k, &i) in sched[n - FADE.len()..].iter().enumerate() {
                plan.activity[i] = FADE[k];
            }
        }
        // Still reads messages now and then, so the activity rule stays quiet and the absence rule speaks.
        AbsconderPattern::Stops { days } if days < 3 => {
            for &i in &sched[dep.first..] {
                plan.activity[i] = 0.35;
            }
        }
        _ => {}
    }
    if let Some((from, to)) = dep.leave {
        for i in sched[from]..=sched[to] {
            plan.state[i] = State::Leave;
        }
        plan.leave(days[sched[from]], days[sched[to]], "annual", "approved");
    }
    let absent_days = u32::try_from(n - dep.first).unwrap_or(u32::MAX);
    Absconder {
        employee_no: plan.person.employee_no.clone(),
        pattern: dep.pattern,
        first_absent_date: days[sched[dep.first]],
        absent_days,
        expected_level: if absent_days >= 3 { Level::Red } else { Level::Yellow },
        declining_activity: matches!(dep.pattern, AbsconderPattern::FadesThenStops { .. }),
        make_up_day: dep.make_up_day,
    }
}

/// Leave in every state and the odd unexplained single day, for everyone who is not an absconder.
fn everyday_life(plan: &mut Plan<'_>, rng: &mut Lcg, days: &[NaiveDate], today: NaiveDate, story: LeaveStory) {
    let sched = plan.scheduled();
    let n = sched.len();
    if n == 0 {
        return;
    }
    if matches!(story, LeaveStory::Approved | LeaveStory::OnLeaveToday) {
        let (start, end_date) = if story == LeaveStory::OnLeaveToday {
            (n - 1, today + Days::new(2))
        } else {
            let start = rng.next(n);
            let end = start + rng.next(5);
            // Leave running past today ends a couple of days per remaining scheduled day later.
            let end_date = match sched.get(end) {
                Some(&i) => days[i],
                None => today + Days::new(2 * (end + 1 - n) as u64),
            };
            (start, end_date)
        };
        for (state, day) in plan.state.iter_mut().zip(days).skip(sched[start]) {
            if *day <= end_date {
                *state = State::Leave;
            }
        }
        let kind = if story == LeaveStory::OnLeaveToday || rng.next(5) > 0 { "annual" } else { "sick" };
        plan.leave(days[sched[start]], end_date, kind, "approved");
    }
    // Random single absences: ~1.5% of scheduled days, never within ABSENCE_GAP of another.
    let mut last_absent: Option<usize> = None;
    for (p, &i) in sched.iter().enumerate() {
        let clear = last_absent.is_none_or(|q| p - q >= ABSENCE_GAP);
        if plan.state[i] == State::Normal && clear && rng.next(1000) < 15 {
            plan.state[i] = State::Absent;
            plan.activity[i] = 0.3;
            last_absent = Some(p);
        }
    }
    match story {
        LeaveStory::PendingSoon => {
            let from = today + Days::new(3 + rng.next(10) as u64);
            plan.leave(from, from + Days::new(rng.next(3) as u64), "annual", "pending");
        }
        LeaveStory::PendingPast => {
            let p = rng.next(n);
            let i = sched[p];
            let lonely = (p.saturating_sub(ABSENCE_GAP - 1)..(p + ABSENCE_GAP).min(n))
                .all(|q| q == p || plan.state[sched[q]] != State::Absent);
            if lonely {
                plan.state[i] = State::Absent;
                plan.activity[i] = 0.3;
            }
            plan.leave(days[i], days[i], "personal", "pending");
        }
        LeaveStory::Rejected => {
            let i = sched[rng.next(n)];
            plan.leave(days[i], days[i] + Days::new(rng.next(2) as u64), "annual", "rejected");
        }
        LeaveStory::None | LeaveStory::Approved | LeaveStory::OnLeaveToday => {}
    }
}

/// Writes rows straight into CSV import files of at most [`ROWS_PER_FILE`] rows (hundreds of thousands
/// of rows: no per-cell allocation). Cells are quoted and guarded exactly as `lizhi_docs::write_csv` does.
struct Files {
    kind: ImportKind,
    header: Vec<u8>,
    buf: Vec<u8>,
    rows: usize,
    out: Vec<(ImportKind, Vec<u8>)>,
}

impl Files {
    fn new(kind: ImportKind) -> Files {
        let header = write_csv(&kind.all_columns(), &[]);
        Files { kind, buf: header.clone(), header, rows: 0, out: Vec::new() }
    }

    fn push(&mut self, cells: &[&str]) {
        for (i, cell) in cells.iter().enumerate() {
            if i > 0 {
                self.buf.push(b',');
            }
            let guard = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
            let quote = cell.bytes().any(|b| matches!(b, b'"' | b',' | b';' | b'\t' | b'\r' | b'\n'));
            if quote {
                self.buf.push(b'"');
            }
            if guard {
                self.buf.push(b'\'');
            }
            if quote {
                self.buf.extend_from_slice(cell.replace('"', "\"\"").as_bytes());
                self.buf.push(b'"');
            } else {
                self.buf.extend_from_slice(cell.as_bytes());
            }
        }
        self.buf.extend_from_slice(b"\r\n");
        self.rows += 1;
        if self.rows >= ROWS_PER_FILE {
            self.flush();
        }
    }

    /// Ends the current file (if it has rows).
    fn flush(&mut self) {
        if self.rows > 0 {
            let full = std::mem::replace(&mut self.buf, self.header.clone());
            self.out.push((self.kind, full));
            self.rows = 0;
        }
    }

    fn finish(mut self) -> Vec<(ImportKind, Vec<u8>)> {
        self.flush();
        self.out
    }
}

/// How a person's punches are written: their zone, device name and whether in UTC (`Z`).
struct PunchStyle {
    tz: Tz,
    source: &'static str,
    utc: bool,
}

fn punch_style(plan: &Plan<'_>) -> PunchStyle {
    let uk = plan.person.legal_entity == "UK01";
    PunchStyle {
        tz: if uk { chrono_tz::Europe::London } else { chrono_tz::Asia::Shanghai },
        source: if uk {
            "LDN-BADGE-01"
        } else if plan.rostered {
            "WH-GATE-02"
        } else {
            "SH-GATE-01"
        },
        // Half the UK badges and half the night-shift gate export UTC, so UTC and local dates differ.
        utc: (uk || plan.rostered) && plan.index.is_multiple_of(2),
    }
}

/// A local wall-clock time on `date` plus `minutes` (may run past midnight), written as RFC 3339.
fn stamp(style: &PunchStyle, date: NaiveDate, minutes: u32) -> Option<String> {
    let local = date.and_time(NaiveTime::MIN) + chrono::Duration::minutes(i64::from(minutes));
    let at: DateTime<Tz> = style.tz.from_local_datetime(&local).earliest()?;
    Some(if style.utc {
        at.with_timezone(&Utc).to_rfc3339_opts(SecondsFormat::Secs, true)
    } else {
        at.fixed_offset().to_rfc3339_opts(SecondsFormat::Secs, false)
    })
}

/// A person's habits: how punches are written, the activity baseline and which systems they use.
/// Half the CN office staff clock in only (their attendance app exports the first punch of the day) and
/// UK badges record entry only, which keeps a 2,000-person demo near 250,000 punches.
struct Habits {
    style: PunchStyle,
    rng: Lcg,
    /// Usual events per scheduled day, all systems together.
    baseline: f64,
    clocks_out: bool,
    oa: bool,
    vpn: bool,
}

fn habits(plan: &Plan<'_>) -> Habits {
    let mut rng = Lcg(0x5EED_0000 ^ (plan.index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
    let baseline = 10.0 + rng.next(51) as f64;
    let uk = plan.person.legal_entity == "UK01";
    let clocks_out = plan.rostered || !uk && rng.next(2) == 0;
    let oa = !plan.rostered && rng.next(2) == 0;
    let vpn = !plan.rostered && rng.next(5) == 0;
    Habits { style: punch_style(plan), rng, baseline, clocks_out, oa, vpn }
}

/// The demo's attendance as import files, in import order: calendar, rosters, punches, leaves, activity
/// ([`ATTENDANCE_DAYS`] days ending with `today`; large kinds are split into several files). Pure and
/// deterministic, so tests can reason about the result without a database.
pub fn attendance_files(employees: &[DemoEmployee], today: NaiveDate) -> Vec<(ImportKind, Vec<u8>)> {
    let days = window(today);
    let cals = calendars(days.first().copied().unwrap_or(today), today);
    let (plans, _) = plans(employees, today, &days, &cals);

    let dates: Vec<String> = days.iter().map(NaiveDate::to_string).collect();
    let mut calendar = Files::new(ImportKind::Calendar);
    for row in &cals.rows {
        calendar.push(&row.iter().map(String::as_str).collect::<Vec<_>>());
    }
    let mut rosters = Files::new(ImportKind::Rosters);
    for plan in plans.iter().filter(|p| p.rostered) {
        for (i, &d) in days.iter().enumerate().filter(|(_, d)| **d >= plan.person.hire_date) {
            let shift = SHIFT_CYCLE[cycle_position(d, plan.index)];
            // A night's attendance day runs until 08:00 the next morning (its clock-out belongs to it).
            let day_ends_at = if shift == "N" { "08:00" } else { "" };
            rosters.push(&[&plan.person.employee_no, &dates[i], shift, day_ends_at]);
        }
    }
    let mut leaves = Files::new(ImportKind::Leaves);
    for plan in &plans {
        for row in &plan.leaves {
            leaves.push(&row.iter().map(String::as_str).collect::<Vec<_>>());
        }
    }

    // Block by block of dates, person by person within a block: each file covers a narrow range of dates
    // (the activity import compares with what is stored for those dates) and holds each person's rows
    // together (inserts stay local in the key indexes, several times faster on SQLite).
    let mut punches = Files::new(ImportKind::Punches);
    let mut activity = Files::new(ImportKind::Activity);
    let mut people: Vec<Habits> = plans.iter().map(habits).collect();
    for block in (0..days.len()).step_by(BLOCK_DAYS) {
        for (plan, h) in plans.iter().zip(people.iter_mut()) {
            for (i, &date) in days.iter().enumerate().skip(block).take(BLOCK_DAYS) {
                if date < plan.person.hire_date {
                    continue;
                }
                let day = &dates[i];
                let no = plan.person.employee_no.as_str();
                let style = &h.style;
                let mut punch = |minutes: u32| {
                    if let Some(at) = stamp(style, date, minutes) {
                        punches.push(&[no, &at, style.source]);
                    }
                };
                let rng = &mut h.rng;
                let duty = plan.duty[i];
                let at_work = duty.is_some() && plan.state[i] == State::Normal;
                match duty.filter(|_| at_work) {
                    Some(Duty::Office) => {
                        punch(8 * 60 + 40 + rng.next(41) as u32);
                        // Today is not over yet; a few forget to clock out.
                        if h.clocks_out && date < today && rng.next(100) >= 5 {
                            punch(17 * 60 + 50 + rng.next(101) as u32);
                        }
                    }
                    Some(Duty::Day) => {
                        punch(7 * 60 + 40 + rng.next(19) as u32);
                        if date < today {
                            punch(20 * 60 + 2 + rng.next(24) as u32);
                        }
                    }
                    Some(Duty::Night) => {
                        punch(21 * 60 + 50 + rng.next(10) as u32);
                        // Clock-out after midnight lands on the next date, unless that is a day they stayed
                        // away (someone who walks out does not clock out of their last shift).
                        let next_absent = plan.state.get(i + 1).is_none_or(|s| *s == State::Absent);
                        if date < today && !next_absent {
                            punch(24 * 60 + 6 * 60 + 2 + rng.next(18) as u32);
                        }
                    }
                    None => {}
                }
                let share = match (duty, plan.state[i]) {
                    (_, State::Leave) => 0.02,
                    (Some(_), _) => plan.activity[i],
                    // Weekends and rest days: now and then a few messages.
                    (None, _) => {
                        if rng.next(10) < 2 {
                            0.06
                        } else {
                            0.0
                        }
                    }
                };
                let noise = 0.85 + rng.next(31) as f64 / 100.0;
                let total = (h.baseline * share * noise).round();
                let vpn = if h.vpn && duty.is_some() { (total * 0.2).round() } else { 0.0 };
                let oa = if h.oa && duty.is_some() { ((total - vpn) * 0.45).round() } else { 0.0 };
                let wecom = total - vpn - oa;
                for (system, events) in [("OA", oa), ("VPN", vpn), ("WeCom", wecom)] {
                    if events >= 1.0 {
                        activity.push(&[no, day, system, &format!("{events:.0}")]);
                    }
                }
            }
        }
        punches.flush();
        activity.flush();
    }

    let mut files = calendar.finish();
    files.extend(rosters.finish());
    files.extend(punches.finish());
    files.extend(leaves.finish());
    files.extend(activity.finish());
    files
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::demo_employees;
    use crate::demo_calendar::{cn_overrides, easter, uk_overrides};

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    #[test]
    fn make_up_days_are_weekends_and_holidays_include_weekdays() {
        for year in 2025..=2027 {
            let overrides = cn_overrides(year);
            let weekend = |d: &NaiveDate| matches!(d.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun);
            for (date, o) in &overrides {
                if let DayOverride::Workday { .. } = o {
                    assert!(weekend(date), "make-up day {date} is not a weekend day");
                }
            }
            let weekday_holidays =
                overrides.iter().filter(|(d, o)| matches!(o, DayOverride::Holiday { .. }) && !weekend(d)).count();
            assert!(weekday_holidays >= 10, "{year}: {weekday_holidays} weekday holidays");
        }
    }

    #[test]
    fn english_bank_holidays_match_the_published_dates() {
        let dates: Vec<NaiveDate> = uk_overrides(2026).into_iter().map(|(d, _)| d).collect();
        let expected = ["2026-01-01", "2026-04-03", "2026-04-06", "2026-05-04", "2026-05-25", "2026-08-31"];
        let mut expected: Vec<NaiveDate> = expected.iter().map(|s| d(s)).collect();
        expected.extend([d("2026-12-25"), d("2026-12-28")]);
        assert_eq!(dates, expected);
        let dates: Vec<NaiveDate> = uk_overrides(2027).into_iter().map(|(d, _)| d).collect();
        assert!(
            dates.contains(&d("2027-03-26")) && dates.contains(&d("2027-12-27")) && dates.contains(&d("2027-12-28"))
        );
        assert_eq!(easter(2025), Some(d("2025-04-20")));
    }

    #[test]
    fn every_absconder_exists_from_fifty_employees_with_the_entity_its_pattern_expects() {
        let people = demo_employees(50);
        for no in DEMO_ABSCONDERS {
            let p = people.iter().position(|p| p.employee_no == *no).expect("absconder in a 50-person demo");
            assert!(p >= 22, "{no} is a unit head");
        }
        let found = demo_absconders(&people, d("2026-10-13"));
        assert_eq!(found.len(), DEMO_ABSCONDERS.len());
        let red = found.iter().filter(|a| a.expected_level == Level::Red).count();
        let yellow = found.iter().filter(|a| a.expected_level == Level::Yellow).count();
        assert_eq!((red, yellow), (3, 3));
        assert!(found.iter().any(|a| a.employee_no.starts_with('U') && a.expected_level == Level::Red));
        assert!(found.iter().filter(|a| a.declining_activity).all(|a| a.absent_days <= 2));
    }

    #[test]
    fn the_third_missing_day_is_the_make_up_saturday_when_one_is_near() {
        let found = demo_absconders(&demo_employees(50), d("2026-10-13"));
        let a = found.iter().find(|a| a.make_up_day.is_some()).expect("make-up absconder");
        assert_eq!(a.make_up_day, Some(d("2026-10-10")));
        assert_eq!(a.first_absent_date, d("2026-10-08"));
        // 8, 9, 10 (make-up Saturday), 12, 13 October.
        assert_eq!(a.absent_days, 5);
        // Without a make-up day nearby, four plain days.
        let found = demo_absconders(&demo_employees(50), d("2026-11-27"));
        let a = found.iter().find(|a| a.pattern == AbsconderPattern::StopsOverMakeUpDay).expect("absconder");
        assert_eq!((a.make_up_day, a.absent_days), (None, 4));
    }

    #[test]
    fn files_are_in_import_order_and_deterministic() {
        let people = demo_employees(120);
        let files = attendance_files(&people, d("2026-10-13"));
        let kinds: Vec<ImportKind> = files.iter().map(|(k, _)| *k).collect();
        let mut order = kinds.clone();
        order.dedup();
        assert_eq!(
            order,
            [ImportKind::Calendar, ImportKind::Rosters, ImportKind::Punches, ImportKind::Leaves, ImportKind::Activity]
        );
        assert_eq!(files, attendance_files(&people, d("2026-10-13")));
        let text = |kind| {
            files
                .iter()
                .filter(|(k, _)| *k == kind)
                .map(|(_, b)| String::from_utf8_lossy(b).into_owned())
                .collect::<String>()
        };
        let punches = text(ImportKind::Punches);
        assert!(punches.contains("+08:00") && punches.contains('Z'), "local and UTC punches");
        assert!(punches.lines().any(|l| l.contains("T21:5") && l.contains("+08:00")), "night clock-in");
        let calendar = text(ImportKind::Calendar);
        assert!(calendar.contains("CN01,2026-10-10,workday") && calendar.contains("UK01,2026-08-31,holiday"));
        let leaves = text(ImportKind::Leaves);
        for status in ["approved", "pending", "rejected"] {
            assert!(leaves.contains(status), "no {status} leave:\n{leaves}");
        }
        assert!(text(ImportKind::Rosters).contains(",N,08:00\r\n"));
    }

    #[test]
    fn nobody_but_the_absconders_misses_two_scheduled_days_in_a_row() {
        let people = demo_employees(400);
        let today = d("2026-10-13");
        let days = window(today);
        let cals = calendars(days.first().copied().unwrap_or(today), today);
        let (plans, absconders) = plans(&people, today, &days, &cals);
        for plan in plans.iter().filter(|p| !DEMO_ABSCONDERS.contains(&p.person.employee_no.as_str())) {
            let absent: Vec<usize> = plan
                .scheduled()
                .into_iter()
                .enumerate()
                .filter(|(_, i)| plan.state[*i] == State::Absent)
                .map(|(p, _)| p)
                .collect();
            assert!(absent.windows(2).all(|w| w[1] - w[0] >= ABSENCE_GAP), "{}: {absent:?}", plan.person.employee_no);
        }
        let absent_days: usize = plans.iter().map(|p| p.state.iter().filter(|s| **s == State::Absent).count()).sum();
        let scheduled: usize = plans.iter().map(|p| p.scheduled().len()).sum();
        let rate = absent_days as f64 / scheduled as f64;
        assert!((0.008..0.025).contains(&rate), "absence rate {rate}");
        assert_eq!(absconders.len(), DEMO_ABSCONDERS.len());
    }
}
