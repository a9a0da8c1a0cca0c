//! Absence rules against the scenarios of issue 3: holidays, make-up days, weekends, rosters, night shifts,
//! time zones, leave, hiring mid-window, activity, policies, and backtest == assess.

use chrono::{DateTime, NaiveDate, NaiveTime};
use lizhi_core::PolicyProfile;
use lizhi_core::absence::{
    AbsenceInput, Assessment, Excuse, Fact, Leave, LeaveStatus, Level, RuleHit, RuleId, assess, backtest,
};
use lizhi_core::calendar::{
    DayOverride, DaySource, NotScheduledReason, Roster, Schedule, Shift, WorkCalendar, attendance_day,
    attendance_day_with_cutoff,
};
use lizhi_core::policy::{CumulativeRule, Policy, PolicyError, ServiceMethod};
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn days(from: &str, to: &str) -> Vec<NaiveDate> {
    d(from).iter_days().take_while(|x| *x <= d(to)).collect()
}

/// China's published 2024 holidays and make-up workdays (调休).
fn cn_2024() -> WorkCalendar {
    let mut cal = WorkCalendar::new("CN-2024");
    let holidays = [
        ("2024-01-01", "2024-01-01", "new_year"),
        ("2024-02-10", "2024-02-17", "spring_festival"),
        ("2024-04-04", "2024-04-06", "qingming"),
        ("2024-05-01", "2024-05-05", "labour_day"),
        ("2024-06-10", "2024-06-10", "dragon_boat"),
        ("2024-09-15", "2024-09-17", "mid_autumn"),
        ("2024-10-01", "2024-10-07", "national_day"),
    ];
    for (from, to, name) in holidays {
        for day in days(from, to) {
            cal.set_override(day, DayOverride::parse("holiday", name).unwrap());
        }
    }
    for (day, name) in [
        ("2024-02-04", "spring_festival"),
        ("2024-02-18", "spring_festival"),
        ("2024-04-07", "qingming"),
        ("2024-04-28", "labour_day"),
        ("2024-05-11", "labour_day"),
        ("2024-09-14", "mid_autumn"),
        ("2024-09-29", "national_day"),
        ("2024-10-12", "national_day"),
    ] {
        cal.set_override(d(day), DayOverride::parse("workday", name).unwrap());
    }
    cal
}

/// One employee's records; `absent` dates are taken out of "punched every scheduled day".
#[derive(Default)]
struct Person {
    punches: BTreeSet<NaiveDate>,
    leaves: Vec<Leave>,
    activity: BTreeMap<NaiveDate, u32>,
}

impl Person {
    fn present(schedule: &Schedule<'_>, from: &str, to: &str, absent: &[&str]) -> Self {
        let absent: BTreeSet<NaiveDate> = absent.iter().map(|s| d(s)).collect();
        let punches = schedule.scheduled_days(d(from), d(to)).filter(|x| !absent.contains(x)).collect();
        Person { punches, ..Person::default() }
    }

    fn input<'a>(&'a self, schedule: Schedule<'a>) -> AbsenceInput<'a> {
        AbsenceInput { schedule, punch_days: &self.punches, leaves: &self.leaves, activity: &self.activity }
    }
}

fn cal_schedule<'a>(cal: &'a WorkCalendar, hire: &str) -> Schedule<'a> {
    Schedule::new(DaySource::Calendar(cal), d(hire), None).unwrap()
}

fn cn() -> Policy {
    Policy::defaults(PolicyProfile::CnDefault)
}

fn first_red(input: &AbsenceInput<'_>, policy: &Policy, from: &str, to: &str) -> Option<NaiveDate> {
    backtest(input, policy, d(from), d(to)).into_iter().find(|(_, a)| a.level == Level::Red).map(|(x, _)| x)
}

fn consecutive(level: Level) -> Vec<RuleHit> {
    vec![RuleHit { rule: RuleId::ConsecutiveAbsence, level }]
}

