//! Who is expected at work on which local date: work calendars, shift rosters and the attendance day of a punch.
//!
//! Absence rules reason over *scheduled days* only, so every false alarm from a holiday, a rest day or a
//! time zone would start here. Everything is a pure function of dates passed in: no clock is read.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeZone};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::collections::btree_map;
use std::fmt;

/// Why calendar, roster or schedule input was refused; codes are stable (import reports, API, translations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarError {
    /// A calendar line's kind is neither `holiday` nor `workday`.
    UnknownDayKind,
    /// A roster line has no shift code (a rest day is written `REST`, not left empty).
    EmptyShiftCode,
    /// A departure date earlier than the hire date would make every day unscheduled without saying why.
    DepartureBeforeHire,
}

impl CalendarError {
    /// The stable machine-readable code, also the suffix of the translation key `error-<code>`.
    pub fn code(&self) -> &'static str {
        match self {
            CalendarError::UnknownDayKind => "unknown_day_kind",
            CalendarError::EmptyShiftCode => "empty_shift_code",
            CalendarError::DepartureBeforeHire => "departure_before_hire",
        }
    }
}

impl fmt::Display for CalendarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::error::Error for CalendarError {}

/// A dated exception to the weekly pattern, because statutory holidays and 调休 make-up days move every year.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayOverride {
    /// Nobody on the calendar is expected, even on a weekday (e.g. 国庆节).
    Holiday {
        /// Display name of the holiday, shown in explanations.
        name: String,
    },
    /// Everybody on the calendar is expected, even on a weekend (调休 make-up workday).
    Workday {
        /// What the make-up day compensates, shown in explanations.
        name: String,
    },
}

impl DayOverride {
    /// Builds an override from the import columns `kind,name`, so importers share one spelling of the kinds.
    pub fn parse(kind: &str, name: &str) -> Result<Self, CalendarError> {
        let name = name.trim().to_owned();
        match kind.trim() {
            "holiday" => Ok(DayOverride::Holiday { name }),
            "workday" => Ok(DayOverride::Workday { name }),
            _ => Err(CalendarError::UnknownDayKind),
        }
    }
}

/// A legal entity's working week plus dated overrides; decides the scheduled days of non-rostered staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WorkCalendar {
    /// The calendar's name, as used in the `calendar` import column.
    pub name: String,
    /// Working weekdays, Monday first; the default is Monday to Friday.
    pub weekly: [bool; 7],
    /// Holidays and make-up workdays by date; they beat the weekly pattern.
    pub overrides: BTreeMap<NaiveDate, DayOverride>,
}

impl WorkCalendar {
    /// A Monday-to-Friday calendar without overrides, the common starting point before holidays are imported.
    pub fn new(name: impl Into<String>) -> Self {
        Self { name: name.into(), weekly: [true, true, true, true, true, false, false], overrides: BTreeMap::new() }
    }

    /// Records a holiday or make-up day; a later entry for the same date replaces the earlier one, as a re-import
    /// of a corrected calendar should.
    pub fn set_override(&mut self, date: NaiveDate, day: DayOverride) {
        self.overrides.insert(date, day);
    }

    /// Whether people on this calendar are expected at work on `date` (overrides first, then the weekly pattern).
    pub fn is_workday(&self, date: NaiveDate) -> bool {
        match self.overrides.get(&date) {
            Some(DayOverride::Holiday { .. }) => false,
            Some(DayOverride::Workday { .. }) => true,
            None => self.weekly[date.weekday().num_days_from_monday() as usize],
        }
    }

    /// The `n`th workday after `from` (`from` itself never counts), for deadlines set in business days
    /// ("the union replies within 5 workdays"). `n = 0` gives `from` rolled forward to a workday.
    pub fn add_workdays(&self, from: NaiveDate, n: u32) -> NaiveDate {
        if n == 0 {
            return self.next_workday_from(from);
        }
        let mut day = from;
        let mut left = n;
        // A calendar with no workday at all cannot move forward; stop after a year rather than loop forever.
        for _ in 0..(n as usize * 7 + 366) {
            let Some(next) = day.succ_opt() else { break };
            day = next;
            if self.is_workday(day) {
                left -= 1;
                if left == 0 {
                    break;
                }
            }
        }
        day
    }

