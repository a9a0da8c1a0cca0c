//! Absence rules: from schedules, punches, leave and activity to a level with a structured explanation.
//!
//! Pure and explainable: the same inputs always give the same [`Assessment`], and every alert carries the
//! facts (missing dates, pending leave, activity baseline) a person needs to verify it. The web layer
//! translates [`Fact`]s; no prose is produced here. The score never decides anything (PIPL art. 24): it only
//! prompts HR to verify and contact.
//!
//! Decisions where the issue is silent (also on the items concerned):
//! - Approved leave on a scheduled day BREAKS a streak (the person was excused), so an absence right after a
//!   leave counts from its first unexplained day.
//! - A punch on a day that is not scheduled neither counts nor breaks (rules reason over scheduled days only);
//!   it is mentioned in the explanation so the verifying person sees it.
//! - Outside employment (before hire, after departure) an assessment is green with a `not_scheduled` fact.
//! - Activity windows skip approved-leave days: nobody is expected to be active on leave. A scheduled day
//!   without activity data counts as 0 events.
//! - Several cumulative rules firing give ONE `cumulative_absence` hit at the highest level, with one fact each.

use crate::calendar::{DayStatus, NotScheduledReason, Schedule, ScheduledAs};
use crate::policy::Policy;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub use crate::backtest::backtest;

/// How worrying an assessment is; ordered so the overall level is the maximum of the rule hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Nothing to do.
    Green,
    /// Verify and make contact.
    Yellow,
    /// The policy's absence threshold is reached: open or continue a case.
    Red,
}

impl Level {
    /// Stable code for CSV, JSON and translations.
    pub fn code(self) -> &'static str {
        match self {
            Level::Green => "green",
            Level::Yellow => "yellow",
            Level::Red => "red",
        }
    }

    /// The level of a code.
    pub fn parse(code: &str) -> Option<Self> {
        [Level::Green, Level::Yellow, Level::Red].into_iter().find(|l| l.code() == code)
    }
}

/// Which rule fired; the codes appear in the backtest CSV `rules` column and must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleId {
    /// Consecutive unexplained scheduled days.
    ConsecutiveAbsence,
    /// Unexplained scheduled days within a rolling window.
    CumulativeAbsence,
    /// Activity fell against the person's own baseline.
    ActivityDrop,
}

impl RuleId {
    /// Stable code for CSV, JSON and translations.
    pub fn code(self) -> &'static str {
        match self {
            RuleId::ConsecutiveAbsence => "consecutive_absence",
            RuleId::CumulativeAbsence => "cumulative_absence",
            RuleId::ActivityDrop => "activity_drop",
        }
    }

    /// The rule of a code.
    pub fn parse(code: &str) -> Option<Self> {
        [RuleId::ConsecutiveAbsence, RuleId::CumulativeAbsence, RuleId::ActivityDrop]
            .into_iter()
            .find(|r| r.code() == code)
    }
}

/// One rule that fired, with the level it raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleHit {
    /// The rule.
    pub rule: RuleId,
    /// The level it raised.
    pub level: Level,
}

/// Why leave input was refused; codes are stable (import reports, API, translations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AbsenceError {
    /// A leave status other than `approved`, `pending` or `rejected`.
    UnknownLeaveStatus,
    /// A leave whose end date is before its start date.
    LeaveEndsBeforeStart,
}

impl AbsenceError {
    /// The stable machine-readable code, also the suffix of the translation key `error-<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            AbsenceError::UnknownLeaveStatus => "unknown_leave_status",
            AbsenceError::LeaveEndsBeforeStart => "leave_ends_before_start",
        }
    }
}

impl fmt::Display for AbsenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for AbsenceError {}

/// Where a leave request stands; only approved leave excuses a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveStatus {
    /// Excuses the covered days.
    Approved,
    /// Does not excuse, but is mentioned: HR should decide it before escalating.
    Pending,
    /// Does not excuse; mentioned because the person may think they were excused.
    Rejected,
}

impl LeaveStatus {
    /// Reads the `status` import column (`approved` | `pending` | `rejected`).
    pub fn parse(raw: &str) -> Result<Self, AbsenceError> {
        match raw.trim() {
            "approved" => Ok(LeaveStatus::Approved),
            "pending" => Ok(LeaveStatus::Pending),
            "rejected" => Ok(LeaveStatus::Rejected),
            _ => Err(AbsenceError::UnknownLeaveStatus),
        }
    }

