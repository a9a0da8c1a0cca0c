//! One HTTP exchange with WeCom's server API, and what an `errcode` means for the retry policy, kept apart
//! from the API steps so every step maps failures the same way.
//!
//! WeCom answers almost everything with HTTP 200 and a JSON body carrying `errcode` / `errmsg`; the meaning
//! of each code is from the global error code page (全局错误码, developer.work.weixin.qq.com path 90313 / 90455).
//! Access tokens and secrets travel in the query string, so every error text that could contain a URL is
//! built without it and scrubbed of the values before it leaves this module.

use super::SYSTEM;
use crate::access::CallError;
use reqwest::{Method, StatusCode, Url};
use serde_json::Value;
use std::time::Duration;

/// A page of 10 000 member ids or 100 users' check-ins for 30 days stays well below this.
const MAX_BODY: usize = 32 << 20;
/// How much of a non-JSON answer (a proxy's HTML page) or an `errmsg` is kept for the admin.
const EXCERPT_CHARS: usize = 300;

/// System busy: try again later (at most a few times, says the documentation).
pub(super) const SYSTEM_BUSY: i64 = -1;
/// Data version conflict: several callers changed the same data; try again.
const VERSION_CONFLICT: i64 = 6000;
/// Invalid secret (at `gettoken`), or an invalid access token elsewhere.
pub(super) const INVALID_SECRET: i64 = 40001;
/// Invalid corp id.
const INVALID_CORP_ID: i64 = 40013;
/// Invalid access token.
pub(super) const INVALID_TOKEN: i64 = 40014;
/// A secret of another corporation.
const FOREIGN_SECRET: i64 = 40091;
/// Access token expired (they live 7200 s and can be revoked early).
pub(super) const EXPIRED_TOKEN: i64 = 42001;
/// API frequency limit; lifted after the limit's period, a minute for per-minute limits.
pub(super) const FREQUENCY_LIMIT: i64 = 45009;
/// Too many concurrent calls on one resource.
const CONCURRENCY_LIMIT: i64 = 45033;
/// The API may not be called with this credential (contact writes need the contact-sync secret; that
/// secret cannot send messages).
const NOT_PERMITTED: i64 = 48002;
/// The API permission was withdrawn after long disuse.
const PERMISSION_WITHDRAWN: i64 = 48006;
/// The app is disabled.
const APP_DISABLED: i64 = 50003;
/// The member, department or tag is outside what this credential may see (app visibility, 可见范围).
pub(super) const NO_PRIVILEGE: i64 = 60011;
/// The calling IP is not trusted (企业可信IP / the contact-sync IP allow-list).
pub(super) const UNTRUSTED_IP: i64 = 60020;
/// The member is outside the app's visibility.
const NOT_VISIBLE: i64 = 60021;
/// No such userid.
pub(super) const USER_NOT_FOUND: i64 = 60111;
/// Every recipient of a message is invalid (deleted, disabled or outside the app's visibility).
pub(super) const NO_VALID_RECIPIENT: i64 = 81013;
/// The token's app is not the `agentid` asked about.
const WRONG_AGENT: i64 = 301002;
/// Check-in query: `useridlist` empty or over 100.
const CHECKIN_TOO_MANY_USERS: i64 = 301023;
/// Check-in query: time span invalid or over the limit.
const CHECKIN_SPAN: i64 = 301024;

/// How long WeCom's frequency limit lasts: the documentation says a minute for per-minute limits.
pub(super) const FREQUENCY_LIMIT_WAIT_SECS: u64 = 60;

/// A refusal that retrying cannot fix (configuration, bad input).
pub(super) fn invalid(code: &str, message: impl Into<String>) -> CallError {
    CallError::Refused { system: SYSTEM, code: code.to_owned(), message: message.into(), retryable: false }
}

/// A refusal that may pass later; the wait, when known, is in the message as "retry after N s".
pub(super) fn later(code: &str, message: impl Into<String>) -> CallError {
    CallError::Refused { system: SYSTEM, code: code.to_owned(), message: message.into(), retryable: true }
}

/// One WeCom answer: HTTP 200 with a JSON object carrying `errcode`.
pub(super) struct Answer {
    /// 0 is success.
    pub errcode: i64,
    /// WeCom's text, scrubbed and shortened; it often ends in `hint: [...]` and `from ip: ...`.
    pub errmsg: String,
    /// The whole JSON object.
    pub body: Value,
}

impl Answer {
    /// The `hint: [...]` WeCom puts in `errmsg`: the id its support asks for.
    pub fn hint(&self) -> Option<String> {
        let rest = self.errmsg.split("hint: [").nth(1)?;
        rest.split(']').next().filter(|h| !h.is_empty()).map(str::to_owned)
    }

    /// The body on success, the refusal otherwise.
    pub fn ok(self) -> Result<Value, CallError> {
        if self.errcode == 0 { Ok(self.body) } else { Err(self.refusal()) }
    }