#[test]
fn weekday_holiday_between_absences_neither_counts_nor_breaks() {
    let cal = cn_2024();
    let s = cal_schedule(&cal, "2023-01-01");
    // Fri 7 June absent, Sat/Sun rest, Mon 10 June Dragon Boat holiday, Tue 11 and Wed 12 absent.
    let mut p = Person::present(&s, "2024-05-06", "2024-06-30", &["2024-06-07", "2024-06-11", "2024-06-12"]);
    let tue = assess(&p.input(s), &cn(), d("2024-06-11"));
    assert_eq!((tue.level, tue.consecutive_absent_workdays), (Level::Yellow, 2));
    assert_eq!(tue.absent_dates, vec![d("2024-06-07"), d("2024-06-11")]);
    assert_eq!(tue.first_absent_date, Some(d("2024-06-07")));
    let holiday = NotScheduledReason::Holiday { name: "dragon_boat".into() };
    assert!(tue.explanation.contains(&Fact::NotScheduled { date: d("2024-06-10"), reason: holiday }));
    let weekend = NotScheduledReason::WeeklyRestDay;
    assert!(tue.explanation.contains(&Fact::NotScheduled { date: d("2024-06-08"), reason: weekend }));
    assert_eq!(tue.explanation[0], Fact::AccountedForOn { date: d("2024-06-06"), by: Excuse::Punch });
    assert_eq!(first_red(&p.input(s), &cn(), "2024-05-06", "2024-06-30"), Some(d("2024-06-12")));

    // Working on the holiday (overtime) does not break the streak, but is shown.
    p.punches.insert(d("2024-06-10"));
    let wed = assess(&p.input(s), &cn(), d("2024-06-12"));
    assert_eq!((wed.level, wed.consecutive_absent_workdays), (Level::Red, 3));
    assert!(wed.explanation.contains(&Fact::PunchOnUnscheduledDay { date: d("2024-06-10") }));

    // Without the holiday the same absences are red one day earlier: the holiday really was skipped.
    let plain = WorkCalendar::new("plain");
    let s2 = cal_schedule(&plain, "2023-01-01");
    let p2 = Person::present(&s2, "2024-05-06", "2024-06-30", &["2024-06-07", "2024-06-10", "2024-06-11"]);
    assert_eq!(first_red(&p2.input(s2), &cn(), "2024-05-06", "2024-06-30"), Some(d("2024-06-11")));
}

#[test]
fn make_up_saturday_counts_and_the_absconder_is_red_on_it() {
    let cal = cn_2024();
    let s = cal_schedule(&cal, "2023-01-01");
    // National Day: holidays 1–7 Oct, make-up workday Sat 12 Oct. Absent Thu 10, Fri 11, Sat 12, then gone.
    let p = Person::present(&s, "2024-08-01", "2024-10-09", &[]);
    let input = p.input(s);
    assert_eq!(first_red(&input, &cn(), "2024-09-01", "2024-10-31"), Some(d("2024-10-12")));
    let sat = assess(&input, &cn(), d("2024-10-12"));
    assert_eq!(sat.rules, consecutive(Level::Red));
    assert_eq!(sat.absent_dates, vec![d("2024-10-10"), d("2024-10-11"), d("2024-10-12")]);
    let name = "national_day".to_owned();
    assert!(sat.explanation.contains(&Fact::MakeUpWorkday { date: d("2024-10-12"), name }));
    // Sunday carries the streak unchanged; Monday is the 4th day.
    assert_eq!(assess(&input, &cn(), d("2024-10-13")).consecutive_absent_workdays, 3);
    assert_eq!(assess(&input, &cn(), d("2024-10-14")).consecutive_absent_workdays, 4);

    // Missing only the make-up Saturday is one unexplained day.
    let one = Person::present(&s, "2024-09-01", "2024-10-31", &["2024-10-12"]);
    let a = assess(&one.input(s), &cn(), d("2024-10-12"));
    assert_eq!((a.level, a.consecutive_absent_workdays), (Level::Yellow, 1));
    assert_eq!(assess(&one.input(s), &cn(), d("2024-10-14")).level, Level::Green);
}

#[test]
fn holidays_and_make_up_days_around_mid_autumn() {
    let cal = cn_2024();
    let s = cal_schedule(&cal, "2023-01-01");
    // Make-up Sat 14 Sep absent, holidays Sun 15–Tue 17, absent Wed 18 and Thu 19.
    let p = Person::present(&s, "2024-08-01", "2024-09-13", &[]);
    let input = p.input(s);
    let tue = assess(&input, &cn(), d("2024-09-17"));
    assert_eq!((tue.level, tue.consecutive_absent_workdays), (Level::Yellow, 1));
    assert_eq!(first_red(&input, &cn(), "2024-09-01", "2024-09-30"), Some(d("2024-09-19")));
}