    /// Stable code, as imported.
    pub fn code(self) -> &'static str {
        match self {
            LeaveStatus::Approved => "approved",
            LeaveStatus::Pending => "pending",
            LeaveStatus::Rejected => "rejected",
        }
    }
}

/// A leave request covering whole local dates, `start` to `end` inclusive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    /// First covered date.
    pub start: NaiveDate,
    /// Last covered date (inclusive). A leave built by hand with `end < start` covers nothing.
    pub end: NaiveDate,
    /// Leave type as imported (annual, sick, …), shown in explanations.
    pub kind: String,
    /// Approval status.
    pub status: LeaveStatus,
}

impl Leave {
    /// Builds a leave, refusing an end before the start so an import error is not silently ignored.
    pub fn new(
        start: NaiveDate,
        end: NaiveDate,
        kind: impl Into<String>,
        status: LeaveStatus,
    ) -> Result<Self, AbsenceError> {
        if end < start {
            return Err(AbsenceError::LeaveEndsBeforeStart);
        }
        Ok(Self { start, end, kind: kind.into(), status })
    }

    /// Whether the leave covers `date`.
    pub fn covers(&self, date: NaiveDate) -> bool {
        self.start <= date && date <= self.end
    }
}

/// What accounted for a person on a scheduled day (and so ended the previous streak).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "excuse", rename_all = "snake_case")]
pub enum Excuse {
    /// At least one punch with that attendance day.
    Punch,
    /// An approved leave covered the day.
    ApprovedLeave {
        /// The leave type.
        kind: String,
    },
}

/// One structured, translatable explanation item; the web layer renders it by [`Fact::code`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// The last scheduled day before the current streak on which the person was accounted for.
    AccountedForOn {
        /// That day.
        date: NaiveDate,
        /// What accounted for them.
        by: Excuse,
    },
    /// The streak runs back to the first scheduled day since hire: the person never came.
    NoEarlierScheduledDay {
        /// The hire date.
        hire_date: NaiveDate,
    },
    /// A scheduled day with no punch and no approved leave.
    MissingOn {
        /// That day.
        date: NaiveDate,
    },
    /// The missing day was a make-up workday (调休), which explains an alert on a weekend.
    MakeUpWorkday {
        /// That day.
        date: NaiveDate,
        /// The make-up day's name.
        name: String,
    },
    /// A pending leave covers a missing day; it does not excuse it.
    PendingLeaveOn {
        /// That day.
        date: NaiveDate,
        /// The leave type.
        kind: String,
    },
    /// A rejected leave covers a missing day; it does not excuse it.
    RejectedLeaveOn {
        /// That day.
        date: NaiveDate,
        /// The leave type.
        kind: String,
    },
    /// A day inside the streak (or the evaluation date) on which the person was not expected.
    NotScheduled {
        /// That day.
        date: NaiveDate,
        /// Why.
        reason: NotScheduledReason,
    },
    /// The person punched on a day they were not scheduled; it does not break the streak, but HR should see it.
    PunchOnUnscheduledDay {
        /// That day.
        date: NaiveDate,
    },
    /// A cumulative rule fired.
    CumulativeAbsence {
        /// The rule's threshold.
        threshold: u32,
        /// The rule's window in calendar days.
        window_days: u32,
        /// The unexplained scheduled days found in the window, ascending.
        dates: Vec<NaiveDate>,
    },
    /// The activity-drop rule fired.
    ActivityDrop {
        /// Average events per day over the recent window.
        recent_avg: f64,
        /// Average events per day over the baseline window.
        baseline_avg: f64,
        /// `recent_avg / baseline_avg`.
        ratio: f64,
        /// Recent window length in scheduled days.
        recent_days: u32,
        /// Baseline window length in scheduled days.
        baseline_days: u32,
    },
}

impl Fact {
    /// Stable code, the translation key suffix.
    pub fn code(&self) -> &'static str {
        match self {
            Fact::AccountedForOn { .. } => "accounted_for_on",
            Fact::NoEarlierScheduledDay { .. } => "no_earlier_scheduled_day",
            Fact::MissingOn { .. } => "missing_on",
            Fact::MakeUpWorkday { .. } => "make_up_workday",
            Fact::PendingLeaveOn { .. } => "pending_leave_on",
            Fact::RejectedLeaveOn { .. } => "rejected_leave_on",
            Fact::NotScheduled { .. } => "not_scheduled",
            Fact::PunchOnUnscheduledDay { .. } => "punch_on_unscheduled_day",
            Fact::CumulativeAbsence { .. } => "cumulative_absence",
            Fact::ActivityDrop { .. } => "activity_drop",
        }
    }
}