    /// `day` if it is a workday, else the next workday: a statutory period whose last day is a rest day or
    /// holiday ends on the first workday after it (CN Civil Code art. 203).
    pub fn next_workday_from(&self, day: NaiveDate) -> NaiveDate {
        let mut d = day;
        for _ in 0..366 {
            if self.is_workday(d) {
                return d;
            }
            match d.succ_opt() {
                Some(next) => d = next,
                None => break,
            }
        }
        day
    }

    /// Workdays strictly after `from` up to and including `to` (0 when `to <= from`).
    pub fn workdays_between(&self, from: NaiveDate, to: NaiveDate) -> u32 {
        from.iter_days().skip(1).take_while(|d| *d <= to).filter(|d| self.is_workday(*d)).count() as u32
    }

    /// Why `date` is or is not a workday, so explanations can name the holiday or the make-up day.
    pub fn day_status(&self, date: NaiveDate) -> DayStatus {
        match self.overrides.get(&date) {
            Some(DayOverride::Holiday { name }) => {
                DayStatus::NotScheduled(NotScheduledReason::Holiday { name: name.clone() })
            }
            Some(DayOverride::Workday { name }) => {
                DayStatus::Scheduled(ScheduledAs::MakeUpWorkday { name: name.clone() })
            }
            None if self.is_workday(date) => DayStatus::Scheduled(ScheduledAs::Weekday),
            None => DayStatus::NotScheduled(NotScheduledReason::WeeklyRestDay),
        }
    }
}

impl Default for WorkCalendar {
    /// A Monday-to-Friday calendar named `default`, what an entity has before its admin configures one.
    fn default() -> Self {
        Self::new("default")
    }
}

/// One rostered day of a shift worker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Shift {
    /// A working shift; the person is expected.
    Work {
        /// The shift code from the roster (e.g. `D`, `N`, `08-20`).
        code: String,
        /// For night shifts: punches before this local time on the NEXT calendar date still belong to this
        /// shift's attendance day (a 02:00 clock-out closes last night's shift). `None` = midnight.
        day_start: Option<NaiveTime>,
    },
    /// A rostered rest day; the person is not expected.
    Rest,
}

impl Shift {
    /// Reads a roster import cell: `REST` (any case) is a rest day, anything else a working shift code.
    pub fn parse(code: &str, day_start: Option<NaiveTime>) -> Result<Self, CalendarError> {
        let code = code.trim();
        if code.is_empty() {
            Err(CalendarError::EmptyShiftCode)
        } else if code.eq_ignore_ascii_case("REST") {
            Ok(Shift::Rest)
        } else {
            Ok(Shift::Work { code: code.to_owned(), day_start })
        }
    }

    /// Whether this shift expects the person at work.
    pub fn is_work(&self) -> bool {
        matches!(self, Shift::Work { .. })
    }
}

/// A shift worker's roster: the ONLY source of their scheduled days (holidays do not apply to them).
/// A date missing from the roster is not scheduled.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Roster {
    /// Shifts by local date.
    pub shifts: BTreeMap<NaiveDate, Shift>,
}

impl Roster {
    /// An empty roster, filled by the importer.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records the shift of one date; a later entry replaces an earlier one, as a corrected roster should.
    pub fn set(&mut self, date: NaiveDate, shift: Shift) {
        self.shifts.insert(date, shift);
    }

    /// Whether the roster expects the person on `date`; missing dates are not scheduled.
    pub fn is_workday(&self, date: NaiveDate) -> bool {
        self.shifts.get(&date).is_some_and(Shift::is_work)
    }

    /// Why `date` is or is not a rostered workday, so explanations can say "not on the roster".
    pub fn day_status(&self, date: NaiveDate) -> DayStatus {
        match self.shifts.get(&date) {
            Some(Shift::Work { code, .. }) => DayStatus::Scheduled(ScheduledAs::Shift { code: code.clone() }),
            Some(Shift::Rest) => DayStatus::NotScheduled(NotScheduledReason::RosteredRest),
            None => DayStatus::NotScheduled(NotScheduledReason::NotRostered),
        }
    }