#[test]
fn absence_straddling_a_weekend_is_red_on_monday() {
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2023-01-01");
    let p = Person::present(&s, "2024-02-01", "2024-03-31", &["2024-03-07", "2024-03-08", "2024-03-11"]);
    let input = p.input(s);
    let hits: Vec<(NaiveDate, Level, u32)> = backtest(&input, &cn(), d("2024-03-01"), d("2024-03-31"))
        .into_iter()
        .map(|(x, a)| (x, a.level, a.consecutive_absent_workdays))
        .collect();
    assert_eq!(
        hits,
        vec![
            (d("2024-03-07"), Level::Yellow, 1),
            (d("2024-03-08"), Level::Yellow, 2),
            (d("2024-03-09"), Level::Yellow, 2),
            (d("2024-03-10"), Level::Yellow, 2),
            (d("2024-03-11"), Level::Red, 3),
        ]
    );
}

#[test]
fn two_days_absent_then_back_is_never_red() {
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2023-01-01");
    let p = Person::present(&s, "2024-02-01", "2024-03-31", &["2024-03-05", "2024-03-06"]);
    let alerts = backtest(&p.input(s), &cn(), d("2024-02-01"), d("2024-03-31"));
    let dates: Vec<_> = alerts.iter().map(|(x, _)| *x).collect();
    assert_eq!(dates, vec![d("2024-03-05"), d("2024-03-06")]);
    assert!(alerts.iter().all(|(_, a)| a.level == Level::Yellow));
    assert_eq!(assess(&p.input(s), &cn(), d("2024-03-07")).level, Level::Green);
}

#[test]
fn days_before_hire_do_not_count() {
    let cal = WorkCalendar::default();
    // Hired Wednesday 6 March, never comes.
    let s = cal_schedule(&cal, "2024-03-06");
    let p = Person::default();
    let input = p.input(s);
    let before = assess(&input, &cn(), d("2024-03-05"));
    assert_eq!(before.level, Level::Green);
    assert_eq!(
        before.explanation,
        vec![Fact::NotScheduled { date: d("2024-03-05"), reason: NotScheduledReason::BeforeHire }]
    );
    let thu = assess(&input, &cn(), d("2024-03-07"));
    assert_eq!((thu.level, thu.first_absent_date), (Level::Yellow, Some(d("2024-03-06"))));
    assert_eq!(thu.explanation[0], Fact::NoEarlierScheduledDay { hire_date: d("2024-03-06") });
    assert_eq!(first_red(&input, &cn(), "2024-03-01", "2024-03-31"), Some(d("2024-03-08")));

    // Hired mid-window and present every day: green throughout.
    let ok = Person::present(&s, "2024-03-01", "2024-03-31", &[]);
    assert!(backtest(&ok.input(s), &cn(), d("2024-03-01"), d("2024-03-31")).is_empty());
}

#[test]
fn not_expected_after_departure() {
    let cal = WorkCalendar::default();
    let s = Schedule::new(DaySource::Calendar(&cal), d("2023-01-01"), Some(d("2024-03-06"))).unwrap();
    let p = Person::present(&s, "2024-02-01", "2024-03-01", &[]);
    let input = p.input(s);
    // Mon 4 – Wed 6 absent (Wed = departure date, still expected): red on the departure date, green after.
    assert_eq!(assess(&input, &cn(), d("2024-03-06")).level, Level::Red);
    let after = assess(&input, &cn(), d("2024-03-07"));
    assert_eq!(after.level, Level::Green);
    assert_eq!(
        after.explanation[0],
        Fact::NotScheduled { date: d("2024-03-07"), reason: NotScheduledReason::AfterDeparture }
    );
    let last = backtest(&input, &cn(), d("2024-03-01"), d("2024-03-31")).pop().map(|(x, _)| x);
    assert_eq!(last, Some(d("2024-03-06")));
}

#[test]
fn absence_right_after_an_approved_leave_counts_from_its_first_day() {
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2023-01-01");
    let mut p = Person::present(&s, "2024-02-01", "2024-03-01", &[]);
    p.leaves.push(Leave::new(d("2024-03-04"), d("2024-03-08"), "annual", LeaveStatus::Approved).unwrap());
    let input = p.input(s);
    let alerts = backtest(&input, &cn(), d("2024-02-01"), d("2024-03-31"));
    assert_eq!(alerts.first().map(|(x, _)| *x), Some(d("2024-03-11")), "no alert during the leave");
    let mon = assess(&input, &cn(), d("2024-03-11"));
    assert_eq!(mon.consecutive_absent_workdays, 1);
    let by = Excuse::ApprovedLeave { kind: "annual".into() };
    assert_eq!(mon.explanation[0], Fact::AccountedForOn { date: d("2024-03-08"), by });
    assert_eq!(first_red(&input, &cn(), "2024-02-01", "2024-03-31"), Some(d("2024-03-13")));
}

