//! Connector administration: register and change the systems Lizhi acts on (the secret field is
//! write-only: left empty it keeps the stored secret, which is never shown), test a connection, and operate
//! the outbox (deliveries with their log, access actions that need attention, retry).

use super::*;
use lizhi_app::outbox::DeliveryFilter;
use serde::Deserialize;

/// One connector as the page lists it.
pub struct ConnectorLine {
    pub code: String,
    pub kind: String,
    pub kind_label: String,
    pub name: String,
    pub settings: String,
    pub has_secret: bool,
    pub revoke_order: i32,
    pub enabled: bool,
}

/// The connectors page.
#[derive(Template)]
#[template(path = "connectors.html")]
pub struct ConnectorsPage {
    pub chrome: Chrome,
    pub connectors: Vec<ConnectorLine>,
    pub kinds: Vec<(&'static str, String)>,
    /// A test's outcome or a saved change: (success, text).
    pub flash: Option<(bool, String)>,
}

async fn connectors_page(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    flash: Option<(bool, String)>,
) -> Response {
    let list = match lizhi_app::connectors::list(&s.app, &ctx(caller, rid)).await {
        Ok(list) => list,
        Err(e) => return app_error_page(e, l, caller),
    };
    let connectors = list
        .into_iter()
        .map(|k| ConnectorLine {
            kind_label: i18n::t(l, &format!("connector-kind-{}", k.kind)),
            settings: serde_json::to_string_pretty(&k.settings).unwrap_or_default(),
            code: k.code,
            kind: k.kind,
            name: k.name,
            has_secret: k.has_secret,
            revoke_order: k.revoke_order,
            enabled: k.enabled,
        })
        .collect();
    let kinds = lizhi_core::connector::ConnectorKind::ALL
        .iter()
        .map(|k| (k.name(), i18n::t(l, &format!("connector-kind-{}", k.name()))))
        .collect();
    render(&ConnectorsPage {
        chrome: chrome(l, Some(caller), "connectors-title", "/connectors"),
        connectors,
        kinds,
        flash,
    })
}

/// `GET /connectors`.
pub async fn connectors(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    connectors_page(&s, l, &caller, &rid, None).await
}

/// `POST /connectors`: creates or changes the connector named by the form's `code`.
pub async fn connector_save(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let code = f("code");
    let raw = f("settings");
    let raw = if raw.trim().is_empty() { "{}".to_owned() } else { raw };
    let settings = match serde_json::from_str::<serde_json::Value>(&raw) {
        Ok(serde_json::Value::Object(map)) => map,
        _ => {
            return connectors_page(&s, l, &caller, &rid, Some((false, i18n::t(l, "connectors-settings-invalid"))))
                .await;
        }
    };
    let secret = f("secret");
    let input = lizhi_app::connectors::ConnectorInput {
        kind: f("kind"),
        name: f("name"),
        settings,
        secret: (!secret.is_empty()).then_some(secret),
        revoke_order: f("revoke_order").trim().parse().ok(),
        enabled: Some(f("enabled") == "yes"),
    };
    let flash = match crate::api_connectors::save(&s.app, &ctx(&caller, &rid), &code, &input).await {
        Ok(_) => (true, i18n::t_args(l, "connectors-saved", &[("code", &code)])),
        Err(e) => {
            let error = ApiError::from_app(e, l);
            let details: Vec<String> = error
                .details
                .iter()
                .filter_map(|d| d.get("value").and_then(|v| v.as_str()).map(str::to_owned))
                .collect();
            (false, format!("{} {}", error.message(), details.join("; ")).trim().to_owned())
        }
    };
    connectors_page(&s, l, &caller, &rid, Some(flash)).await
}

/// `POST /connectors/{code}/test`: tests the stored settings and secret and shows the outcome.
pub async fn connector_test(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(code): Path<String>,
) -> Response {
    let flash = match crate::api_outbox::test_connection(&s.app, &ctx(&caller, &rid), &code).await {
        Ok(Ok(what)) => (true, i18n::t_args(l, "connectors-test-ok", &[("code", &code), ("checked", &what)])),
        Ok(Err((error, message))) => (
            false,
            i18n::t_args(l, "connectors-test-failed", &[("code", &code), ("error", &error), ("message", &message)]),
        ),
        Err(e) => return app_error_page(e, l, &caller),
    };
    connectors_page(&s, l, &caller, &rid, Some(flash)).await
}

/// One delivery as the outbox page lists it.
pub struct DeliveryLine {
    pub id: i64,
    pub channel: String,
    pub recipient: String,
    pub event: String,
    pub status: String,
    pub status_label: String,
    pub attempts: i64,
    pub next_attempt_at: String,
    pub last_error: String,
    pub case_id: Option<i64>,
    pub retryable: bool,
}

fn delivery_line(l: Locale, r: lizhi_app::outbox::DeliveryView) -> DeliveryLine {
    DeliveryLine {
        id: r.id,
        event: lizhi_app::events::subject_of_key(&r.idempotency_key).to_owned(),
        status_label: i18n::t(l, &format!("outbox-status-{}", r.status)),
        retryable: matches!(r.status.as_str(), "failed" | "completed" | "completed_with_errors" | "canceled"),
        next_attempt_at: if r.status == "queued" {
            r.next_attempt_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()
        } else {
            String::new()
        },
        channel: r.channel,
        recipient: r.recipient,
        status: r.status,
        attempts: r.attempts,
        last_error: r.last_error.unwrap_or_default(),
        case_id: r.case_id,
    }
}

/// One access action that needs attention.
pub struct ActionLine {
    pub id: i64,
    pub case_id: Option<i64>,
    pub system: String,
    pub account: String,
    pub intent: String,
    pub status_label: String,
    pub last_error: String,
}

/// The outbox page.
#[derive(Template)]
#[template(path = "outbox.html")]
pub struct OutboxPage {
    pub chrome: Chrome,
    pub rows: Vec<DeliveryLine>,
    pub actions: Vec<ActionLine>,
    pub channel: String,
    pub status: String,
    pub channels: Vec<&'static str>,
    pub statuses: Vec<(&'static str, String)>,
}

/// Filters of `GET /outbox`.
#[derive(Debug, Deserialize)]
pub struct OutboxFilter {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    status: String,
}

const STATUSES: [&str; 6] = ["queued", "in_progress", "completed", "completed_with_errors", "failed", "canceled"];

/// `GET /outbox`: deliveries (filtered by channel and status) and the access actions that need attention.
pub async fn outbox(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<OutboxFilter>,
) -> Response {
    let c = ctx(&caller, &rid);
    let some = |v: &str| (!v.trim().is_empty()).then(|| v.trim().to_owned());
    let filter = DeliveryFilter { channel: some(&q.channel), status: some(&q.status), case_id: None, limit: 200 };
    let (rows, actions) = match tokio::try_join!(
        lizhi_app::outbox::list(&s.app, &c, &filter),
        lizhi_app::outbox::needing_attention(&s.app, &c, 100)
    ) {
        Ok(both) => both,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let rows = rows.into_iter().map(|r| delivery_line(l, r)).collect();
    let actions = actions
        .into_iter()
        .map(|a| ActionLine {
            id: a.id,
            case_id: a.case_id,
            system: a.connector_name,
            account: a.account_id,
            intent: i18n::t(l, &format!("access-intent-{}", a.intent)),
            status_label: i18n::t(l, &format!("access-status-{}", a.status)),
            last_error: a.last_error.unwrap_or_default(),
        })
        .collect();
    render(&OutboxPage {
        chrome: chrome(l, Some(&caller), "outbox-title", "/connectors"),
        rows,
        actions,
        channel: q.channel,
        status: q.status,
        channels: vec!["webhook", "wecom", "wecom_update", "email"],
        statuses: STATUSES.iter().map(|s| (*s, i18n::t(l, &format!("outbox-status-{s}")))).collect(),
    })
}

/// The page of one delivery with its log.
#[derive(Template)]
#[template(path = "delivery.html")]
pub struct DeliveryPage {
    pub chrome: Chrome,
    pub row: DeliveryLine,
    pub key: String,
    pub evidence: String,
    /// (attempt, started, outcome, HTTP status, ms, detail).
    pub attempts: Vec<(i64, String, String, String, i64, String)>,
}

/// `GET /outbox/{id}`: one delivery and every attempt.
pub async fn delivery(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    let (r, attempts) = match lizhi_app::outbox::detail(&s.app, &ctx(&caller, &rid), id).await {
        Ok(found) => found,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let pretty = |raw: &str| {
        serde_json::from_str::<serde_json::Value>(raw)
            .ok()
            .and_then(|v| serde_json::to_string_pretty(&v).ok())
            .unwrap_or_else(|| raw.to_owned())
    };
    render(&DeliveryPage {
        chrome: chrome(l, Some(&caller), "outbox-delivery-title", "/connectors"),
        key: r.idempotency_key.clone(),
        evidence: r.evidence.as_deref().map(pretty).unwrap_or_default(),
        attempts: attempts
            .into_iter()
            .map(|a| {
                (
                    a.attempt,
                    a.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                    i18n::t(l, &format!("outbox-outcome-{}", a.outcome)),
                    a.http_status.map(|s| s.to_string()).unwrap_or_default(),
                    a.duration_ms,
                    a.detail.as_deref().map(pretty).unwrap_or_default(),
                )
            })
            .collect(),
        row: delivery_line(l, r),
    })
}

/// `POST /outbox/{id}/retry`: queues a delivery again and returns to the outbox.
pub async fn delivery_retry(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    match lizhi_app::outbox::retry_delivery(&s.app, &ctx(&caller, &rid), id).await {
        Ok(()) => Redirect::to(&format!("/outbox/{id}")).into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// `POST /outbox/actions/{id}/retry`: queues an access action again and returns to the outbox.
pub async fn action_retry(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    match lizhi_app::outbox::retry_action(&s.app, &ctx(&caller, &rid), id).await {
        Ok(()) => Redirect::to("/outbox").into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}
