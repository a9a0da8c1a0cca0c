//! Server-rendered pages, one module per area, sharing the frame, errors and cookies defined here.
//! They work without JavaScript; app.js only adds live search.
// Axum handlers take one argument per extractor; the count is the request shape, not a smell.
#![allow(clippy::too_many_arguments)]

mod access;
mod admin;
mod cases;
mod connectors;
mod data;
mod directory;
mod messages;
mod risk;
mod risk_trial;
mod session;

pub use access::{case_access_request, case_access_table};
pub use admin::{audit, user_create, user_disabled, user_password, user_roles, user_token, users};
pub use cases::{
    case_act, case_decide, case_detail, case_document, case_open, cases_board, checklist_update, document_download,
};
pub use connectors::{action_retry, connector_save, connector_test, connectors, delivery, delivery_retry, outbox};
pub use data::{export_download, import_commit, import_preview, import_upload, imports};
pub use directory::{
    employee_detail, employee_edit_form, employee_edit_submit, employee_new_form, employee_new_submit, employees, home,
    org_tree,
};
pub use messages::{alumni, messages, messages_read};
pub use risk::{risk_act, risk_board, risk_detail, risk_scan};
pub use risk_trial::risk_trial;
pub use session::{account, account_password, login_form, login_submit, logout, set_locale};

use crate::caller::{Caller, LOCALE_COOKIE, LOGIN_CSRF_COOKIE, Lang, SESSION_COOKIE, Via, cookie};
use crate::error::ApiError;
use crate::middleware::{RequestId, form_pairs, token_eq};
use crate::views::*;
use crate::{AppState, WebConfig};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Extension, Multipart, Path, Query, State};
use axum::http::header::{CONTENT_TYPE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use lizhi_app::i18n::{self, Locale};
use lizhi_app::import::{self, ImportKind};
use lizhi_app::people;
use lizhi_app::{AppError, Ctx, auth};
use lizhi_core::auth::{Grant, Permission, Role};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;

pub(super) const CSS: &str = include_str!("../../assets/app.css");

pub(super) const JS: &str = include_str!("../../assets/app.js");

/// Percent-encodes a value for a query string.
pub fn url_encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Only same-site relative paths may be redirect targets (no `//evil`).
pub(super) fn safe_path(raw: &str) -> String {
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') { raw.to_owned() } else { "/".to_owned() }
}

pub(super) fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub(super) fn chrome(locale: Locale, caller: Option<&Caller>, title_key: &str, path: &str) -> Chrome {
    let tr = Tr(locale);
    let mut nav = Vec::new();
    if let Some(c) = caller {
        let items: [(&'static str, &str, Option<Permission>); 10] = [
            ("/messages", "nav-messages", None),
            ("/risk", "nav-risk", Some(Permission::ViewRisk)),
            ("/cases", "nav-cases", Some(Permission::ViewCases)),
            ("/employees", "nav-employees", Some(Permission::ViewEmployees)),
            ("/org", "nav-org", Some(Permission::ViewOrg)),
            ("/alumni", "nav-alumni", Some(Permission::ViewEmployees)),
            ("/imports", "nav-imports", Some(Permission::ImportData)),
            ("/users", "nav-users", Some(Permission::ManageUsers)),
            ("/connectors", "nav-connectors", Some(Permission::ManageUsers)),
            ("/audit", "nav-audit", Some(Permission::ViewAudit)),
        ];
        for (href, key, perm) in items {
            if perm.is_none_or(|p| c.principal.can(p)) {
                nav.push(NavItem { href, label: tr.t(key), active: path.starts_with(href) });
            }
        }
    }
    Chrome {
        tr,
        lang: locale.tag(),
        title: tr.t(title_key),
        user: caller.map(|c| c.user.display_name.clone()),
        csrf: caller.map(|c| c.csrf().to_owned()).unwrap_or_default(),
        nav,
        path: path.to_owned(),
    }
}

/// A translated error page.
pub fn error_page(locale: Locale, caller: Option<&Caller>, status: StatusCode, code: &str) -> Response {
    let mut c = chrome(locale, caller, "error-title", "/");
    c.title = i18n::t(locale, "error-title");
    let page = ErrorPage { chrome: c, message: i18n::error_message(locale, code, None, None) };
    (status, render(&page)).into_response()
}

pub(super) fn app_error_page(e: AppError, locale: Locale, caller: &Caller) -> Response {
    let api = ApiError::from_app(e, locale);
    error_page(locale, Some(caller), api.status, &api.code)
}

pub(super) fn ctx(caller: &Caller, rid: &RequestId) -> Ctx {
    Ctx::user(caller.principal.clone(), rid.0.clone())
}

pub(super) fn cookie_header(
    config: &WebConfig,
    name: &str,
    value: &str,
    path: &str,
    max_age: Option<i64>,
    same_site: &str,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if config.secure_cookies() {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The stylesheet.
pub async fn css() -> Response {
    ([(CONTENT_TYPE, "text/css; charset=utf-8"), (axum::http::header::CACHE_CONTROL, "public, max-age=3600")], CSS)
        .into_response()
}

/// The script.
pub async fn js() -> Response {
    (
        [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (axum::http::header::CACHE_CONTROL, "public, max-age=3600")],
        JS,
    )
        .into_response()
}

/// No icon (browsers ask for one even on JSON responses); an empty answer instead of a 404.
pub async fn favicon() -> Response {
    ([(axum::http::header::CACHE_CONTROL, "public, max-age=86400")], StatusCode::NO_CONTENT).into_response()
}

/// 404 for unknown paths.
pub async fn not_found(Lang(l): Lang, caller: Option<Extension<Caller>>, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", l).into_response();
    }
    error_page(l, caller.as_ref().map(|c| &c.0), StatusCode::NOT_FOUND, "not_found")
}

pub(super) fn form(body: &Bytes) -> impl Fn(&str) -> String + '_ {
    let pairs = form_pairs(body);
    move |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

pub(super) fn roles_label(l: Locale, grants: &[Grant]) -> String {
    grants.iter().map(|g| i18n::t(l, &format!("role-{}", g.role.name()))).collect::<Vec<_>>().join(", ")
}