#[test]
fn only_approved_leave_excuses_and_the_others_are_explained() {
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2023-01-01");
    let run = |status: LeaveStatus| {
        let mut p = Person::present(&s, "2024-02-01", "2024-03-01", &[]);
        p.leaves.push(Leave::new(d("2024-03-04"), d("2024-03-06"), "sick", status).unwrap());
        assess(&p.input(s), &cn(), d("2024-03-06"))
    };
    assert_eq!(run(LeaveStatus::Approved).level, Level::Green);
    let pending = run(LeaveStatus::Pending);
    assert_eq!(pending.level, Level::Red);
    let pending_facts = pending.explanation.iter().filter(|f| matches!(f, Fact::PendingLeaveOn { .. })).count();
    assert_eq!(pending_facts, 3);
    assert!(pending.explanation.contains(&Fact::PendingLeaveOn { date: d("2024-03-05"), kind: "sick".into() }));
    let rejected = run(LeaveStatus::Rejected);
    assert_eq!(rejected.level, Level::Red);
    assert!(rejected.explanation.contains(&Fact::RejectedLeaveOn { date: d("2024-03-04"), kind: "sick".into() }));
    assert!(!rejected.explanation.iter().any(|f| matches!(f, Fact::PendingLeaveOn { .. })));
    assert_eq!(LeaveStatus::parse("approved"), Ok(LeaveStatus::Approved));
    assert_eq!(LeaveStatus::parse("Approved").unwrap_err().code(), "unknown_leave_status");
    assert_eq!(
        Leave::new(d("2024-03-04"), d("2024-03-03"), "x", LeaveStatus::Approved).unwrap_err().code(),
        "leave_ends_before_start"
    );
}

fn at(s: &str) -> DateTime<chrono::FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

#[test]
fn night_shift_punch_after_midnight_belongs_to_the_previous_night() {
    let six = NaiveTime::from_hms_opt(6, 0, 0);
    let mut roster = Roster::new();
    for day in ["2024-03-04", "2024-03-05", "2024-03-07", "2024-03-08"] {
        roster.set(d(day), Shift::parse("N", six).unwrap());
    }
    roster.set(d("2024-03-06"), Shift::parse("REST", None).unwrap());
    // A rostered worker on a national holiday is expected: holidays do not apply to rosters.
    roster.set(d("2024-10-01"), Shift::parse("D", None).unwrap());
    let tz = chrono_tz::Asia::Shanghai;
    let punch = at("2024-03-05T02:00:00+08:00");
    assert_eq!(attendance_day(punch, tz), d("2024-03-05"));
    assert_eq!(attendance_day_with_cutoff(punch, tz, six), d("2024-03-04"));
    assert_eq!(roster.attendance_day(punch, tz), d("2024-03-04"));
    assert_eq!(roster.attendance_day(at("2024-03-05T07:00:00+08:00"), tz), d("2024-03-05"));
    // After the REST day (no cut-off) an early punch stays on its own date.
    assert_eq!(roster.attendance_day(at("2024-03-07T02:00:00+08:00"), tz), d("2024-03-07"));

    let s = Schedule::new(DaySource::Roster(&roster), d("2024-01-01"), None).unwrap();
    let mut p = Person::default();
    for instant in ["2024-03-05T02:00:00+08:00", "2024-03-06T01:30:00+08:00"] {
        p.punches.insert(roster.attendance_day(at(instant), tz));
    }
    let input = p.input(s);
    // Mon and Tue nights worked (clock-outs after midnight); Thu and Fri nights missed; REST and missing days skipped.
    assert_eq!(assess(&input, &cn(), d("2024-03-06")).level, Level::Green);
    let fri = assess(&input, &cn(), d("2024-03-08"));
    assert_eq!((fri.level, fri.consecutive_absent_workdays), (Level::Yellow, 2));
    let sat = assess(&input, &cn(), d("2024-03-09"));
    let missing = NotScheduledReason::NotRostered;
    assert!(sat.explanation.contains(&Fact::NotScheduled { date: d("2024-03-09"), reason: missing }));
    let holiday = assess(&input, &cn(), d("2024-10-01"));
    assert_eq!((holiday.level, holiday.consecutive_absent_workdays), (Level::Red, 3));
}