/// The result for one employee on one date.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    /// The highest level among `rules`, green when none fired.
    pub level: Level,
    /// The rules that fired, in [`RuleId`] order, one per rule.
    pub rules: Vec<RuleHit>,
    /// Length of the current streak of unexplained scheduled days ending at (or carried to) the date.
    pub consecutive_absent_workdays: u32,
    /// First day of the current streak.
    pub first_absent_date: Option<NaiveDate>,
    /// The unexplained scheduled days of the current streak, ascending (what a return-to-work notice lists).
    pub absent_dates: Vec<NaiveDate>,
    /// Facts in a stable order: streak start, each day of the streak, cumulative rules, activity.
    pub explanation: Vec<Fact>,
}

/// The attendance days (local dates, see [`crate::calendar::attendance_day`]) with at least one
/// punch. A trait so a scan can hand over compact bitmaps instead of building a set per person.
pub trait PunchDays: fmt::Debug {
    /// Whether `date` had a punch.
    fn punched(&self, date: NaiveDate) -> bool;
}

impl PunchDays for BTreeSet<NaiveDate> {
    fn punched(&self, date: NaiveDate) -> bool {
        self.contains(&date)
    }
}

/// Activity events per local date, summed over systems (0 when unknown).
pub trait DayEvents: fmt::Debug {
    /// Events on `date`.
    fn events_on(&self, date: NaiveDate) -> u32;
}

impl DayEvents for BTreeMap<NaiveDate, u32> {
    fn events_on(&self, date: NaiveDate) -> u32 {
        self.get(&date).copied().unwrap_or(0)
    }
}

/// Everything known about one employee that the rules read. Borrowed so a scan builds nothing per employee.
#[derive(Debug, Clone, Copy)]
pub struct AbsenceInput<'a> {
    /// Which days the person is expected.
    pub schedule: Schedule<'a>,
    /// Days with at least one punch.
    pub punch_days: &'a dyn PunchDays,
    /// Leave requests in any status.
    pub leaves: &'a [Leave],
    /// Events per local date, summed over systems.
    pub activity: &'a dyn DayEvents,
}

impl AbsenceInput<'_> {
    /// The first approved leave covering `date`, if any.
    pub fn approved_leave(&self, date: NaiveDate) -> Option<&Leave> {
        self.leaves.iter().find(|l| l.status == LeaveStatus::Approved && l.covers(date))
    }

    /// What accounts for the person on `date` (a punch first, then approved leave); `None` if nothing does.
    pub fn excuse(&self, date: NaiveDate) -> Option<Excuse> {
        if self.punch_days.punched(date) {
            Some(Excuse::Punch)
        } else {
            self.approved_leave(date).map(|l| Excuse::ApprovedLeave { kind: l.kind.clone() })
        }
    }

    /// Whether `date` is an unexplained day: scheduled, no punch, no approved leave.
    pub fn is_unexplained(&self, date: NaiveDate) -> bool {
        self.schedule.is_scheduled(date) && !self.is_accounted(date)
    }

    pub(crate) fn is_accounted(&self, date: NaiveDate) -> bool {
        self.punch_days.punched(date) || self.approved_leave(date).is_some()
    }

    pub(crate) fn events(&self, date: NaiveDate) -> u64 {
        u64::from(self.activity.events_on(date))
    }
}

/// The current streak: count, first day, and the last accounted-for scheduled day before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Streak {
    pub count: u32,
    pub first: Option<NaiveDate>,
    pub before: Option<NaiveDate>,
}

/// Sums over the activity windows; `n` counts how many days were available.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ActivityStats {
    pub recent_sum: u64,
    pub recent_n: u32,
    pub base_sum: u64,
    pub base_n: u32,
}

/// Walks back from `as_of` over scheduled days until a day on which the person was accounted for.
pub(crate) fn streak_at(input: &AbsenceInput<'_>, as_of: NaiveDate) -> Streak {
    let mut streak = Streak::default();
    for day in input.schedule.scheduled_days(input.schedule.hire_date(), as_of).rev() {
        if input.is_accounted(day) {
            streak.before = Some(day);
            break;
        }
        streak.count += 1;
        streak.first = Some(day);
    }
    streak
}