    /// The attendance day of a punch for this rostered person: the local date in `tz`, moved to the previous
    /// date when that date's shift has a `day_start` cut-off and the punch is earlier than it (night shifts).
    /// Decision: the cut-off of the shift rostered on the *previous* date applies, because the question is
    /// whether an early-morning punch closes last night's shift; a rest or missing previous day never pulls a
    /// punch back.
    pub fn attendance_day<Z: TimeZone>(&self, instant: DateTime<Z>, tz: chrono_tz::Tz) -> NaiveDate {
        let local = attendance_day(instant.clone(), tz);
        let cutoff = local.pred_opt().and_then(|prev| match self.shifts.get(&prev) {
            Some(Shift::Work { day_start, .. }) => *day_start,
            _ => None,
        });
        attendance_day_with_cutoff(instant, tz, cutoff)
    }
}

/// Whether a day is scheduled, and as what; carries the names explanations need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DayStatus {
    /// The person is expected at work.
    Scheduled(ScheduledAs),
    /// The person is not expected, for the given reason.
    NotScheduled(NotScheduledReason),
}

/// Why a scheduled day is scheduled; lets explanations point out a make-up Saturday.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum ScheduledAs {
    /// A working weekday of the calendar.
    Weekday,
    /// A calendar make-up workday (调休), usually a weekend date.
    MakeUpWorkday {
        /// The override's name.
        name: String,
    },
    /// A rostered working shift.
    Shift {
        /// The shift code.
        code: String,
    },
}

/// Why a date is not scheduled; part of explanations, so the web layer translates it by [`Self::code`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum NotScheduledReason {
    /// Before the hire date: not expected yet.
    BeforeHire,
    /// After the departure date: not expected any more.
    AfterDeparture,
    /// A non-working day of the calendar's week (weekend).
    WeeklyRestDay,
    /// A calendar holiday.
    Holiday {
        /// The holiday's name.
        name: String,
    },
    /// A rest day on the person's roster.
    RosteredRest,
    /// The date is missing from the person's roster, which means not scheduled.
    NotRostered,
}

impl NotScheduledReason {
    /// Stable code for translations and APIs.
    pub fn code(&self) -> &'static str {
        match self {
            NotScheduledReason::BeforeHire => "before_hire",
            NotScheduledReason::AfterDeparture => "after_departure",
            NotScheduledReason::WeeklyRestDay => "weekly_rest_day",
            NotScheduledReason::Holiday { .. } => "holiday",
            NotScheduledReason::RosteredRest => "rostered_rest",
            NotScheduledReason::NotRostered => "not_rostered",
        }
    }
}

/// What decides an employee's scheduled days: the entity's calendar or the person's own roster.
#[derive(Debug, Clone, Copy)]
pub enum DaySource<'a> {
    /// Calendar staff: weekly pattern plus holidays and make-up days.
    Calendar(&'a WorkCalendar),
    /// Shift workers: the roster only.
    Roster(&'a Roster),
}

/// One employee's schedule: the day source bounded by employment. Borrowed, so a scan over many employees
/// shares one calendar.
#[derive(Debug, Clone, Copy)]
pub struct Schedule<'a> {
    source: DaySource<'a>,
    hire_date: NaiveDate,
    departure_date: Option<NaiveDate>,
}

impl<'a> Schedule<'a> {
    /// Binds a day source to the employment dates. Decision: `departure_date` is the last day of employment and
    /// is itself expected if scheduled; only later days are not.
    pub fn new(
        source: DaySource<'a>,
        hire_date: NaiveDate,
        departure_date: Option<NaiveDate>,
    ) -> Result<Self, CalendarError> {
        if departure_date.is_some_and(|d| d < hire_date) {
            return Err(CalendarError::DepartureBeforeHire);
        }
        Ok(Self { source, hire_date, departure_date })
    }