#[test]
fn attendance_day_is_the_local_date_whatever_offset_the_punch_was_written_in() {
    let sh = chrono_tz::Asia::Shanghai;
    let utc = at("2024-03-04T23:30:00Z");
    assert_eq!(attendance_day(utc, sh), d("2024-03-05"));
    assert_eq!(attendance_day(utc.with_timezone(&chrono::Utc), sh), d("2024-03-05"));
    assert_eq!(attendance_day(at("2024-03-05T07:30:00+08:00"), sh), d("2024-03-05"));
    assert_eq!(attendance_day(utc, chrono_tz::America::New_York), d("2024-03-04"));

    // Half the punches in UTC, half local: Tuesday's 07:50 punch has a UTC date of Monday.
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2024-03-01");
    let mut p = Person::default();
    for raw in
        ["2024-03-01T09:00:00+08:00", "2024-03-04T01:00:00Z", "2024-03-04T23:50:00Z", "2024-03-06T08:55:00+08:00"]
    {
        p.punches.insert(attendance_day(at(raw), sh));
    }
    let input = p.input(s);
    assert!(backtest(&input, &cn(), d("2024-03-01"), d("2024-03-06")).is_empty());
    let utc_dates: BTreeSet<NaiveDate> =
        p.punches.iter().map(|x| if *x == d("2024-03-05") { d("2024-03-04") } else { *x }).collect();
    let wrong = AbsenceInput { punch_days: &utc_dates, ..input };
    assert_eq!(assess(&wrong, &cn(), d("2024-03-05")).level, Level::Yellow, "UTC dates would raise a false alarm");
}

fn active_person(s: &Schedule<'_>, from: &str, to: &str, per_day: impl Fn(usize) -> u32) -> Person {
    let mut p = Person::present(s, from, to, &[]);
    for (i, day) in s.scheduled_days(d(from), d(to)).enumerate() {
        p.activity.insert(day, per_day(i));
    }
    p
}

#[test]
fn activity_drop_against_own_baseline_needs_history_and_a_minimum() {
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2023-01-01");
    let all: Vec<NaiveDate> = s.scheduled_days(d("2024-01-01"), d("2024-04-30")).collect();
    // 60 scheduled days at 10 events, then 2 a day: the recent average (10 - 1.6k) is ≤ 5 from the 4th low day.
    let p = active_person(&s, "2024-01-01", "2024-04-30", |i| if i < 60 { 10 } else { 2 });
    let alerts = backtest(&p.input(s), &cn(), d("2024-01-01"), d("2024-04-30"));
    let (first, a) = alerts.first().cloned().unwrap();
    assert_eq!(first, all[63]);
    assert_eq!(a.rules, vec![RuleHit { rule: RuleId::ActivityDrop, level: Level::Yellow }]);
    match &a.explanation[..] {
        [Fact::ActivityDrop { recent_avg, baseline_avg, ratio, recent_days: 5, baseline_days: 40 }] => {
            let close = |x: f64, y: f64| (x - y).abs() < 1e-9;
            assert!(close(*recent_avg, 3.6) && close(*baseline_avg, 10.0) && close(*ratio, 0.36), "{a:?}");
        }
        other => panic!("{other:?}"),
    }

    // Same drop after only 30 scheduled days since hire: no alarm until 45 (5 recent + 40 baseline) days exist.
    let s_new = cal_schedule(&cal, &all[30].to_string());
    let short = active_person(&s_new, &all[30].to_string(), "2024-04-30", |i| if i < 30 { 10 } else { 2 });
    assert!(backtest(&short.input(s_new), &cn(), d("2024-01-01"), all[73]).is_empty());
    assert_eq!(assess(&short.input(s_new), &cn(), all[74]).rules[0].rule, RuleId::ActivityDrop);

    // A quiet person (1 event a day, below the 2.0 minimum) who goes silent never alarms.
    let quiet = active_person(&s, "2024-01-01", "2024-04-30", |i| if i < 60 { 1 } else { 0 });
    assert!(backtest(&quiet.input(s), &cn(), d("2024-01-01"), d("2024-04-30")).is_empty());

    // A week of approved holiday with no activity is not a drop: leave days are skipped.
    let mut away = active_person(&s, "2024-01-01", "2024-04-30", |_| 10);
    away.leaves.push(Leave::new(all[60], all[66], "annual", LeaveStatus::Approved).unwrap());
    for day in &all[60..=66] {
        away.activity.insert(*day, 0);
        away.punches.remove(day);
    }
    assert!(backtest(&away.input(s), &cn(), d("2024-01-01"), d("2024-04-30")).is_empty());

    // Disabled rule: nothing.
    let mut off = cn();
    off.activity.enabled = false;
    assert!(backtest(&p.input(s), &off, d("2024-01-01"), d("2024-04-30")).is_empty());
}

