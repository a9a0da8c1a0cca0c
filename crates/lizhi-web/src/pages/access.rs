//! The case page's access section: one row per system and intent with its status and the read-back's
//! verdict, the one-click request (confirmed by a tick box, no script needed), and a partial the page's
//! script reloads while actions are still pending, so progress shows live.

use super::*;
use lizhi_app::i18n::t;

/// One access action as the page shows it.
pub struct AccessLine {
    pub system: String,
    pub account: String,
    pub intent: String,
    pub status: String,
    pub status_label: String,
    pub verdict_label: String,
    pub attempts: i64,
    pub last_error: String,
}

/// One notice the case caused: (channel, event, target, status).
pub struct ToldLine {
    pub channel: String,
    pub event: String,
    pub target: String,
    pub status_label: String,
    pub problem: String,
}

/// The access table alone (reloaded live).
#[derive(Template)]
#[template(path = "access_table.html")]
pub struct AccessTable {
    pub chrome: Chrome,
    pub access: Vec<AccessLine>,
    pub access_pending: bool,
    pub told: Vec<ToldLine>,
}

/// Who the case's events were sent to, translated; empty when the caller may not see them.
pub(super) async fn told(s: &AppState, l: Locale, c: &lizhi_app::Ctx, case_id: i64) -> Vec<ToldLine> {
    let rows = lizhi_app::outbox::of_case(&s.app, c, case_id).await.unwrap_or_default();
    rows.into_iter()
        .map(|r| ToldLine {
            target: if r.channel == "wecom" {
                lizhi_app::i18n::t_args(l, "told-wecom-people", &[("count", &r.recipients.to_string())])
            } else {
                r.target
            },
            channel: r.channel,
            event: r.event,
            status_label: t(l, &format!("outbox-status-{}", r.status)),
            problem: r.last_error.unwrap_or_default(),
        })
        .collect()
}

/// The case's access actions, translated; empty when the caller may not see them.
pub(super) async fn lines(s: &AppState, l: Locale, c: &lizhi_app::Ctx, case_id: i64) -> Vec<AccessLine> {
    let rows = lizhi_app::access::matrix(&s.app, c, case_id).await.unwrap_or_default();
    rows.into_iter()
        .map(|r| AccessLine {
            system: r.connector_name,
            account: r.account_id,
            intent: t(l, &format!("access-intent-{}", r.intent)),
            status_label: t(l, &format!("access-status-{}", r.status)),
            status: r.status,
            verdict_label: r.verdict.map(|v| t(l, &format!("access-verdict-{v}"))).unwrap_or_default(),
            attempts: r.attempts,
            last_error: r.last_error.unwrap_or_default(),
        })
        .collect()
}

/// Whether any action still waits for a worker.
pub(super) fn pending(lines: &[AccessLine]) -> bool {
    lines.iter().any(|l| matches!(l.status.as_str(), "queued" | "in_progress"))
}

/// `GET /cases/{id}/access`: the access table partial.
pub async fn case_access_table(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    let c = ctx(&caller, &rid);
    let access = lines(&s, l, &c, id).await;
    let access_pending = pending(&access);
    let told = told(&s, l, &c, id).await;
    render(&AccessTable { chrome: chrome(l, Some(&caller), "case-title", "/cases"), access, access_pending, told })
}

/// `POST /cases/{id}/access`: queues freeze or revoke on every account (the tick box confirms a revoke).
pub async fn case_access_request(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let get = form(&body);
    let intent = get("intent");
    let outcome = if intent == "revoke" && get("confirm") != "yes" {
        Err(AppError::invalid("confirm", "required"))
    } else {
        lizhi_app::access::request(&s.app, &ctx(&caller, &rid), id, &intent).await.map(|_| ())
    };
    super::cases::after_step(&s, l, &caller, &rid, id, outcome, "#access").await
}