    /// What a non-zero `errcode` means: refused, retryable or not, with a message an admin can act on.
    pub fn refusal(&self) -> CallError {
        let code = self.errcode.to_string();
        let said = format!("WeCom said: {}", self.errmsg);
        match self.errcode {
            SYSTEM_BUSY | VERSION_CONFLICT | CONCURRENCY_LIMIT => later(&code, format!("try again shortly; {said}")),
            FREQUENCY_LIMIT => {
                later(&code, format!("API frequency limit; retry after {FREQUENCY_LIMIT_WAIT_SECS} s; {said}"))
            }
            UNTRUSTED_IP => {
                let ip = self.caller_ip().map(|ip| format!(" ({ip})")).unwrap_or_default();
                invalid(
                    &code,
                    format!(
                        "this server's IP{ip} is not on WeCom's IP allow-list: add it as a trusted IP \
                         (企业可信IP) of the Lizhi app and to the contact-sync (通讯录同步) IP allow-list; {said}"
                    ),
                )
            }
            INVALID_CORP_ID => invalid(&code, format!("wrong corp id: check it in the admin console; {said}")),
            INVALID_SECRET | FOREIGN_SECRET => invalid(&code, format!("wrong secret; {said}")),
            NOT_PERMITTED => invalid(
                &code,
                format!(
                    "this credential may not call this API: member writes need the contact-sync secret with \
                     API sync enabled; messages and check-ins need the app secret; {said}"
                ),
            ),
            NO_PRIVILEGE | NOT_VISIBLE => invalid(
                &code,
                format!(
                    "outside what this credential may see: add the member to the app's visibility (可见范围); {said}"
                ),
            ),
            WRONG_AGENT => invalid(&code, format!("the agent id does not belong to the app secret; {said}")),
            APP_DISABLED | PERMISSION_WITHDRAWN => {
                invalid(&code, format!("the app is disabled or lost its API permission: re-enable it; {said}"))
            }
            CHECKIN_TOO_MANY_USERS | CHECKIN_SPAN => invalid(
                &code,
                format!("check-in query outside WeCom's limits (1 to 100 users, at most 30 days); {said}"),
            ),
            _ => invalid(&code, said),
        }
    }

    /// The caller's IP as WeCom saw it (`from ip: 1.2.3.4,` in `errmsg`).
    fn caller_ip(&self) -> Option<&str> {
        let rest = self.errmsg.split("from ip: ").nth(1)?;
        rest.split([',', ' ']).next().filter(|ip| !ip.is_empty())
    }
}

/// The HTTP client of one WeCom target.
pub(super) struct Transport {
    http: reqwest::Client,
    base: Url,
    /// Values never to show in an error text: the secrets (tokens are passed per call).
    secrets: Vec<String>,
}

impl Transport {
    /// Redirects are not followed: an API base that redirects is misconfigured, and following it would
    /// replay a write, token included, somewhere unexpected.
    pub fn new(base: Url, timeout: Duration, secrets: Vec<String>) -> Result<Self, CallError> {
        if timeout.is_zero() {
            return Err(invalid("invalid_config", "the request timeout must be positive"));
        }
        let http = crate::http::client(timeout)
            .map_err(|e| invalid("invalid_config", format!("cannot build the HTTP client: {}", e.without_url())))?;
        Ok(Transport { http, base, secrets })
    }