#[test]
fn cumulative_rule_counts_scattered_days_in_its_window() {
    let cal = WorkCalendar::default();
    let s = cal_schedule(&cal, "2023-01-01");
    let mut policy = cn();
    policy.cumulative.push(CumulativeRule { days: 3, window_days: 14, level: Level::Red });
    // Single absences on Mon 4, Thu 7, Tue 12 March (within 14 days) and Thu 28 March (alone).
    let p = Person::present(&s, "2024-02-01", "2024-03-31", &["2024-03-04", "2024-03-07", "2024-03-12", "2024-03-28"]);
    let input = p.input(s);
    let tue = assess(&input, &policy, d("2024-03-12"));
    assert_eq!(tue.level, Level::Red);
    let kinds: Vec<RuleId> = tue.rules.iter().map(|h| h.rule).collect();
    assert_eq!(kinds, vec![RuleId::ConsecutiveAbsence, RuleId::CumulativeAbsence]);
    let dates = vec![d("2024-03-04"), d("2024-03-07"), d("2024-03-12")];
    assert!(tue.explanation.contains(&Fact::CumulativeAbsence { threshold: 3, window_days: 14, dates }));
    // Sun 17: Mon 4 has left the 14-day window (4..17 is 14 days, so the 4th is still in); Mon 18 it is out.
    assert_eq!(assess(&input, &policy, d("2024-03-17")).level, Level::Red);
    assert_eq!(assess(&input, &policy, d("2024-03-18")).level, Level::Green);
    assert_eq!(assess(&input, &policy, d("2024-03-28")).level, Level::Yellow);
    assert_eq!(assess(&input, &cn(), d("2024-03-12")).level, Level::Yellow, "CN default has no cumulative rule");
}

#[test]
fn policy_defaults_per_profile() {
    let cn = Policy::defaults(PolicyProfile::CnDefault);
    assert_eq!((cn.consecutive_red, cn.yellow_from, cn.cumulative.len()), (3, 1, 0));
    assert_eq!((cn.activity.recent_days, cn.activity.baseline_days, cn.activity.drop_ratio), (5, 40, 0.5));
    assert_eq!((cn.contact_attempts_min, cn.contact_channels_min, cn.return_notice_response_days), (3, 2, 3));
    assert_eq!((cn.return_notices_max, cn.union_wait_workdays, cn.public_notice_days), (2, 5, 30));
    assert!(cn.union_notice_required && cn.first_contact_same_day && cn.timers_from_receipt);
    assert_eq!(cn.service_methods.last(), Some(&ServiceMethod::PublicNotice));
    assert_eq!(cn.post_termination.file_transfer_days, Some(15));
    let us = Policy::defaults(PolicyProfile::UsGeneric);
    assert!(us.protected_leave_screening && !us.union_notice_required);
    assert_eq!(us.consecutive_red, 3);
    let uk = Policy::defaults(PolicyProfile::Uk);
    assert!(uk.termination_requires_hearing && uk.appeal_offered && !uk.union_notice_required);
    assert_eq!(uk.consecutive_red, 3);
    let india = Policy::defaults(PolicyProfile::In);
    assert_eq!(india.consecutive_red, 8);
    assert!(india.show_cause_required && india.enquiry_required);
    for profile in PolicyProfile::ALL {
        let p = Policy::defaults(profile);
        assert_eq!(p.profile, profile);
        assert_eq!(p.validate(), Ok(()), "{profile}");
        assert!(!p.service_methods.contains(&ServiceMethod::PublicNotice) || profile == PolicyProfile::CnDefault);
    }
}

