//! The risk board (the HR morning page) and one alert opened, with contact logging, dismissal and
//! escalation. Managers see their own subtree only.
#![allow(clippy::too_many_arguments)]

use super::*;
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use lizhi_app::risk_board::{self, Action, BoardQuery};

/// Query of the board and the detail page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct RiskParams {
    as_of: Option<String>,
    legal_entity: Option<String>,
    org_unit: Option<String>,
    dismissed: Option<String>,
}

/// Default date: yesterday in Shanghai time, so the board shows complete days (the scan counts a
/// day through its end).
fn default_as_of(s: &AppState) -> NaiveDate {
    let today = s.app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).date_naive();
    today.pred_opt().unwrap_or(today)
}

fn as_of(s: &AppState, raw: Option<&str>) -> NaiveDate {
    raw.and_then(|r| NaiveDate::parse_from_str(r, "%Y-%m-%d").ok()).unwrap_or_else(|| default_as_of(s))
}

fn rules_label(l: Locale, a: &lizhi_core::absence::Assessment) -> String {
    a.rules.iter().map(|r| i18n::t(l, &format!("rule-{}", r.rule.code()))).collect::<Vec<_>>().join(", ")
}

/// Yellow rows shown before the list is cut (all reds always show); filters narrow it.
const YELLOW_SHOWN: usize = 200;

/// When and how an entity's part of the board was computed, in words.
fn source_line(l: Locale, source: &risk_board::BoardSource) -> String {
    match &source.scan {
        Some(scan) => {
            let at = scan.finished_at.unwrap_or(scan.started_at).with_timezone(&chrono_tz::Asia::Shanghai);
            i18n::t_args(
                l,
                &format!("risk-source-{}", scan.origin),
                &[("as_of", &scan.as_of.to_string()), ("at", &at.format("%Y-%m-%d %H:%M").to_string())],
            )
        }
        None => i18n::t_args(l, "risk-source-live", &[("as_of", &source.as_of.to_string())]),
    }
}