    /// Where scheduled days come from.
    pub fn source(&self) -> DaySource<'a> {
        self.source
    }

    /// First day the person can be expected.
    pub fn hire_date(&self) -> NaiveDate {
        self.hire_date
    }

    /// Last day of employment, if known.
    pub fn departure_date(&self) -> Option<NaiveDate> {
        self.departure_date
    }

    /// Whether `date` lies within employment (hire date through departure date, inclusive).
    pub fn is_employed_on(&self, date: NaiveDate) -> bool {
        date >= self.hire_date && self.departure_date.is_none_or(|d| date <= d)
    }

    /// Whether the person is expected at work on `date`.
    pub fn is_scheduled(&self, date: NaiveDate) -> bool {
        self.is_employed_on(date)
            && match self.source {
                DaySource::Calendar(c) => c.is_workday(date),
                DaySource::Roster(r) => r.is_workday(date),
            }
    }

    /// Whether and why `date` is scheduled, for explanations.
    pub fn day_status(&self, date: NaiveDate) -> DayStatus {
        if date < self.hire_date {
            DayStatus::NotScheduled(NotScheduledReason::BeforeHire)
        } else if !self.is_employed_on(date) {
            DayStatus::NotScheduled(NotScheduledReason::AfterDeparture)
        } else {
            match self.source {
                DaySource::Calendar(c) => c.day_status(date),
                DaySource::Roster(r) => r.day_status(date),
            }
        }
    }

    /// The scheduled days from `from` to `to` inclusive, ascending (reverse it with `.rev()`). Rosters jump over
    /// missing dates instead of testing every day, so long gaps cost nothing.
    pub fn scheduled_days(&self, from: NaiveDate, to: NaiveDate) -> ScheduledDays<'a> {
        let lo = from.max(self.hire_date);
        let hi = self.departure_date.map_or(to, |d| to.min(d));
        let inner = if lo > hi {
            Inner::Empty
        } else {
            match self.source {
                DaySource::Calendar(cal) => Inner::Calendar { cal, range: Some((lo, hi)) },
                DaySource::Roster(r) => Inner::Roster(r.shifts.range(lo..=hi)),
            }
        };
        ScheduledDays { inner }
    }
}

/// Iterator over scheduled days, returned by [`Schedule::scheduled_days`]; double-ended so rules can walk back
/// from the evaluation date.
#[derive(Debug, Clone)]
pub struct ScheduledDays<'a> {
    inner: Inner<'a>,
}

#[derive(Debug, Clone)]
enum Inner<'a> {
    Empty,
    Calendar { cal: &'a WorkCalendar, range: Option<(NaiveDate, NaiveDate)> },
    Roster(btree_map::Range<'a, NaiveDate, Shift>),
}

impl Iterator for ScheduledDays<'_> {
    type Item = NaiveDate;

    fn next(&mut self) -> Option<NaiveDate> {
        match &mut self.inner {
            Inner::Empty => None,
            Inner::Roster(range) => range.find(|(_, s)| s.is_work()).map(|(d, _)| *d),
            Inner::Calendar { cal, range } => loop {
                let (lo, hi) = (*range)?;
                *range = lo.succ_opt().filter(|n| *n <= hi).map(|n| (n, hi));
                if cal.is_workday(lo) {
                    return Some(lo);
                }
            },
        }
    }
}

impl DoubleEndedIterator for ScheduledDays<'_> {
    fn next_back(&mut self) -> Option<NaiveDate> {
        match &mut self.inner {
            Inner::Empty => None,
            Inner::Roster(range) => range.rfind(|(_, s)| s.is_work()).map(|(d, _)| *d),
            Inner::Calendar { cal, range } => loop {
                let (lo, hi) = (*range)?;
                *range = hi.pred_opt().filter(|p| *p >= lo).map(|p| (lo, p));
                if cal.is_workday(hi) {
                    return Some(hi);
                }
            },
        }
    }
}

/// The attendance day of a punch: its LOCAL date in the legal entity's zone, whatever offset it was written in
/// (a punch at 2024-03-04T23:30:00Z is 2024-03-05 in Asia/Shanghai).
pub fn attendance_day<Z: TimeZone>(instant: DateTime<Z>, tz: chrono_tz::Tz) -> NaiveDate {
    instant.with_timezone(&tz).date_naive()
}

