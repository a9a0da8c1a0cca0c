//! Cross-cutting layers: security headers, request ids and metrics, CSRF verification.

use crate::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::Ordering;
use std::time::Instant;

/// Header carrying the request id in responses (and accepted from a trusted proxy).
pub const REQUEST_ID: &str = "x-request-id";

/// Strict headers on every response: our pages load only our own CSS and JS; behind https the
/// browser is told to never use plain http again.
pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if state.config.secure_cookies() {
        h.insert(HeaderName::from_static("strict-transport-security"), HeaderValue::from_static("max-age=31536000"));
    }
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; object-src 'none'; \
         base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "permissions-policy", "camera=(), microphone=(), geolocation=()");
    set(h, "cross-origin-opener-policy", "same-origin");
    if !h.contains_key("cache-control") {
        set(h, "cache-control", "no-store");
    }
    res
}

/// Gives each request an id, logs it and counts it.
pub async fn observe(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| v.len() <= 64 && v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
        .map(str::to_owned)
        .unwrap_or_else(lizhi_app::new_request_id);
    req.extensions_mut().insert(RequestId(id.clone()));
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let mut res = next.run(req).await;
    let micros = started.elapsed().as_micros() as u64;
    let m = &state.metrics;
    m.requests.fetch_add(1, Ordering::Relaxed);
    m.duration_micros.fetch_add(micros, Ordering::Relaxed);
    if res.status().is_server_error() {
        m.server_errors.fetch_add(1, Ordering::Relaxed);
    }
    tracing::info!(request_id = %id, %method, %path, status = res.status().as_u16(), micros, "request");
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(HeaderName::from_static(REQUEST_ID), v);
    }
    res
}

/// The id of the current request, for audit rows.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

fn same_origin(req: &Request) -> bool {
    let Some(origin) = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true; // Non-browser clients and old browsers send none; the token still protects.
    };
    let host = req.headers().get(HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
    let configured = req.extensions().get::<PublicOrigin>().map(|p| p.0.as_str());
    match configured {
        Some(public) => origin == public.trim_end_matches('/'),
        None => origin_host == host,
    }
}

/// The configured public origin, when set.
#[derive(Debug, Clone)]
pub struct PublicOrigin(pub String);

/// Constant-time comparison so the token cannot be guessed byte by byte.
pub fn token_eq(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the CSRF token from the `x-csrf-token` header, the `csrf` query parameter, or the
/// `csrf` field of a URL-encoded form (the body is buffered and handed on intact).
pub async fn verify_csrf(req: Request, expected: &str) -> Result<Request, ()> {
    if !same_origin(&req) {
        return Err(());
    }
    let headers = req.headers();
    if let Some(v) = headers.get("x-csrf-token").and_then(|v| v.to_str().ok()) {
        return if token_eq(v, expected) { Ok(req) } else { Err(()) };
    }
    if let Some(q) = req.uri().query()
        && let Some(v) = form_field(q.as_bytes(), "csrf")
    {
        return if token_eq(&v, expected) { Ok(req) } else { Err(()) };
    }
    let is_form = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(());
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 1024 * 1024).await.map_err(|_| ())?;
    match form_field(&bytes, "csrf") {
        Some(v) if token_eq(&v, expected) => Ok(Request::from_parts(parts, Body::from(bytes))),
        _ => Err(()),
    }
}

/// One field of a URL-encoded string.
pub fn form_field(body: &[u8], name: &str) -> Option<String> {
    form_pairs(body).into_iter().find(|(k, _)| k == name).map(|(_, v)| v)
}

/// Decodes `a=1&b=x+y%20z` into pairs (percent-decoding and `+` as space).
pub fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode = |s: &str| -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                        Ok(b) => {
                            out.push(b);
                            i += 2;
                        }
                        Err(_) => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    std::str::from_utf8(body)
        .unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}