    /// Sends one request to `/cgi-bin/{api}`. `hide` lists per-call values (the token) to scrub from errors.
    /// Only an HTTP 200 with a JSON object carrying `errcode` is an answer; everything else is an error.
    pub async fn exchange(
        &self,
        method: Method,
        api: &str,
        query: &[(&str, &str)],
        body: Option<&Value>,
        hide: &[&str],
    ) -> Result<Answer, CallError> {
        let url = self.url(api);
        let mut request = self.http.request(method.clone(), url).query(query);
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.to_string());
        }
        let mut response = request.send().await.map_err(|e| self.transport_error(e, hide))?;
        let status = response.status();
        tracing::debug!(system = SYSTEM, %method, api, status = status.as_u16(), "wecom call");
        let mut raw = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.transport_error(e, hide))? {
            if raw.len() + chunk.len() > MAX_BODY {
                return Err(CallError::Ambiguous {
                    system: SYSTEM,
                    message: format!("{api}: answer over {MAX_BODY} bytes, not read"),
                });
            }
            raw.extend_from_slice(&chunk);
        }
        let parsed = serde_json::from_slice::<Value>(&raw).ok().filter(Value::is_object);
        if status != StatusCode::OK {
            let text = self.scrub(&excerpt(&String::from_utf8_lossy(&raw)), hide);
            return Err(http_failure(api, status, &text));
        }
        let Some(body) = parsed else {
            let text = self.scrub(&excerpt(&String::from_utf8_lossy(&raw)), hide);
            return Err(CallError::Ambiguous { system: SYSTEM, message: format!("{api}: answer is not JSON: {text}") });
        };
        let Some(errcode) = body.get("errcode").and_then(Value::as_i64) else {
            return Err(CallError::Ambiguous { system: SYSTEM, message: format!("{api}: answer without errcode") });
        };
        let errmsg = body.get("errmsg").and_then(Value::as_str).unwrap_or_default();
        let errmsg = self.scrub(&excerpt(errmsg), hide);
        if errcode != 0 {
            tracing::info!(system = SYSTEM, api, errcode, "wecom refused");
        }
        Ok(Answer { errcode, errmsg, body })
    }

    fn url(&self, api: &str) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().push("cgi-bin").extend(api.split('/'));
        }
        url
    }

    /// Removes the secrets and the given values from text that may have come from elsewhere.
    pub fn scrub(&self, text: &str, hide: &[&str]) -> String {
        let mut out = text.to_owned();
        for value in self.secrets.iter().map(String::as_str).chain(hide.iter().copied()) {
            if value.len() >= 4 {
                out = out.replace(value, "***");
            }
        }
        out
    }

    /// A failure before the connection was made changed nothing; after sending, the outcome is unknown.
    /// The URL (token and secret in its query) is dropped from the error before it is printed.
    fn transport_error(&self, err: reqwest::Error, hide: &[&str]) -> CallError {
        let (connect, timeout, builder) = (err.is_connect(), err.is_timeout(), err.is_builder());
        let err = err.without_url();
        let mut message = err.to_string();
        let mut source = std::error::Error::source(&err);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        let mut message = self.scrub(&message, hide);
        if self.base.scheme() == "https" && message.contains("scheme is not http") {
            message.push_str(" (this build has no TLS support: production needs reqwest with a TLS feature)");
            return invalid("no_tls", message);
        }
        if connect && !timeout {
            later("connect", message)
        } else if builder {
            invalid("invalid_request", message)
        } else {
            CallError::Ambiguous { system: SYSTEM, message }
        }
    }
}

/// A non-200 answer: 5xx may have happened; 429 and 503 are limits; other statuses are a proxy or a wrong URL.
fn http_failure(api: &str, status: StatusCode, text: &str) -> CallError {
    let message = format!("{api}: HTTP {status}: {text}");
    match status.as_u16() {
        429 => later(&status.as_u16().to_string(), message),
        500..=599 => CallError::Ambiguous { system: SYSTEM, message },
        code => invalid(&code.to_string(), message),
    }
}

fn excerpt(text: &str) -> String {
    let mut out: String = text.chars().take(EXCERPT_CHARS).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn answer(errcode: i64, errmsg: &str) -> Answer {
        Answer { errcode, errmsg: errmsg.to_owned(), body: json!({"errcode": errcode, "errmsg": errmsg}) }
    }

    fn retryable(err: &CallError) -> bool {
        matches!(err, CallError::Refused { retryable: true, .. })
    }

    #[test]
    fn errcodes_map_to_the_retry_policy() {
        let ip = answer(
            UNTRUSTED_IP,
            "not allow to access from your ip, hint: [1655882753557010848204971], from ip: 203.0.113.7, more info",
        );
        assert_eq!(ip.hint().as_deref(), Some("1655882753557010848204971"));
        let refusal = ip.refusal();
        assert!(!retryable(&refusal));
        assert!(refusal.to_string().contains("(203.0.113.7)") && refusal.to_string().contains("企业可信IP"));
        for code in [SYSTEM_BUSY, FREQUENCY_LIMIT, VERSION_CONFLICT] {
            assert!(retryable(&answer(code, "busy").refusal()), "{code}");
        }
        assert!(answer(FREQUENCY_LIMIT, "api freq out of limit").refusal().to_string().contains("retry after 60 s"));
        for code in [INVALID_SECRET, INVALID_CORP_ID, NOT_PERMITTED, NO_PRIVILEGE, 40058] {
            assert!(!retryable(&answer(code, "no").refusal()), "{code}");
        }
        assert!(answer(0, "ok").ok().is_ok());
    }

    #[test]
    fn statuses_and_urls() {
        assert!(matches!(http_failure("user/get", StatusCode::BAD_GATEWAY, "<html>"), CallError::Ambiguous { .. }));
        assert!(retryable(&http_failure("user/get", StatusCode::TOO_MANY_REQUESTS, "")));
        assert!(!retryable(&http_failure("user/get", StatusCode::NOT_FOUND, "")));
        let base = Url::parse("http://127.0.0.1:9/prefix/").expect("url");
        let transport = Transport::new(base, Duration::from_secs(1), vec!["s3cr3t".into()]).expect("transport");
        assert_eq!(transport.url("user/get").as_str(), "http://127.0.0.1:9/prefix/cgi-bin/user/get");
        assert_eq!(transport.scrub("secret s3cr3t token tok-123", &["tok-123"]), "secret *** token ***");
        assert_eq!(excerpt(&"x".repeat(400)).chars().count(), EXCERPT_CHARS + 1);
    }
}