/// Like [`attendance_day`], but a local time before `cutoff` belongs to the previous date (night shifts whose
/// attendance day starts at e.g. 06:00). `None` means midnight, i.e. plain [`attendance_day`].
pub fn attendance_day_with_cutoff<Z: TimeZone>(
    instant: DateTime<Z>,
    tz: chrono_tz::Tz,
    cutoff: Option<NaiveTime>,
) -> NaiveDate {
    let local = instant.with_timezone(&tz).naive_local();
    let date = local.date();
    match cutoff {
        Some(c) if local.time() < c => date.pred_opt().unwrap_or(date),
        _ => date,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn calendar_iterator_matches_day_by_day_check_both_ways() {
        let mut cal = WorkCalendar::new("cn");
        cal.set_override(d("2024-10-01"), DayOverride::Holiday { name: "national".into() });
        cal.set_override(d("2024-10-12"), DayOverride::Workday { name: "make-up".into() });
        let s = Schedule::new(DaySource::Calendar(&cal), d("2024-09-20"), Some(d("2024-10-20"))).unwrap();
        let naive: Vec<_> = d("2024-09-01").iter_days().take(60).filter(|x| s.is_scheduled(*x)).collect();
        let fwd: Vec<_> = s.scheduled_days(d("2024-09-01"), d("2024-10-30")).collect();
        let mut back: Vec<_> = s.scheduled_days(d("2024-09-01"), d("2024-10-30")).rev().collect();
        back.reverse();
        assert_eq!(fwd, naive);
        assert_eq!(back, naive);
        assert!(fwd.contains(&d("2024-10-12")) && !fwd.contains(&d("2024-10-01")));
        assert_eq!(fwd.first(), Some(&d("2024-09-20")));
        assert_eq!(fwd.last(), Some(&d("2024-10-18")));
    }

    #[test]
    fn workday_deadlines_step_over_holidays_and_onto_make_up_days() {
        // National Day 2024: 1–7 October off, Sunday 29 September and Saturday 12 October worked.
        let mut cal = WorkCalendar::new("cn");
        for day in 1..=7 {
            cal.set_override(
                NaiveDate::from_ymd_opt(2024, 10, day).unwrap(),
                DayOverride::Holiday { name: "国庆".into() },
            );
        }
        cal.set_override(d("2024-09-29"), DayOverride::Workday { name: "调休".into() });
        cal.set_override(d("2024-10-12"), DayOverride::Workday { name: "调休".into() });
        // Friday 27 Sep + 1 workday = Sunday 29 Sep (make-up); + 2 = Monday 30 Sep; + 3 = Tuesday 8 Oct.
        assert_eq!(cal.add_workdays(d("2024-09-27"), 1), d("2024-09-29"));
        assert_eq!(cal.add_workdays(d("2024-09-27"), 3), d("2024-10-08"));
        // 8, 9, 10, 11 Oct, then Saturday 12 Oct is the 5th.
        assert_eq!(cal.add_workdays(d("2024-10-07"), 5), d("2024-10-12"));
        assert_eq!(cal.add_workdays(d("2024-10-03"), 0), d("2024-10-08"));
        assert_eq!(cal.next_workday_from(d("2024-10-05")), d("2024-10-08"));
        assert_eq!(cal.next_workday_from(d("2024-10-12")), d("2024-10-12"));
        assert_eq!(cal.workdays_between(d("2024-09-27"), d("2024-10-08")), 3);
        assert_eq!(cal.workdays_between(d("2024-10-08"), d("2024-10-08")), 0);
        let never = WorkCalendar { weekly: [false; 7], ..WorkCalendar::new("none") };
        assert!(never.add_workdays(d("2024-01-01"), 2) > d("2024-01-01"), "terminates without workdays");
    }

    #[test]
    fn roster_iterator_skips_rest_and_missing_dates() {
        let mut r = Roster::new();
        r.set(d("2024-01-01"), Shift::parse("D", None).unwrap());
        r.set(d("2024-01-02"), Shift::parse("rest", None).unwrap());
        r.set(d("2024-01-05"), Shift::parse("N", None).unwrap());
        let s = Schedule::new(DaySource::Roster(&r), d("2023-12-01"), None).unwrap();
        let days: Vec<_> = s.scheduled_days(d("2023-12-01"), d("2024-02-01")).collect();
        assert_eq!(days, vec![d("2024-01-01"), d("2024-01-05")]);
        assert_eq!(s.scheduled_days(d("2023-12-01"), d("2024-02-01")).next_back(), Some(d("2024-01-05")));
        assert_eq!(s.day_status(d("2024-01-03")), DayStatus::NotScheduled(NotScheduledReason::NotRostered));
        assert_eq!(s.day_status(d("2024-01-02")), DayStatus::NotScheduled(NotScheduledReason::RosteredRest));
    }

    #[test]
    fn refuses_bad_input_with_stable_codes() {
        assert_eq!(Shift::parse("  ", None).unwrap_err().code(), "empty_shift_code");
        assert_eq!(DayOverride::parse("vacation", "x").unwrap_err().code(), "unknown_day_kind");
        let cal = WorkCalendar::default();
        let err = Schedule::new(DaySource::Calendar(&cal), d("2024-02-01"), Some(d("2024-01-31"))).unwrap_err();
        assert_eq!(err.code(), "departure_before_hire");
    }
}
