//! The trial-run page (试运行): pick a profile, adjust its absence thresholds, and see per week how
//! many alerts the candidate would have raised next to the policies in force.

use super::*;
use chrono::{Datelike, Days, NaiveDate};
use lizhi_core::absence::Level;
use lizhi_core::policy::{CumulativeRule, Policy};
use lizhi_core::values::PolicyProfile;

/// The form: the range, the entity, the base profile and the thresholds a trial usually tunes.
/// Blank fields keep the profile's value.
#[derive(Debug, serde::Deserialize, Default)]
pub struct TrialParams {
    legal_entity: Option<String>,
    from: Option<String>,
    to: Option<String>,
    profile: Option<String>,
    yellow_from: Option<String>,
    consecutive_red: Option<String>,
    cumulative_days: Option<String>,
    cumulative_window: Option<String>,
    activity: Option<String>,
    recent_days: Option<String>,
    baseline_days: Option<String>,
    drop_percent: Option<String>,
    min_baseline: Option<String>,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// A number field (`None` when blank), or `invalid_number`.
fn number<T: std::str::FromStr>(v: &Option<String>) -> Result<Option<T>, &'static str> {
    given(v).map(|raw| raw.parse().map_err(|_| "invalid_number")).transpose()
}

/// The candidate: the profile's defaults with the form's values on top.
fn candidate(p: &TrialParams, profile: PolicyProfile, submitted: bool) -> Result<Policy, &'static str> {
    let mut policy = Policy::defaults(profile);
    if let Some(n) = number(&p.yellow_from)? {
        policy.yellow_from = n;
    }
    if let Some(n) = number(&p.consecutive_red)? {
        policy.consecutive_red = n;
    }
    let days: Option<u32> = number(&p.cumulative_days)?;
    let window: Option<u32> = number(&p.cumulative_window)?;
    if days.is_some() || window.is_some() {
        let base =
            policy.cumulative.first().cloned().unwrap_or(CumulativeRule { days: 0, window_days: 0, level: Level::Red });
        let rule =
            CumulativeRule { days: days.unwrap_or(base.days), window_days: window.unwrap_or(base.window_days), ..base };
        match policy.cumulative.first_mut() {
            Some(first) => *first = rule,
            None => policy.cumulative.push(rule),
        }
    }
    // An unticked checkbox is absent: only a submitted form can switch the rule off.
    if submitted {
        policy.activity.enabled = p.activity.as_deref() == Some("1");
    }
    if let Some(n) = number(&p.recent_days)? {
        policy.activity.recent_days = n;
    }
    if let Some(n) = number(&p.baseline_days)? {
        policy.activity.baseline_days = n;
    }
    if let Some(n) = number::<f64>(&p.drop_percent)? {
        policy.activity.drop_ratio = n / 100.0;
    }
    if let Some(n) = number(&p.min_baseline)? {
        policy.activity.min_baseline_per_day = n;
    }
    policy.validate().map_err(|e| e.code())?;
    Ok(policy)
}

/// The trial-run form and, once submitted, the weekly counts.
pub async fn risk_trial(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<TrialParams>,
) -> Response {
    let c = ctx(&caller, &rid);
    let entities = people::list_entities(&s.app, &c).await.unwrap_or_default();
    let entity = given(&p.legal_entity).and_then(|code| entities.iter().find(|e| e.code == code));
    let profile = given(&p.profile)
        .and_then(|raw| PolicyProfile::parse(raw).ok())
        .or_else(|| entity.and_then(|e| PolicyProfile::parse(&e.policy).ok()))
        .unwrap_or(PolicyProfile::CnDefault);
    let yesterday = {
        let today = s.app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
        today.pred_opt().unwrap_or(today)
    };
    // Default range: the last eight whole weeks up to yesterday.
    let default_from = yesterday
        .checked_sub_days(Days::new(u64::from(yesterday.weekday().num_days_from_monday()) + 49))
        .unwrap_or(yesterday);
    let date = |v: &Option<String>, fallback: NaiveDate| {
        given(v).map_or(Ok(fallback), |raw| NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| "invalid_date"))
    };
    let submitted = given(&p.from).is_some();
    let mut error = None;
    let mut weeks = Vec::new();
    let (from, to) = match (date(&p.from, default_from), date(&p.to, yesterday)) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(code), _) | (_, Err(code)) => {
            error = Some(code);
            (default_from, yesterday)
        }
    };
    let policy = candidate(&p, profile, submitted).map_err(|code| error = error.or(Some(code))).ok();
    if let (true, None, Some(policy)) = (submitted, error, policy.clone()) {
        match lizhi_app::risk_trial::trial(&s.app, &c, from, to, entity.map(|e| e.code.clone()), policy).await {
            Ok(run) => weeks = run.weeks,
            Err(AppError::Invalid { code, .. }) => error = Some(code),
            Err(e) => return app_error_page(e, l, &caller),
        }
    }
    let shown = policy.unwrap_or_else(|| Policy::defaults(profile));
    let totals = weeks.iter().fold([0usize; 4], |t, w| {
        [t[0] + w.current.alerts, t[1] + w.current.red, t[2] + w.candidate.alerts, t[3] + w.candidate.red]
    });
    let cumulative = shown.cumulative.first();
    render(&RiskTrialPage {
        chrome: chrome(l, Some(&caller), "risk-trial-title", "/risk"),
        error: error.map(|code| i18n::t(l, &format!("error-{code}"))).unwrap_or_default(),
        entities: entities
            .iter()
            .map(|e| (e.code.clone(), e.name.clone(), entity.is_some_and(|x| x.code == e.code)))
            .collect(),
        profiles: PolicyProfile::ALL.iter().map(|pr| (pr.name(), *pr == profile)).collect(),
        from: from.to_string(),
        to: to.to_string(),
        yellow_from: shown.yellow_from,
        consecutive_red: shown.consecutive_red,
        cumulative_days: cumulative.map(|r| r.days.to_string()).unwrap_or_default(),
        cumulative_window: cumulative.map(|r| r.window_days.to_string()).unwrap_or_default(),
        activity: shown.activity.enabled,
        recent_days: shown.activity.recent_days,
        baseline_days: shown.activity.baseline_days,
        drop_percent: format!("{}", (shown.activity.drop_ratio * 100.0).round()),
        min_baseline: format!("{}", shown.activity.min_baseline_per_day),
        ran: submitted && error.is_none(),
        weeks: weeks
            .iter()
            .map(|w| {
                [
                    w.week_start.to_string(),
                    w.current.alerts.to_string(),
                    w.current.red.to_string(),
                    w.candidate.alerts.to_string(),
                    w.candidate.red.to_string(),
                ]
            })
            .collect(),
        totals: totals.map(|n| n.to_string()),
    })
}
