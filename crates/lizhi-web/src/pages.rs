//! Server-rendered pages. They work without JavaScript; app.js only adds live search.
// Axum handlers take one argument per extractor; the count is the request shape, not a smell.
#![allow(clippy::too_many_arguments)]

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

const CSS: &str = include_str!("../assets/app.css");
const JS: &str = include_str!("../assets/app.js");

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
fn safe_path(raw: &str) -> String {
    if raw.starts_with('/') && !raw.starts_with("//") && !raw.contains('\\') { raw.to_owned() } else { "/".to_owned() }
}

fn render<T: Template>(page: &T) -> Response {
    match page.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn chrome(locale: Locale, caller: Option<&Caller>, title_key: &str, path: &str) -> Chrome {
    let tr = Tr(locale);
    let mut nav = Vec::new();
    if let Some(c) = caller {
        let items: [(&'static str, &str, Option<Permission>); 5] = [
            ("/employees", "nav-employees", Some(Permission::ViewEmployees)),
            ("/org", "nav-org", Some(Permission::ViewOrg)),
            ("/imports", "nav-imports", Some(Permission::ImportData)),
            ("/users", "nav-users", Some(Permission::ManageUsers)),
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

fn app_error_page(e: AppError, locale: Locale, caller: &Caller) -> Response {
    let api = ApiError::from_app(e, locale);
    error_page(locale, Some(caller), api.status, &api.code)
}

fn ctx(caller: &Caller, rid: &RequestId) -> Ctx {
    Ctx::user(caller.principal.clone(), rid.0.clone())
}

fn cookie_header(
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

/// 404 for unknown paths.
pub async fn not_found(Lang(l): Lang, caller: Option<Extension<Caller>>, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        return ApiError::new(StatusCode::NOT_FOUND, "not_found", l).into_response();
    }
    error_page(l, caller.as_ref().map(|c| &c.0), StatusCode::NOT_FOUND, "not_found")
}

/// Query of the sign-in page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct NextParam {
    next: Option<String>,
}

fn login_page(
    state: &AppState,
    l: Locale,
    next: &str,
    username: &str,
    error: Option<String>,
    status: StatusCode,
) -> Response {
    let token = auth::new_secret("");
    let page = LoginPage {
        chrome: chrome(l, None, "login-title", "/login"),
        error,
        login_csrf: token.clone(),
        next: safe_path(next),
        username: username.to_owned(),
    };
    let mut res = (status, render(&page)).into_response();
    res.headers_mut()
        .append(SET_COOKIE, cookie_header(&state.config, LOGIN_CSRF_COOKIE, &token, "/login", Some(3600), "Strict"));
    res
}

/// The sign-in form (sets the double-submit CSRF cookie).
pub async fn login_form(
    State(state): State<AppState>,
    Lang(l): Lang,
    caller: Option<Extension<Caller>>,
    Query(q): Query<NextParam>,
) -> Response {
    if caller.is_some() {
        return Redirect::to("/").into_response();
    }
    login_page(&state, l, q.next.as_deref().unwrap_or("/"), "", None, StatusCode::OK)
}

/// Checks the credentials and opens a session.
pub async fn login_submit(
    State(state): State<AppState>,
    Lang(l): Lang,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let (username, password, next, token) = (field("username"), field("password"), field("next"), field("csrf"));
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if token.is_empty() || !token_eq(&token, cookie_token) {
        return login_page(
            &state,
            l,
            &next,
            &username,
            Some(i18n::error_message(l, "csrf", None, None)),
            StatusCode::FORBIDDEN,
        );
    }
    let client = connect.map(|c| c.0.0.ip().to_string()).unwrap_or_else(|| "local".into());
    match auth::sign_in(&state.app, &username, &password, &client).await {
        Ok(session) => {
            let mut res = Redirect::to(&safe_path(&next)).into_response();
            let max_age = auth::SESSION_TTL_HOURS * 3600;
            res.headers_mut().append(
                SET_COOKIE,
                cookie_header(&state.config, SESSION_COOKIE, &session.session_id, "/", Some(max_age), "Lax"),
            );
            res.headers_mut()
                .append(SET_COOKIE, cookie_header(&state.config, LOGIN_CSRF_COOKIE, "", "/login", Some(0), "Strict"));
            res
        }
        Err(e) => {
            state.metrics.failed_logins.fetch_add(1, Ordering::Relaxed);
            let api = ApiError::from_app(e, l);
            login_page(&state, l, &next, &username, Some(api.message()), api.status)
        }
    }
}

/// Ends the session.
pub async fn logout(State(state): State<AppState>, caller: Caller, Extension(rid): Extension<RequestId>) -> Response {
    if let Via::Session { session_id, .. } = &caller.via
        && let Err(e) = auth::sign_out(&state.app, &ctx(&caller, &rid), session_id).await
    {
        tracing::warn!(error = %e, "sign-out failed");
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().append(SET_COOKIE, cookie_header(&state.config, SESSION_COOKIE, "", "/", Some(0), "Lax"));
    res
}

/// Switches the language (remembered in a cookie, and on the account when signed in).
pub async fn set_locale(
    State(state): State<AppState>,
    caller: Option<Extension<Caller>>,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let field = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let locale = Locale::parse(&field("lang")).unwrap_or(Locale::En);
    if let Some(Extension(c)) = &caller
        && let Err(e) = auth::set_locale(&state.app, &ctx(c, &rid), locale.tag()).await
    {
        tracing::warn!(error = %e, "could not remember the language");
    }
    let mut res = Redirect::to(&safe_path(&field("back"))).into_response();
    res.headers_mut().append(
        SET_COOKIE,
        cookie_header(&state.config, LOCALE_COOKIE, locale.tag(), "/", Some(365 * 24 * 3600), "Lax"),
    );
    res
}

/// The start page: tiles for what the user may do.
pub async fn home(Lang(l): Lang, caller: Caller) -> Response {
    let c = chrome(l, Some(&caller), "home-title", "/");
    let tr = c.tr;
    let tiles: Vec<(&'static str, String, String)> = c
        .nav
        .iter()
        .map(|n| (n.href, n.label.clone(), tr.t(&format!("home-{}", n.href.trim_start_matches('/')))))
        .collect();
    render(&HomePage { chrome: c, tiles })
}

fn employee_rows(l: Locale, items: &[lizhi_core::model::Employee]) -> Vec<EmployeeRow> {
    items
        .iter()
        .map(|e| EmployeeRow {
            employee_no: e.employee_no.clone(),
            name: e.name.clone(),
            org_unit_name: e.org_unit_name.clone(),
            position: e.position.clone().unwrap_or_default(),
            status: e.status.name(),
            status_label: i18n::t(l, &format!("status-{}", e.status.name())),
        })
        .collect()
}

/// The employee list with filters and keyset pages; `?partial=1` returns only the table.
pub async fn employees(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<crate::api::ListParams>,
) -> Response {
    let ctx = ctx(&caller, &rid);
    let query = match p.to_query() {
        Ok(q) => q,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let page = match people::list_employees(&s.app, &ctx, &query).await {
        Ok(p) => p,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let base = {
        let mut parts = Vec::new();
        for (k, v) in [("q", &p.q), ("org_unit", &p.org_unit), ("legal_entity", &p.legal_entity), ("status", &p.status)]
        {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", url_encode(v)));
            }
        }
        parts.join("&")
    };
    let link = |cursor: &str, value: &str| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/employees?{base}{sep}{cursor}={}", url_encode(value))
    };
    let next_href = page.next_after.as_deref().map(|v| link("after", v));
    let prev_href = page.prev_before.as_deref().map(|v| link("before", v));
    let rows = employee_rows(l, &page.items);
    let c = chrome(l, Some(&caller), "employees-title", "/employees");
    if p_partial(&rid, &p) {
        return render(&EmployeesTable { chrome: c, rows, prev_href, next_href });
    }
    let entities = people::list_entities(&s.app, &ctx).await.unwrap_or_default();
    let units = people::list_org_units(&s.app, &ctx).await.unwrap_or_default();
    let sel = |v: &Option<String>, code: &str| v.as_deref() == Some(code);
    render(&EmployeesPage {
        chrome: c,
        total: page.total,
        q: p.q.clone().unwrap_or_default(),
        status: p.status.clone().unwrap_or_default(),
        entities: entities.iter().map(|e| (e.code.clone(), e.name.clone(), sel(&p.legal_entity, &e.code))).collect(),
        units: units
            .iter()
            .map(|u| {
                (u.code.clone(), format!("{}{}", "· ".repeat(u.depth as usize), u.name), sel(&p.org_unit, &u.code))
            })
            .collect(),
        rows,
        prev_href,
        next_href,
        can_edit: caller.principal.can(Permission::EditPeople),
    })
}

fn p_partial(_rid: &RequestId, p: &crate::api::ListParams) -> bool {
    p.partial.as_deref() == Some("1")
}

/// One employee.
pub async fn employee_detail(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> Response {
    let e = match people::get_employee(&s.app, &ctx(&caller, &rid), &no).await {
        Ok(e) => e,
        Err(err) => return app_error_page(err, l, &caller),
    };
    let tr = Tr(l);
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let mut facts = vec![
        (tr.t("field-employee_no"), e.employee_no.clone()),
        (tr.t("field-legal_entity"), e.legal_entity_code.clone()),
        (tr.t("field-org_unit"), format!("{} ({})", e.org_unit_name, e.org_unit_code)),
        (
            tr.t("field-manager"),
            match (&e.manager_name, &e.manager_no) {
                (Some(n), Some(no)) => format!("{n} ({no})"),
                _ => "—".into(),
            },
        ),
        (tr.t("field-position"), opt(&e.position)),
        (tr.t("field-hire_date"), e.hire_date.format("%Y-%m-%d").to_string()),
        (tr.t("field-status"), tr.t(&format!("status-{}", e.status.name()))),
        (tr.t("field-email"), opt(&e.email)),
        (tr.t("field-mobile"), opt(&e.mobile)),
        (tr.t("field-work_calendar"), opt(&e.work_calendar)),
    ];
    if caller.principal.can(Permission::ViewPersonalDetails) {
        facts.push((tr.t("field-contract_address"), opt(&e.contract_address)));
    }
    let mut c = chrome(l, Some(&caller), "employees-title", "/employees");
    c.title = e.name.clone();
    let can_edit = caller.principal.can(Permission::EditPeople);
    render(&EmployeePage { chrome: c, e, facts, can_edit })
}

/// The org tree per legal entity.
pub async fn org_tree(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    let ctx = ctx(&caller, &rid);
    let (entities, units) =
        match (people::list_entities(&s.app, &ctx).await, people::list_org_units(&s.app, &ctx).await) {
            (Ok(e), Ok(u)) => (e, u),
            (Err(e), _) | (_, Err(e)) => return app_error_page(e, l, &caller),
        };
    let counts = people::headcounts(&s.app, &ctx).await.unwrap_or_default();
    let units = units
        .into_iter()
        .map(|u| {
            let (direct, total) = counts.get(&u.id).copied().unwrap_or_default();
            UnitView {
                code: u.code,
                name: u.name,
                legal_entity_id: u.legal_entity_id,
                depth_class: u.depth.min(6),
                direct,
                total,
            }
        })
        .collect();
    render(&OrgPage { chrome: chrome(l, Some(&caller), "org-title", "/org"), entities, units })
}

fn kinds(l: Locale) -> Vec<(&'static str, String)> {
    ImportKind::ALL.iter().map(|k| (k.name(), i18n::t(l, &format!("kind-{}", k.name())))).collect()
}

/// Upload form and export links.
pub async fn imports(Lang(l): Lang, caller: Caller) -> Response {
    let can_export = caller.principal.can(Permission::ExportData);
    render(&ImportsPage { chrome: chrome(l, Some(&caller), "imports-title", "/imports"), kinds: kinds(l), can_export })
}

/// Receives an upload, checks it, and shows the preview.
pub async fn import_upload(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    mut multipart: Multipart,
) -> Response {
    let mut kind = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("kind") => kind = field.text().await.ok().and_then(|k| ImportKind::parse(&k)),
                Some("file") => {
                    let name = field.file_name().unwrap_or("upload.csv").to_owned();
                    match field.bytes().await {
                        Ok(b) => file = Some((name, b.to_vec())),
                        Err(_) => {
                            return error_page(l, Some(&caller), StatusCode::PAYLOAD_TOO_LARGE, "file_too_large");
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return error_page(l, Some(&caller), StatusCode::BAD_REQUEST, "bad_request"),
        }
    }
    let (Some(kind), Some((name, bytes))) = (kind, file) else {
        return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "required");
    };
    match import::stage(&s.app, &ctx(&caller, &rid), kind, &name, &bytes).await {
        Ok(staged) => Redirect::to(&format!("/imports/{}", staged.id)).into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}

fn preview_page(l: Locale, caller: &Caller, staged: import::Staged) -> Response {
    let r = staged.report;
    let tr = Tr(l);
    let errors = r
        .errors
        .iter()
        .map(|e| {
            (
                e.row.map(|r| r.to_string()).unwrap_or_default(),
                e.column.clone().unwrap_or_default(),
                i18n::error_message(l, &e.code, None, e.value.as_deref()),
            )
        })
        .collect();
    render(&ImportPreviewPage {
        chrome: chrome(l, Some(caller), "imports-title", "/imports"),
        id: staged.id,
        kind_label: tr.t(&format!("kind-{}", r.kind.name())),
        file_name: staged.file_name,
        rows: r.rows,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        error_count: r.error_count,
        errors,
        applied: r.applied,
    })
}

/// The preview of a staged upload.
pub async fn import_preview(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    match import::staged(&s.app, &ctx(&caller, &rid), id).await {
        Ok(staged) => preview_page(l, &caller, staged),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// Applies a staged upload.
pub async fn import_commit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    match import::commit_staged(&s.app, &ctx(&caller, &rid), id).await {
        Ok(staged) => preview_page(l, &caller, staged),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// Download of an export from the page.
pub async fn export_download(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(kind): Path<String>,
    Query(p): Query<crate::api::ExportParams>,
) -> Response {
    match crate::api::download(&s, &ctx(&caller, &rid), l, &kind, p.format.as_deref()).await {
        Ok(r) => r,
        Err(e) => error_page(l, Some(&caller), e.status, &e.code),
    }
}

async fn users_page(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    secret: Option<(String, String)>,
    error: Option<String>,
) -> Response {
    let ctx = ctx(caller, rid);
    let users = match auth::list_users(&s.app, &ctx).await {
        Ok(u) => u,
        Err(e) => return app_error_page(e, l, caller),
    };
    let units = people::list_org_units(&s.app, &ctx).await.unwrap_or_default();
    let tr = Tr(l);
    let rows = users
        .into_iter()
        .map(|u| UserRow {
            id: u.id,
            roles: roles_label(l, &u.grants),
            role_flags: Role::ALL
                .iter()
                .map(|r| (r.name(), tr.t(&format!("role-{}", r.name())), u.grants.iter().any(|g| g.role == *r)))
                .collect(),
            org_unit_id: u.grants.iter().find_map(|g| g.org_unit_id),
            username: u.username,
            display_name: u.display_name,
            disabled: u.disabled,
        })
        .collect();
    render(&UsersPage {
        chrome: chrome(l, Some(caller), "users-title", "/users"),
        users: rows,
        roles: Role::ALL.iter().map(|r| (r.name(), tr.t(&format!("role-{}", r.name())))).collect(),
        units: units.into_iter().map(|u| (u.id, format!("{}{}", "· ".repeat(u.depth as usize), u.name))).collect(),
        secret,
        error,
    })
}

/// Users administration.
pub async fn users(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    users_page(&s, l, &caller, &rid, None, None).await
}

fn form(body: &Bytes) -> impl Fn(&str) -> String + '_ {
    let pairs = form_pairs(body);
    move |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()).unwrap_or_default()
}

/// Creates a user from the form and shows the one-time password.
pub async fn user_create(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let Some(role) = Role::parse(&f("role")) else {
        return users_page(&s, l, &caller, &rid, None, Some(i18n::error_message(l, "unknown_role", None, None))).await;
    };
    let org_unit_id = f("org_unit").parse::<i64>().ok().filter(|_| role.is_scoped());
    let new = auth::NewUser {
        username: f("username"),
        display_name: f("display_name"),
        password: None,
        grants: vec![Grant { role, org_unit_id }],
    };
    match auth::create_user(&s.app, &ctx(&caller, &rid), new).await {
        Ok(created) => {
            let label = i18n::t_args(l, "users-one-time-password", &[("user", &created.user.username)]);
            users_page(&s, l, &caller, &rid, created.generated_password.map(|p| (label, p)), None).await
        }
        Err(e) => {
            let api = ApiError::from_app(e, l);
            users_page(&s, l, &caller, &rid, None, Some(api.message())).await
        }
    }
}

/// Replaces a user's roles from the form.
pub async fn user_roles(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let pairs = form_pairs(&body);
    let org_unit_id = pairs.iter().find(|(k, _)| k == "org_unit").and_then(|(_, v)| v.parse::<i64>().ok());
    let grants: Vec<Grant> = pairs
        .iter()
        .filter(|(k, _)| k == "role")
        .filter_map(|(_, v)| Role::parse(v))
        .map(|role| Grant { role, org_unit_id: if role.is_scoped() { org_unit_id } else { None } })
        .collect();
    let error = auth::set_roles(&s.app, &ctx(&caller, &rid), id, grants)
        .await
        .err()
        .map(|e| ApiError::from_app(e, l).message());
    users_page(&s, l, &caller, &rid, None, error).await
}

/// Disables or enables a user from the form.
pub async fn user_disabled(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let disabled = form(&body)("disabled") == "true";
    let error = auth::set_disabled(&s.app, &ctx(&caller, &rid), id, disabled)
        .await
        .err()
        .map(|e| ApiError::from_app(e, l).message());
    users_page(&s, l, &caller, &rid, None, error).await
}

/// Resets a user's password to a generated one, shown once.
pub async fn user_password(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    let c = ctx(&caller, &rid);
    let outcome = match auth::get_user(&s.app, &c, id).await {
        Ok(user) => auth::reset_password(&s.app, &c, &user.username, None).await.map(|p| (user.username, p)),
        Err(e) => Err(e),
    };
    match outcome {
        Ok((username, Some(p))) => {
            let label = i18n::t_args(l, "users-one-time-password", &[("user", &username)]);
            users_page(&s, l, &caller, &rid, Some((label, p)), None).await
        }
        Ok((_, None)) => users_page(&s, l, &caller, &rid, None, None).await,
        Err(e) => users_page(&s, l, &caller, &rid, None, Some(ApiError::from_app(e, l).message())).await,
    }
}

/// Issues an API token for a user, shown once.
pub async fn user_token(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
    body: Bytes,
) -> Response {
    let name = form(&body)("name");
    let name = if name.is_empty() { "api".to_owned() } else { name };
    match auth::create_token(&s.app, &ctx(&caller, &rid), id, &name).await {
        Ok((_, secret)) => users_page(&s, l, &caller, &rid, Some((i18n::t(l, "users-token-once"), secret)), None).await,
        Err(e) => users_page(&s, l, &caller, &rid, None, Some(ApiError::from_app(e, l).message())).await,
    }
}

/// Query of the audit page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct AuditQuery {
    before: Option<i64>,
}

/// The audit trail, newest first.
pub async fn audit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(q): Query<AuditQuery>,
) -> Response {
    const PAGE: i64 = 100;
    let events = match lizhi_app::audit::recent(&s.app, &ctx(&caller, &rid), None, q.before, PAGE).await {
        Ok(e) => e,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let older_href =
        (events.len() as i64 == PAGE).then(|| events.last().map(|e| format!("/audit?before={}", e.id))).flatten();
    let events = events
        .into_iter()
        .map(|e| AuditRow {
            id: e.id,
            at: e.at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
            actor: e.actor,
            action: e.action,
            entity: format!("{} {}", e.entity_type, e.entity_key),
            digest: e.after_digest.or(e.before_digest).map(|d| d[..16.min(d.len())].to_owned()).unwrap_or_default(),
        })
        .collect();
    render(&AuditPage { chrome: chrome(l, Some(&caller), "audit-title", "/audit"), events, older_href })
}

/// Text inputs of the employee form, in order: (column, input type, required).
const EMPLOYEE_FIELDS: [(&str, &str, bool); 9] = [
    ("name", "text", true),
    ("manager_no", "text", false),
    ("hire_date", "date", true),
    ("position", "text", false),
    ("email", "email", false),
    ("mobile", "tel", false),
    ("contract_address", "text", false),
    ("work_calendar", "text", false),
    ("employee_no", "hidden", false),
];

async fn employee_form(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    no: Option<&str>,
    values: &std::collections::BTreeMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let c = ctx(caller, rid);
    let entities = people::list_entities(&s.app, &c).await.unwrap_or_default();
    let units = people::list_org_units(&s.app, &c).await.unwrap_or_default();
    let value = |k: &str| values.get(k).cloned().unwrap_or_default();
    let tr = Tr(l);
    let mut chrome = chrome(l, Some(caller), "employees-title", "/employees");
    chrome.title = match no {
        Some(no) => format!("{} {}", tr.t("form-edit-employee"), no),
        None => tr.t("form-new-employee"),
    };
    let fields = EMPLOYEE_FIELDS
        .iter()
        .filter(|(name, _, _)| *name != "employee_no")
        .filter(|(name, _, _)| *name != "contract_address" || caller.principal.can(Permission::ViewPersonalDetails))
        .map(|&(name, input_type, required)| FieldView {
            name,
            label: tr.t(&format!("field-{}", if name == "manager_no" { "manager" } else { name })),
            value: value(name),
            input_type,
            required,
        })
        .collect();
    let page = EmployeeFormPage {
        chrome,
        is_new: no.is_none(),
        action: no.map_or("/new-employee".to_owned(), |no| format!("/employees/{}/edit", url_encode(no))),
        back: no.map_or("/employees".to_owned(), |no| format!("/employees/{}", url_encode(no))),
        employee_no: value("employee_no"),
        entities: entities.iter().map(|e| (e.code.clone(), e.name.clone(), value("legal_entity") == e.code)).collect(),
        units: units
            .iter()
            .map(|u| {
                (u.code.clone(), format!("{}{}", "· ".repeat(u.depth as usize), u.name), value("org_unit") == u.code)
            })
            .collect(),
        fields,
        errors: errors.clone(),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, render(&page)).into_response()
}

/// The form to create an employee.
pub async fn employee_new_form(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    employee_form(&s, l, &caller, &rid, None, &Default::default(), Vec::new()).await
}

/// The form to edit an employee (404 outside the caller's scope, like the detail page).
pub async fn employee_edit_form(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> Response {
    if let Err(e) = people::get_employee(&s.app, &ctx(&caller, &rid), &no).await {
        return app_error_page(e, l, &caller);
    }
    let values = match lizhi_app::export::current_row(&s.app, ImportKind::Employees, &no).await {
        Ok(Some(row)) => ImportKind::Employees.all_columns().into_iter().map(str::to_owned).zip(row).collect(),
        Ok(None) => return error_page(l, Some(&caller), StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return app_error_page(e, l, &caller),
    };
    employee_form(&s, l, &caller, &rid, Some(&no), &values, Vec::new()).await
}

async fn employee_save(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    no: Option<String>,
    body: &Bytes,
) -> Response {
    let values: std::collections::BTreeMap<String, String> =
        form_pairs(body).into_iter().filter(|(k, _)| k != "csrf").collect();
    let key = no.clone().unwrap_or_else(|| values.get("employee_no").cloned().unwrap_or_default());
    if no.is_none()
        && lizhi_app::export::current_row(&s.app, ImportKind::Employees, &key).await.ok().flatten().is_some()
    {
        let msg = i18n::error_message(l, "conflict", Some("employee_no"), Some(&key));
        return employee_form(s, l, caller, rid, None, &values, vec![msg]).await;
    }
    match import::save_one(&s.app, &ctx(caller, rid), ImportKind::Employees, &key, &values).await {
        Ok(_) => Redirect::to(&format!("/employees/{}", url_encode(&key))).into_response(),
        Err(AppError::Rejected(errors)) => {
            let messages = errors
                .iter()
                .map(|e| i18n::error_message(l, &e.code, e.column.as_deref(), e.value.as_deref()))
                .collect();
            employee_form(s, l, caller, rid, no.as_deref(), &values, messages).await
        }
        Err(e) => app_error_page(e, l, caller),
    }
}

/// Creates an employee from the form.
pub async fn employee_new_submit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    employee_save(&s, l, &caller, &rid, None, &body).await
}

/// Saves the edit form.
pub async fn employee_edit_submit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = people::get_employee(&s.app, &ctx(&caller, &rid), &no).await {
        return app_error_page(e, l, &caller);
    }
    employee_save(&s, l, &caller, &rid, Some(no), &body).await
}

fn roles_label(l: Locale, grants: &[Grant]) -> String {
    grants.iter().map(|g| i18n::t(l, &format!("role-{}", g.role.name()))).collect::<Vec<_>>().join(", ")
}

fn account_page(
    l: Locale,
    caller: &Caller,
    notice: Option<String>,
    error: Option<String>,
    must_change: bool,
) -> Response {
    let page = AccountPage {
        chrome: chrome(l, Some(caller), "account-title", "/account"),
        username: caller.user.username.clone(),
        roles: roles_label(l, &caller.user.grants),
        must_change,
        notice,
        error: error.clone(),
    };
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    (status, render(&page)).into_response()
}

/// The caller's own account.
pub async fn account(Lang(l): Lang, caller: Caller) -> Response {
    let must_change = caller.user.must_change_password;
    account_page(l, &caller, None, None, must_change)
}

/// Changes the caller's own password (current one required); other sessions end.
pub async fn account_password(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    let f = form(&body);
    let (current, new, repeat) = (f("current"), f("new"), f("repeat"));
    let must_change = caller.user.must_change_password;
    if new != repeat {
        let msg = i18n::error_message(l, "password_mismatch", None, None);
        return account_page(l, &caller, None, Some(msg), must_change);
    }
    let session_id = match &caller.via {
        Via::Session { session_id, .. } => Some(session_id.as_str()),
        Via::Token => None,
    };
    match auth::change_own_password(&s.app, &ctx(&caller, &rid), session_id, &current, &new).await {
        Ok(()) => account_page(l, &caller, Some(i18n::t(l, "account-password-changed")), None, false),
        Err(e) => account_page(l, &caller, None, Some(ApiError::from_app(e, l).message()), must_change),
    }
}