/// First date of a window of `window_days` calendar days ending with `as_of`.
pub(crate) fn window_start(as_of: NaiveDate, window_days: u32) -> NaiveDate {
    as_of.checked_sub_days(Days::new(u64::from(window_days.saturating_sub(1)))).unwrap_or(NaiveDate::MIN)
}

/// Whether a SCHEDULED day feeds the activity windows: not on approved leave (callers pass scheduled days only).
pub(crate) fn activity_eligible(input: &AbsenceInput<'_>, day: NaiveDate) -> bool {
    input.approved_leave(day).is_none()
}

/// `(recent_avg, baseline_avg)` when the activity rule fires.
fn activity_drop(policy: &Policy, stats: &ActivityStats) -> Option<(f64, f64)> {
    let rule = &policy.activity;
    if !rule.enabled || rule.recent_days == 0 || rule.baseline_days == 0 {
        return None;
    }
    if stats.recent_n < rule.recent_days || stats.base_n < rule.baseline_days {
        return None;
    }
    let recent = stats.recent_sum as f64 / f64::from(rule.recent_days);
    let base = stats.base_sum as f64 / f64::from(rule.baseline_days);
    let fires = base > 0.0 && base >= rule.min_baseline_per_day && recent <= rule.drop_ratio * base;
    fires.then_some((recent, base))
}

/// The rules that fire for the given state, one hit per rule id; shared by [`assess`] and the backtest so both
/// decide identically.
pub(crate) fn rule_hits(
    policy: &Policy,
    streak_count: u32,
    cumulative_counts: impl Iterator<Item = usize>,
    activity: &ActivityStats,
) -> Vec<RuleHit> {
    let mut hits = Vec::new();
    if streak_count > 0 && streak_count >= policy.yellow_from.min(policy.consecutive_red) {
        let level = if streak_count >= policy.consecutive_red { Level::Red } else { Level::Yellow };
        hits.push(RuleHit { rule: RuleId::ConsecutiveAbsence, level });
    }
    let cumulative = policy
        .cumulative
        .iter()
        .zip(cumulative_counts)
        .filter(|(rule, count)| *count > 0 && *count >= rule.days as usize)
        .map(|(rule, _)| rule.level)
        .max();
    if let Some(level) = cumulative.filter(|l| *l > Level::Green) {
        hits.push(RuleHit { rule: RuleId::CumulativeAbsence, level });
    }
    if activity_drop(policy, activity).is_some() && policy.activity.level > Level::Green {
        hits.push(RuleHit { rule: RuleId::ActivityDrop, level: policy.activity.level });
    }
    hits
}

/// Builds the assessment from the rule state; shared by [`assess`] and the backtest so their output is equal.
pub(crate) fn conclude(
    input: &AbsenceInput<'_>,
    policy: &Policy,
    as_of: NaiveDate,
    streak: &Streak,
    cumulative: &[Vec<NaiveDate>],
    activity: &ActivityStats,
) -> Assessment {
    let rules = rule_hits(policy, streak.count, cumulative.iter().map(Vec::len), activity);
    let level = rules.iter().map(|h| h.level).max().unwrap_or(Level::Green);
    let mut explanation = Vec::new();
    let mut absent_dates = Vec::new();
    match streak.first.filter(|_| streak.count > 0) {
        Some(first) => {
            explanation.push(match streak.before.and_then(|b| input.excuse(b).map(|by| (b, by))) {
                Some((date, by)) => Fact::AccountedForOn { date, by },
                None => Fact::NoEarlierScheduledDay { hire_date: input.schedule.hire_date() },
            });
            for day in first.iter_days().take_while(|d| *d <= as_of) {
                day_facts(input, day, &mut explanation, &mut absent_dates);
            }
        }
        None => {
            if let DayStatus::NotScheduled(reason) = input.schedule.day_status(as_of) {
                explanation.push(Fact::NotScheduled { date: as_of, reason });
            }
        }
    }
    for (rule, dates) in policy.cumulative.iter().zip(cumulative) {
        if !dates.is_empty() && dates.len() >= rule.days as usize {
            let (threshold, window_days) = (rule.days, rule.window_days);
            explanation.push(Fact::CumulativeAbsence { threshold, window_days, dates: dates.clone() });
        }
    }
    if let Some((recent_avg, baseline_avg)) = activity_drop(policy, activity) {
        explanation.push(Fact::ActivityDrop {
            recent_avg,
            baseline_avg,
            ratio: recent_avg / baseline_avg,
            recent_days: policy.activity.recent_days,
            baseline_days: policy.activity.baseline_days,
        });
    }
    Assessment {
        level,
        rules,
        consecutive_absent_workdays: streak.count,
        first_absent_date: streak.first.filter(|_| streak.count > 0),
        absent_dates,
        explanation,
    }
}

