//! Sign-in, sign-out, language and the caller's own account.
#![allow(clippy::too_many_arguments)]

use super::*;

/// Query of the sign-in page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct NextParam {
    next: Option<String>,
}

pub(super) fn login_page(
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
    let field = form(&body);
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
    let field = form(&body);
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

pub(super) fn account_page(
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