#[test]
fn policy_validation_refuses_meaningless_values_with_stable_codes() {
    let check = |edit: &dyn Fn(&mut Policy), code: &str| {
        let mut p = cn();
        edit(&mut p);
        assert_eq!(p.validate().map_err(|e| e.code()), Err(code), "{code}");
    };
    check(&|p| p.consecutive_red = 0, "must_be_positive");
    check(&|p| p.yellow_from = 4, "yellow_after_red");
    check(&|p| p.activity.drop_ratio = 0.0, "out_of_range");
    check(&|p| p.activity.drop_ratio = 1.5, "out_of_range");
    check(&|p| p.activity.drop_ratio = f64::NAN, "out_of_range");
    check(&|p| p.activity.min_baseline_per_day = 0.0, "out_of_range");
    check(&|p| p.activity.baseline_days = 0, "must_be_positive");
    check(&|p| p.activity.level = Level::Green, "green_rule_level");
    check(&|p| p.cumulative.push(CumulativeRule { days: 5, window_days: 0, level: Level::Red }), "must_be_positive");
    check(
        &|p| p.cumulative.push(CumulativeRule { days: 5, window_days: 4, level: Level::Red }),
        "cumulative_days_exceed_window",
    );
    check(&|p| p.contact_channels_min = 4, "channels_exceed_attempts");
    check(&|p| p.service_methods.insert(0, ServiceMethod::PublicNotice), "invalid_service_methods");
    check(&|p| p.service_methods.swap(3, 4), "public_notice_not_last");
    check(&|p| p.approvals.termination = false, "termination_needs_approval");
    let mut p = cn();
    p.activity.recent_days = 0;
    assert_eq!(p.validate(), Err(PolicyError::MustBePositive { field: "activity.recent_days" }));
    p.activity.recent_days = 5;
    p.cumulative.push(CumulativeRule { days: 5, window_days: 365, level: Level::Red });
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn policy_round_trips_through_serde_as_a_toml_friendly_document() {
    for profile in PolicyProfile::ALL {
        let mut p = Policy::defaults(profile);
        p.cumulative.push(CumulativeRule { days: 5, window_days: 365, level: Level::Yellow });
        let json = serde_json::to_string(&p).unwrap();
        assert!(!json.contains("null"), "TOML has no null: {json}");
        assert!(json.contains(&format!("\"profile\":\"{}\"", profile.name())));
        let back: Policy = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
    }
    let mut value = serde_json::to_value(cn()).unwrap();
    value["cumulative"] = serde_json::json!([{ "days": 5, "window_days": 365 }]);
    let parsed: Policy = serde_json::from_value(value.clone()).unwrap();
    assert_eq!(parsed.cumulative, vec![CumulativeRule { days: 5, window_days: 365, level: Level::Red }]);
    value["consecutive_redd"] = serde_json::json!(4);
    assert!(serde_json::from_value::<Policy>(value.clone()).is_err(), "a typo must not be ignored");
    let mut value = serde_json::to_value(cn()).unwrap();
    value["profile"] = serde_json::json!("cn-default");
    assert!(serde_json::from_value::<Policy>(value).is_err());
}

#[test]
fn codes_and_wire_shapes_are_stable() {
    let codes: Vec<_> =
        [RuleId::ConsecutiveAbsence, RuleId::CumulativeAbsence, RuleId::ActivityDrop].map(RuleId::code).into();
    assert_eq!(codes, ["consecutive_absence", "cumulative_absence", "activity_drop"]);
    assert!(Level::Green < Level::Yellow && Level::Yellow < Level::Red);
    let fact = serde_json::to_string(&Fact::MissingOn { date: d("2024-03-05") }).unwrap();
    assert_eq!(fact, r#"{"fact":"missing_on","date":"2024-03-05"}"#);
    let why = Fact::NotScheduled { date: d("2024-03-09"), reason: NotScheduledReason::Holiday { name: "x".into() } };
    let text = serde_json::to_string(&why).unwrap();
    assert_eq!(text, r#"{"fact":"not_scheduled","date":"2024-03-09","reason":{"reason":"holiday","name":"x"}}"#);
    assert_eq!(serde_json::from_str::<Fact>(&text).unwrap(), why);
}

#[test]
fn four_months_for_one_employee_backtest_matches_daily_assess() {
    let cal = cn_2024();
    let s = cal_schedule(&cal, "2024-01-01");
    let mut p = active_person(&s, "2024-01-01", "2024-04-10", |i| 5 + (i % 7) as u32);
    p.leaves.push(Leave::new(d("2024-02-19"), d("2024-02-23"), "annual", LeaveStatus::Approved).unwrap());
    p.leaves.push(Leave::new(d("2024-03-11"), d("2024-03-12"), "sick", LeaveStatus::Pending).unwrap());
    for day in days("2024-03-11", "2024-03-12") {
        p.punches.remove(&day);
    }
    let input = p.input(s);
    let (from, to) = (d("2024-01-01"), d("2024-04-29"));
    let fast = backtest(&input, &cn(), from, to);
    let slow: Vec<(NaiveDate, Assessment)> = days("2024-01-01", "2024-04-29")
        .into_iter()
        .map(|x| (x, assess(&input, &cn(), x)))
        .filter(|(_, a)| a.level != Level::Green)
        .collect();
    assert_eq!(fast, slow);
    // Gone after Wed 10 April: Thu 11, Fri 12, Mon 15 → red on the 15th and every day after.
    assert_eq!(first_red(&input, &cn(), "2024-01-01", "2024-04-29"), Some(d("2024-04-15")));
    assert_eq!(fast.iter().filter(|(_, a)| a.level == Level::Red).count(), 15);
}

fn arb_policy() -> impl Strategy<Value = Policy> {
    (
        1u32..5,
        0u32..5,
        prop::collection::vec((1u32..6, 1u32..40, any::<bool>()), 0..3),
        1u32..5,
        1u32..10,
        1u32..=10,
        1u32..5,
    )
        .prop_map(|(red, yellow, cumulative, recent, baseline, ratio, min)| {
            let mut p = cn();
            p.consecutive_red = red;
            p.yellow_from = yellow.clamp(1, red);
            p.cumulative = cumulative
                .into_iter()
                .map(|(n, w, y)| CumulativeRule {
                    days: n,
                    window_days: w,
                    level: if y { Level::Yellow } else { Level::Red },
                })
                .collect();
            p.activity.recent_days = recent;
            p.activity.baseline_days = baseline;
            p.activity.drop_ratio = f64::from(ratio) / 10.0;
            p.activity.min_baseline_per_day = f64::from(min) / 2.0;
            p
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]
    #[test]
    fn backtest_equals_assess_on_every_date(
        weekly in prop::array::uniform7(any::<bool>()),
        overrides in prop::collection::vec((0u64..150, any::<bool>()), 0..12),
        roster in prop::option::of(prop::collection::vec((0u64..150, 0u8..3), 0..90)),
        hire in 0u64..60,
        departure in prop::option::of(0u64..120),
        punches in prop::collection::btree_set(0u64..160, 0..110),
        leaves in prop::collection::vec((0u64..150, 0u64..8, 0u8..3), 0..5),
        activity in prop::collection::vec((0u64..160, 0u32..12), 0..120),
        from in 0u64..100,
        len in 0u64..70,
        policy in arb_policy(),
    ) {
        let base = d("2024-01-01");
        let at = |n: u64| base + chrono::Days::new(n);
        let mut cal = WorkCalendar::new("p");
        cal.weekly = weekly;
        for (n, holiday) in overrides {
            let kind = if holiday { "holiday" } else { "workday" };
            cal.set_override(at(n), DayOverride::parse(kind, "x").unwrap());
        }
        let mut rota = Roster::new();
        for (n, k) in roster.clone().unwrap_or_default() {
            rota.set(at(n), if k == 0 { Shift::Rest } else { Shift::Work { code: format!("S{k}"), day_start: None } });
        }
        let source = if roster.is_some() { DaySource::Roster(&rota) } else { DaySource::Calendar(&cal) };
        let schedule = Schedule::new(source, at(hire), departure.map(|x| at(hire + x))).unwrap();
        let statuses = [LeaveStatus::Approved, LeaveStatus::Pending, LeaveStatus::Rejected];
        let person = Person {
            punches: punches.into_iter().map(at).collect(),
            leaves: leaves
                .into_iter()
                .map(|(s, l, k)| Leave::new(at(s), at(s + l), format!("k{k}"), statuses[k as usize]).unwrap())
                .collect(),
            activity: activity.into_iter().map(|(n, e)| (at(n), e)).collect(),
        };
        let input = person.input(schedule);
        let (start, end) = (at(from), at(from + len));
        let fast = backtest(&input, &policy, start, end);
        let slow: Vec<(NaiveDate, Assessment)> = start
            .iter_days()
            .take_while(|x| *x <= end)
            .map(|x| (x, assess(&input, &policy, x)))
            .filter(|(_, a)| a.level != Level::Green)
            .collect();
        prop_assert_eq!(fast, slow);
    }
}
