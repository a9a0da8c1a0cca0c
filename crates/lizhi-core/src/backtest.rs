//! Trial run of a policy over a date range (试运行): the same answers as [`assess`](crate::absence::assess) on
//! every date, computed in one forward walk.
//!
//! HR tunes thresholds by asking "how many yellows and reds would this candidate policy have raised per week",
//! so the backtest must be cheap for 10,000 employees × 120 days and must never disagree with the daily scan.
//! Work is O(days × leaves) for the walk, plus the look-back to seed it (the current streak, the cumulative
//! windows and the activity windows before `from`), plus the size of the returned explanations.

use crate::absence::{
    AbsenceInput, ActivityStats, Assessment, Streak, activity_eligible, conclude, rule_hits, streak_at, window_start,
};
use crate::policy::Policy;
use chrono::NaiveDate;
use std::collections::VecDeque;

/// The last `recent + baseline` activity values, oldest first, with running sums of both windows.
struct ActivityWindow {
    values: VecDeque<u64>,
    recent: usize,
    baseline: usize,
    stats: ActivityStats,
}

impl ActivityWindow {
    fn new(recent: u32, baseline: u32) -> Self {
        let (recent, baseline) = (recent as usize, baseline as usize);
        Self {
            values: VecDeque::with_capacity(recent + baseline + 1),
            recent,
            baseline,
            stats: ActivityStats::default(),
        }
    }

    /// Appends the newest day: the oldest recent value moves to the baseline, the oldest baseline value drops.
    fn push(&mut self, events: u64) {
        self.values.push_back(events);
        self.stats.recent_sum += events;
        if self.values.len() > self.recent {
            let moved = self.values[self.values.len() - 1 - self.recent];
            self.stats.recent_sum -= moved;
            self.stats.base_sum += moved;
        }
        if self.values.len() > self.recent + self.baseline
            && let Some(old) = self.values.pop_front()
        {
            self.stats.base_sum -= old;
        }
        let len = self.values.len();
        self.stats.recent_n = len.min(self.recent) as u32;
        self.stats.base_n = (len - len.min(self.recent)) as u32;
    }
}

/// Evaluates every date from `from` to `to` (inclusive) and returns the non-green ones, ascending. Equal, date
/// for date, to calling [`assess`](crate::absence::assess) (a property test holds it to that).
pub fn backtest(
    input: &AbsenceInput<'_>,
    policy: &Policy,
    from: NaiveDate,
    to: NaiveDate,
) -> Vec<(NaiveDate, Assessment)> {
    let mut out = Vec::new();
    if from > to {
        return out;
    }
    let schedule = &input.schedule;
    let hire = schedule.hire_date();
    let before = from.pred_opt();

    let mut streak = before.map_or_else(Streak::default, |b| streak_at(input, b));
    let mut windows: Vec<VecDeque<NaiveDate>> = policy
        .cumulative
        .iter()
        .map(|rule| match before {
            Some(b) => schedule
                .scheduled_days(window_start(from, rule.window_days), b)
                .filter(|d| !input.is_accounted(*d))
                .collect(),
            None => VecDeque::new(),
        })
        .collect();
    let mut activity = ActivityWindow::new(policy.activity.recent_days, policy.activity.baseline_days);
    if let Some(b) = before {
        let cap = activity.recent + activity.baseline;
        let mut seed: Vec<NaiveDate> =
            schedule.scheduled_days(hire, b).rev().filter(|d| activity_eligible(input, *d)).take(cap).collect();
        seed.reverse();
        for day in seed {
            activity.push(input.events(day));
        }
    }

    for day in from.iter_days().take_while(|d| *d <= to) {
        if schedule.is_scheduled(day) {
            if input.is_accounted(day) {
                streak = Streak { count: 0, first: None, before: Some(day) };
            } else {
                streak.count += 1;
                streak.first.get_or_insert(day);
                for window in &mut windows {
                    window.push_back(day);
                }
            }
            if activity_eligible(input, day) {
                activity.push(input.events(day));
            }
        }
        for (window, rule) in windows.iter_mut().zip(&policy.cumulative) {
            let start = window_start(day, rule.window_days);
            while window.front().is_some_and(|d| *d < start) {
                window.pop_front();
            }
        }
        if !schedule.is_employed_on(day) {
            continue;
        }
        if rule_hits(policy, streak.count, windows.iter().map(VecDeque::len), &activity.stats).is_empty() {
            continue;
        }
        let dates: Vec<Vec<NaiveDate>> = windows.iter().map(|w| w.iter().copied().collect()).collect();
        out.push((day, conclude(input, policy, day, &streak, &dates, &activity.stats)));
    }
    out
}
