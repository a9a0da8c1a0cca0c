//! Who is calling: a session cookie (pages and API) or a bearer token (API), and in which language.

use crate::AppState;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, AUTHORIZATION, COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use lizhi_app::i18n::Locale;
use lizhi_core::auth::Principal;
use lizhi_core::model::User;

/// Name of the session cookie (its value is the raw session id; the database keeps a hash).
pub const SESSION_COOKIE: &str = "lizhi_session";
/// Name of the cookie that remembers the language before sign-in.
pub const LOCALE_COOKIE: &str = "lizhi_lang";
/// Name of the cookie holding the sign-in form's CSRF token (double submit).
pub const LOGIN_CSRF_COOKIE: &str = "lizhi_login_csrf";

/// How the caller proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    /// Browser session; state-changing requests must carry the CSRF token.
    Session {
        /// Raw session id (to sign out).
        session_id: String,
        /// The session's CSRF token.
        csrf: String,
    },
    /// API token; no cookies, so no CSRF exposure.
    Token,
}

/// A signed-in caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Roles and scope.
    pub principal: Principal,
    /// The account.
    pub user: User,
    /// Session or token.
    pub via: Via,
}

impl Caller {
    /// The CSRF token to embed in forms ("" for token callers, who never see forms).
    pub fn csrf(&self) -> &str {
        match &self.via {
            Via::Session { csrf, .. } => csrf,
            Via::Token => "",
        }
    }
}

/// The language of this request.
#[derive(Debug, Clone, Copy)]
pub struct Lang(pub Locale);

/// Reads one cookie from the headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Resolves the caller and language once per request and stores them as extensions.
pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Result<Response, StatusCode> {
    let headers = req.headers();
    let mut caller = None;
    if let Some(token) =
        headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "))
    {
        let found = lizhi_app::auth::token_principal(&state.app, token.trim())
            .await
            .map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        caller = found.map(|(principal, user)| Caller { principal, user, via: Via::Token });
    } else if let Some(sid) = cookie(headers, SESSION_COOKIE) {
        let found =
            lizhi_app::auth::session_principal(&state.app, sid).await.map_err(|_| StatusCode::SERVICE_UNAVAILABLE)?;
        caller = found.map(|(principal, csrf, user)| Caller {
            principal,
            user,
            via: Via::Session { session_id: sid.to_owned(), csrf },
        });
    }
    let locale = caller
        .as_ref()
        .and_then(|c| c.user.locale.as_deref())
        .and_then(Locale::parse)
        .or_else(|| cookie(headers, LOCALE_COOKIE).and_then(Locale::parse))
        .unwrap_or_else(|| Locale::negotiate(headers.get(ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("")));
    req.extensions_mut().insert(Lang(locale));
    if let Some(public) = &state.config.public_url {
        let origin = public.trim_end_matches('/').to_owned();
        req.extensions_mut().insert(crate::middleware::PublicOrigin(origin));
    }
    if let Some(c) = caller {
        req.extensions_mut().insert(c);
    }
    Ok(next.run(req).await)
}

impl<S: Send + Sync> FromRequestParts<S> for Lang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Lang>().copied().unwrap_or(Lang(Locale::En)))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = StatusCode;

    /// Present on every route whose access is not public (the access layer already refused others).
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Caller>().cloned().ok_or(StatusCode::UNAUTHORIZED)
    }
}