/// The board: red and yellow episodes of the latest scans (or of a chosen day).
pub async fn risk_board(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<RiskParams>,
) -> Response {
    let c = ctx(&caller, &rid);
    let day = p.as_of.as_deref().and_then(|r| NaiveDate::parse_from_str(r, "%Y-%m-%d").ok());
    let query = BoardQuery {
        legal_entity: p.legal_entity.clone().filter(|v| !v.is_empty()),
        org_unit: p.org_unit.clone().filter(|v| !v.is_empty()),
        include_dismissed: p.dismissed.as_deref() == Some("1"),
        explanations: false,
    };
    let board = match risk_board::board(&s.app, &c, day, &query).await {
        Ok(board) => board,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let items = &board.items;
    let entities = people::list_entities(&s.app, &c).await.unwrap_or_default();
    let units = people::list_org_units(&s.app, &c).await.unwrap_or_default();
    let sel = |v: &Option<String>, code: &str| v.as_deref() == Some(code);
    let row = |i: &risk_board::BoardItem| RiskRow {
        as_of: i.finding.date.to_string(),
        employee_no: i.finding.employee_no.clone(),
        name: i.finding.name.clone(),
        org_unit: i.finding.org_unit.clone(),
        days: i.finding.assessment.consecutive_absent_workdays,
        since: i.finding.assessment.first_absent_date.map(|d| d.to_string()).unwrap_or_default(),
        rules: rules_label(l, &i.finding.assessment),
        status: i18n::t(l, &format!("risk-status-{}", i.status)),
        contacts: i.contacts,
    };
    let red: Vec<RiskRow> = items.iter().filter(|i| risk_board::is_red(i)).map(row).collect();
    let yellow_total = items.len() - red.len();
    let yellow: Vec<RiskRow> = items.iter().filter(|i| !risk_board::is_red(i)).take(YELLOW_SHOWN).map(row).collect();
    let hidden = yellow_total - yellow.len();
    let can_scan = caller.principal.can(Permission::ActOnRisk);
    render(&RiskPage {
        chrome: chrome(l, Some(&caller), "risk-title", "/risk"),
        as_of: day.map(|d| d.to_string()).unwrap_or_default(),
        sources: board
            .sources
            .iter()
            .map(|src| (src.legal_entity.clone(), src.as_of.to_string(), source_line(l, src), src.scan.is_none()))
            .collect(),
        can_scan,
        hidden: if hidden > 0 {
            i18n::t_args(l, "risk-more-yellow", &[("count", &hidden.to_string())])
        } else {
            String::new()
        },
        entities: entities.iter().map(|e| (e.code.clone(), e.name.clone(), sel(&p.legal_entity, &e.code))).collect(),
        units: units
            .iter()
            .map(|u| {
                (u.code.clone(), format!("{}{}", "· ".repeat(u.depth as usize), u.name), sel(&p.org_unit, &u.code))
            })
            .collect(),
        dismissed: query.include_dismissed,
        empty: items.is_empty(),
        sections: vec![("red", i18n::t(l, "risk-red"), red), ("yellow", i18n::t(l, "risk-yellow"), yellow)],
    })
}

/// The explanation as sentences, shortened for people: weekends are left out, and a long run of
/// missing days shows its first and last days around a count (the full list stays in the API).
fn readable_facts(l: Locale, facts: &[lizhi_core::absence::Fact]) -> Vec<String> {
    use lizhi_core::absence::Fact;
    use lizhi_core::calendar::NotScheduledReason;
    const KEEP: usize = 3;
    let shown: Vec<&Fact> = facts
        .iter()
        .filter(|f| !matches!(f, Fact::NotScheduled { reason: NotScheduledReason::WeeklyRestDay, .. }))
        .collect();
    let missing: Vec<usize> =
        shown.iter().enumerate().filter(|(_, f)| matches!(f, Fact::MissingOn { .. })).map(|(i, _)| i).collect();
    // Everything between the first KEEP and the last KEEP missing days folds into one line.
    let folded = (missing.len() > 2 * KEEP + 2).then(|| (missing[KEEP], missing[missing.len() - KEEP - 1]));
    let mut out = Vec::new();
    for (i, fact) in shown.iter().enumerate() {
        match folded {
            Some((first, _)) if i == first => {
                out.push(i18n::t_args(l, "risk-more-missing", &[("count", &(missing.len() - 2 * KEEP).to_string())]))
            }
            Some((first, last)) if i > first && i <= last => {}
            _ => out.push(i18n::describe_fact(l, fact)),
        }
    }
    out
}

fn labelled(l: Locale, prefix: &str, codes: &[&'static str]) -> Vec<(&'static str, String)> {
    codes.iter().map(|c| (*c, i18n::t(l, &format!("{prefix}-{c}")))).collect()
}

/// One alert: explanation, what was done, the last 60 days, and the action forms.
pub async fn risk_detail(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
    Query(p): Query<RiskParams>,
) -> Response {
    let day = as_of(&s, p.as_of.as_deref());
    let d = match risk_board::detail(&s.app, &ctx(&caller, &rid), &no, day).await {
        Ok(d) => d,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let (channels, outcomes, reasons) = risk_board::choices();
    let level = d.finding.as_ref().map(|f| {
        let code = f.assessment.level.code();
        (code, i18n::t(l, &format!("level-{code}")))
    });
    let facts = d.finding.as_ref().map(|f| readable_facts(l, &f.assessment.explanation)).unwrap_or_default();
    let actions = d
        .actions
        .iter()
        .map(|a| {
            let what = i18n::t(l, &format!("action-{}", a.kind));
            let mut details: Vec<String> = Vec::new();
            if let Some(c) = &a.channel {
                details.push(i18n::t(l, &format!("channel-{c}")));
            }
            if let Some(o) = &a.outcome {
                details.push(i18n::t(l, &format!("outcome-{o}")));
            }
            if let Some(r) = &a.reason {
                details.push(i18n::t(l, &format!("reason-{r}")));
            }
            if let Some(n) = &a.note {
                details.push(format!("“{n}”"));
            }
            let when = a.happened_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M");
            (what, details.join(" · "), format!("{} · {} · {}", a.actor, when, a.episode_start))
        })
        .collect();
    let timeline = d
        .timeline
        .iter()
        .map(|t| {
            let excused = t.leave.as_ref().is_some_and(|(_, status)| status == "approved");
            let class = if t.scheduled && !t.punched && !excused {
                "missing"
            } else if !t.scheduled {
                "off"
            } else {
                ""
            };
            TimelineRow {
                date: t.date.format("%m-%d %a").to_string(),
                class,
                scheduled: if t.scheduled { "●" } else { "" },
                punched: if t.punched { "✓" } else { "" },
                leave: t.leave.as_ref().map(|(k, st)| format!("{k} ({st})")).unwrap_or_default(),
                activity: if t.activity > 0 { t.activity.to_string() } else { String::new() },
            }
        })
        .collect();
    let now_local = s.app.clock.now().with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%dT%H:%M").to_string();
    let mut chrome = chrome(l, Some(&caller), "risk-title", "/risk");
    chrome.title = d.employee.name.clone();
    render(&RiskDetailPage {
        chrome,
        as_of: day.to_string(),
        employee_no: d.employee.employee_no.clone(),
        name: d.employee.name.clone(),
        org_unit: d.employee.org_unit_name.clone(),
        rules: d.finding.as_ref().map(|f| rules_label(l, &f.assessment)).unwrap_or_default(),
        level,
        facts,
        actions,
        can_act: caller.principal.can(Permission::ActOnRisk),
        can_open_case: caller.principal.can(Permission::WorkCases),
        episode: d.finding.as_ref().map(|f| f.assessment.first_absent_date.unwrap_or(f.date).to_string()),
        now_local,
        channels: labelled(l, "channel", channels),
        outcomes: labelled(l, "outcome", outcomes),
        reasons: labelled(l, "reason", reasons),
        timeline,
    })
}

/// Records a contact attempt, a dismissal or an escalation, then shows the alert again.
pub async fn risk_act(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let note = Some(f("note"));
    let Ok(episode) = NaiveDate::parse_from_str(&f("episode"), "%Y-%m-%d") else {
        return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "invalid_date");
    };
    let action = match f("kind").as_str() {
        "contact" => {
            // The form sends local time without an offset; the operator works in the entity's zone.
            let at = NaiveDateTime::parse_from_str(&f("at"), "%Y-%m-%dT%H:%M")
                .ok()
                .and_then(|t| chrono_tz::Asia::Shanghai.from_local_datetime(&t).single())
                .map(|t| t.with_timezone(&chrono::Utc));
            let Some(at) = at else {
                return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "invalid_date");
            };
            Action::Contact { channel: f("channel"), outcome: f("outcome"), at, note }
        }
        "dismiss" => Action::Dismiss { reason: f("reason"), note },
        "escalate" => Action::Escalate { note },
        _ => return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
    };
    match risk_board::act(&s.app, &ctx(&caller, &rid), &no, episode, action).await {
        Ok(()) => Redirect::to(&format!("/risk/{}?as_of={}", url_encode(&no), url_encode(&f("as_of")))).into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// Scans one legal entity now (as of the posted day, or its last complete day) and shows the board.
pub async fn risk_scan(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let day = NaiveDate::parse_from_str(&f("as_of"), "%Y-%m-%d").ok();
    match lizhi_app::risk_scan::scan_now(&s.app, &ctx(&caller, &rid), &f("legal_entity"), day).await {
        Ok(scan) => Redirect::to(&format!("/risk?as_of={}", scan.as_of)).into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}