/// The facts of one day inside a streak.
fn day_facts(input: &AbsenceInput<'_>, day: NaiveDate, facts: &mut Vec<Fact>, absent: &mut Vec<NaiveDate>) {
    match input.schedule.day_status(day) {
        DayStatus::Scheduled(scheduled_as) => {
            absent.push(day);
            facts.push(Fact::MissingOn { date: day });
            if let ScheduledAs::MakeUpWorkday { name } = scheduled_as {
                facts.push(Fact::MakeUpWorkday { date: day, name });
            }
            for leave in input.leaves.iter().filter(|l| l.covers(day)) {
                match leave.status {
                    LeaveStatus::Pending => facts.push(Fact::PendingLeaveOn { date: day, kind: leave.kind.clone() }),
                    LeaveStatus::Rejected => facts.push(Fact::RejectedLeaveOn { date: day, kind: leave.kind.clone() }),
                    LeaveStatus::Approved => {}
                }
            }
        }
        DayStatus::NotScheduled(reason) => {
            facts.push(Fact::NotScheduled { date: day, reason });
            if input.punch_days.punched(day) {
                facts.push(Fact::PunchOnUnscheduledDay { date: day });
            }
        }
    }
}

/// Green with a `not_scheduled` fact: the person is outside employment on `as_of`.
pub(crate) fn outside_employment(input: &AbsenceInput<'_>, as_of: NaiveDate) -> Assessment {
    let reason = if as_of < input.schedule.hire_date() {
        NotScheduledReason::BeforeHire
    } else {
        NotScheduledReason::AfterDeparture
    };
    Assessment {
        level: Level::Green,
        rules: Vec::new(),
        consecutive_absent_workdays: 0,
        first_absent_date: None,
        absent_dates: Vec::new(),
        explanation: vec![Fact::NotScheduled { date: as_of, reason }],
    }
}

/// Evaluates one employee through the END of `as_of` (an unexplained `as_of` counts). Expects a validated
/// [`Policy`]; invalid values never panic but give meaningless levels.
///
/// - Streak: scheduled days counted back from `as_of`; unscheduled days neither count nor break; a punch or
///   approved leave on a scheduled day breaks it. Yellow from `yellow_from`, red from `consecutive_red`.
/// - Cumulative: unexplained scheduled days in each rule's calendar window ending at `as_of`.
/// - Activity: the last `recent_days` activity days up to `as_of` against the `baseline_days` before them
///   (activity days = scheduled days without approved leave); no hit without a full baseline.
pub fn assess(input: &AbsenceInput<'_>, policy: &Policy, as_of: NaiveDate) -> Assessment {
    if !input.schedule.is_employed_on(as_of) {
        return outside_employment(input, as_of);
    }
    let hire = input.schedule.hire_date();
    let streak = streak_at(input, as_of);
    let cumulative: Vec<Vec<NaiveDate>> = policy
        .cumulative
        .iter()
        .map(|rule| {
            let days = input.schedule.scheduled_days(window_start(as_of, rule.window_days), as_of);
            days.filter(|d| !input.is_accounted(*d)).collect()
        })
        .collect();
    let (recent, base) = (policy.activity.recent_days as usize, policy.activity.baseline_days as usize);
    let mut stats = ActivityStats::default();
    let window = input.schedule.scheduled_days(hire, as_of).rev().filter(|d| activity_eligible(input, *d));
    for (i, day) in window.take(recent + base).enumerate() {
        if i < recent {
            stats.recent_sum += input.events(day);
            stats.recent_n += 1;
        } else {
            stats.base_sum += input.events(day);
            stats.base_n += 1;
        }
    }
    conclude(input, policy, as_of, &streak, &cumulative, &stats)
}
