//! Trial runs (试运行): before a candidate policy is switched on, how many alerts would it have
//! raised per week, next to what the policies in force raised over the same weeks?
//!
//! An alert is counted when it is raised, not on every day it stays up: an episode is a run of
//! consecutive non-green days of one employee; it raises a yellow on its first day and a red on its
//! first red day.

use crate::risk::{Finding, RiskQuery, backtest};
use crate::{App, AppError, Ctx};
use chrono::{Datelike, Days, NaiveDate};
use lizhi_core::absence::Level;
use lizhi_core::policy::Policy;
use serde::Serialize;
use std::collections::BTreeMap;

/// The longest range a trial run covers (about a quarter), so a page request stays bounded.
pub const MAX_TRIAL_DAYS: i64 = 92;

/// Alerts raised in one week.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Raised {
    /// Episodes that started (the first yellow or red day) in the week.
    pub alerts: usize,
    /// Episodes that turned red in the week.
    pub red: usize,
}

/// One week of a trial run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TrialWeek {
    /// Monday of the week.
    pub week_start: NaiveDate,
    /// Under the policies in force.
    pub current: Raised,
    /// Under the candidate.
    pub candidate: Raised,
}

/// A trial run's result.
#[derive(Debug, Clone, Serialize)]
pub struct TrialRun {
    /// First evaluated date.
    pub from: NaiveDate,
    /// Last evaluated date.
    pub to: NaiveDate,
    /// Every week touching the range, oldest first.
    pub weeks: Vec<TrialWeek>,
}

fn monday(d: NaiveDate) -> NaiveDate {
    d.checked_sub_days(Days::new(u64::from(d.weekday().num_days_from_monday()))).unwrap_or(d)
}

/// Alerts raised per week (by Monday) from findings ordered by date then employee.
pub fn raised_per_week(findings: &[Finding]) -> BTreeMap<NaiveDate, Raised> {
    // Per employee: the last non-green date seen and whether the running episode is red yet.
    let mut running: BTreeMap<i64, (NaiveDate, bool)> = BTreeMap::new();
    let mut weeks: BTreeMap<NaiveDate, Raised> = BTreeMap::new();
    for f in findings {
        let red = f.assessment.level == Level::Red;
        let continues = running.get(&f.employee_id).filter(|(last, _)| last.succ_opt() == Some(f.date)).map(|r| r.1);
        let week = weeks.entry(monday(f.date)).or_default();
        match continues {
            Some(was_red) => {
                if red && !was_red {
                    week.red += 1;
                }
                running.insert(f.employee_id, (f.date, was_red || red));
            }
            None => {
                week.alerts += 1;
                if red {
                    week.red += 1;
                }
                running.insert(f.employee_id, (f.date, red));
            }
        }
    }
    weeks
}

/// Replays the policies in force and the candidate over the range and counts per week.
pub async fn trial(
    app: &App,
    ctx: &Ctx,
    from: NaiveDate,
    to: NaiveDate,
    legal_entity: Option<String>,
    candidate: Policy,
) -> Result<TrialRun, AppError> {
    if to < from {
        return Err(AppError::invalid("to", "end_before_start"));
    }
    if (to - from).num_days() >= MAX_TRIAL_DAYS {
        return Err(AppError::invalid("to", "range_too_long"));
    }
    let current = RiskQuery { legal_entity: legal_entity.clone(), ..RiskQuery::default() };
    let current = raised_per_week(&backtest(app, ctx, from, to, &current).await?);
    let trial = RiskQuery { legal_entity, policy: Some(candidate), ..RiskQuery::default() };
    let candidate = raised_per_week(&backtest(app, ctx, from, to, &trial).await?);
    let mut weeks = Vec::new();
    let mut week = monday(from);
    while week <= to {
        weeks.push(TrialWeek {
            week_start: week,
            current: current.get(&week).copied().unwrap_or_default(),
            candidate: candidate.get(&week).copied().unwrap_or_default(),
        });
        match week.checked_add_days(Days::new(7)) {
            Some(next) => week = next,
            None => break,
        }
    }
    Ok(TrialRun { from, to, weeks })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lizhi_core::absence::Assessment;

    fn finding(employee_id: i64, date: &str, level: Level) -> Finding {
        Finding {
            date: date.parse().expect("date"),
            employee_id,
            employee_no: format!("E{employee_id}"),
            name: String::new(),
            legal_entity: "CN".into(),
            org_unit: "U".into(),
            assessment: Assessment {
                level,
                rules: Vec::new(),
                consecutive_absent_workdays: 0,
                first_absent_date: None,
                absent_dates: Vec::new(),
                explanation: Vec::new(),
            },
        }
    }

    #[test]
    fn an_episode_counts_once_when_raised_and_once_when_it_turns_red() {
        // Mon 2026-03-02 … : employee 1 yellow Mon–Tue, red Wed–Fri (one alert, one red, week 1);
        // employee 2 yellow Thu, gone Fri, yellow again next Mon (two alerts in two weeks).
        let mut f = vec![
            finding(1, "2026-03-02", Level::Yellow),
            finding(1, "2026-03-03", Level::Yellow),
            finding(1, "2026-03-04", Level::Red),
            finding(1, "2026-03-05", Level::Red),
            finding(1, "2026-03-06", Level::Red),
            finding(2, "2026-03-05", Level::Yellow),
            finding(2, "2026-03-09", Level::Yellow),
            // Red from the first day (a long absence already red when the range starts).
            finding(3, "2026-03-09", Level::Red),
        ];
        f.sort_by_key(|x| (x.date, x.employee_id));
        let weeks = raised_per_week(&f);
        let w1: NaiveDate = "2026-03-02".parse().expect("date");
        let w2: NaiveDate = "2026-03-09".parse().expect("date");
        assert_eq!(weeks.get(&w1), Some(&Raised { alerts: 2, red: 1 }));
        assert_eq!(weeks.get(&w2), Some(&Raised { alerts: 2, red: 1 }));
    }
}
