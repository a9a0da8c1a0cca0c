//! A stateful fake of WeCom's server API, since WeCom has no public sandbox. It follows the documentation
//! (developer.work.weixin.qq.com: gettoken, user/get, user/update, user/list_id, message/send, agent/get,
//! checkin/getcheckindata, the global error codes) and answers like the service: HTTP 200 with `errcode` and an
//! `errmsg` ending in `hint: [...], from ip: ...`.
//!
//! Behaviour worth knowing:
//! - tokens are per secret, reused while valid (as WeCom does), and expire after a configurable lifetime;
//! - every API but `gettoken` checks the token (41001 missing, 40014 unknown, 42001 expired or revoked), then
//!   which secret it came from (48002 for the wrong one: member writes and `user/list_id` need the contact-sync
//!   secret; reads, messages and check-ins need the app's);
//! - switches: untrusted IP (every API answers 60020), forced errcodes for the next calls (45009, -1…), an HTTP
//!   error for the next call, and a lost response (the effect happens, the answer comes too late);
//! - `message/send` drops, silently and like the service, messages beyond the per-member limit, and honours
//!   `enable_duplicate_check`;
//! - `user/get` with the contact-sync token is refused (since 2022-08 for newly added IPs; the errcode used here,
//!   48002, is an assumption: the documentation does not give it).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use lizhi_connectors::wecom::client::WeComTarget;
use serde_json::{Value, json};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

#[path = "wecom_fake/api.rs"]
mod api;

pub const CORP_ID: &str = "ww5f1c0a9e0fa4e000";
pub const CONTACT_SECRET: &str = "fake-contact-sync-secret-7c1d2e";
pub const APP_SECRET: &str = "fake-app-secret-93be41";
pub const AGENT_ID: i64 = 1_000_002;
pub const DAY: i64 = 86_400;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cred {
    Contacts,
    App,
}

struct Issued {
    cred: Cred,
    expires: Instant,
}

struct Member {
    userid: String,
    name: String,
    enable: bool,
    activated: bool,
    quit: bool,
    visible_to_app: bool,
}

impl Member {
    /// 1 active, 2 disabled, 4 not activated, 5 quit.
    fn status(&self) -> i64 {
        match (self.enable, self.quit, self.activated) {
            (false, _, _) => 2,
            (true, true, _) => 5,
            (true, false, false) => 4,
            (true, false, true) => 1,
        }
    }
}

/// One `message/send` recipient as the fake handled it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub to: String,
    pub title: String,
    pub dropped: bool,
}

/// One `checkin/getcheckindata` call.
#[derive(Debug, Clone)]
pub struct CheckinRequest {
    pub users: usize,
    pub start: i64,
    pub end: i64,
    pub at: Instant,
}

struct Fake {
    token_ttl: Duration,
    tokens: HashMap<String, Issued>,
    issued: u64,
    members: BTreeMap<String, Member>,
    unlicensed: HashSet<String>,
    untrusted_ip: bool,
    forced: VecDeque<i64>,
    http_error: Option<(u16, String)>,
    lose: Option<(String, Duration)>,
    calls: HashMap<String, u32>,
    member_limit: (usize, Duration),
    windows: HashMap<String, VecDeque<Instant>>,
    deliveries: Vec<Delivery>,
    recent: HashMap<String, Instant>,
    duplicates: u32,
    messages: u64,
    list_page_cap: usize,
    checkins: Vec<Value>,
    checkin_requests: Vec<CheckinRequest>,
    /// Response codes of card presses not used yet, and who pressed.
    pressed: HashMap<String, String>,
    /// Cards updated: (member, new button text).
    card_updates: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Fake>>;

/// A running fake on a loopback port; the server stops when this is dropped.
pub struct FakeWeCom {
    pub base_url: String,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeWeCom {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock(shared: &Shared) -> MutexGuard<'_, Fake> {
    shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An error answer shaped like WeCom's.
fn err(code: i64, text: &str) -> Value {
    let errmsg = format!(
        "{text}, hint: [1700000000_42_fake{code}], from ip: 127.0.0.1, more info at \
         https://open.work.weixin.qq.com/devtool/query?e={code}"
    );
    json!({"errcode": code, "errmsg": errmsg})
}

fn ok(mut fields: Value) -> Value {
    fields["errcode"] = json!(0);
    fields["errmsg"] = json!("ok");
    fields
}

impl FakeWeCom {
    pub async fn start() -> FakeWeCom {
        let fake = Fake {
            token_ttl: Duration::from_secs(7200),
            tokens: HashMap::new(),
            issued: 0,
            members: BTreeMap::new(),
            unlicensed: HashSet::new(),
            untrusted_ip: false,
            forced: VecDeque::new(),
            http_error: None,
            lose: None,
            calls: HashMap::new(),
            member_limit: (30, Duration::from_secs(60)),
            windows: HashMap::new(),
            deliveries: Vec::new(),
            recent: HashMap::new(),
            duplicates: 0,
            messages: 0,
            list_page_cap: 10_000,
            checkins: Vec::new(),
            pressed: HashMap::new(),
            card_updates: Vec::new(),
            checkin_requests: Vec::new(),
        };
        let shared = Arc::new(Mutex::new(fake));
        let app = Router::new().route("/cgi-bin/{*api}", any(handle)).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            axum::serve(listener, app).await.expect("fake WeCom server");
        });
        FakeWeCom { base_url: format!("http://{addr}"), shared, server }
    }

    /// The target Lizhi would configure for this corporation, pointed at the fake.
    pub fn target(&self) -> WeComTarget {
        let mut target = WeComTarget::new(CORP_ID, CONTACT_SECRET, AGENT_ID, APP_SECRET);
        target.base_url = self.base_url.clone();
        target.timeout = Duration::from_secs(10);
        target
    }

    fn with<T>(&self, f: impl FnOnce(&mut Fake) -> T) -> T {
        f(&mut lock(&self.shared))
    }

    pub fn add_member(&self, userid: &str, name: &str) {
        let member = Member {
            userid: userid.to_owned(),
            name: name.to_owned(),
            enable: true,
            activated: true,
            quit: false,
            visible_to_app: true,
        };
        self.with(|f| f.members.insert(userid.to_ascii_lowercase(), member));
    }

    fn member(&self, userid: &str, change: impl FnOnce(&mut Member)) {
        self.with(|f| change(f.members.get_mut(&userid.to_ascii_lowercase()).expect("known member")));
    }

    pub fn set_enabled(&self, userid: &str, enable: bool) {
        self.member(userid, |m| m.enable = enable);
    }

    pub fn set_not_activated(&self, userid: &str) {
        self.member(userid, |m| m.activated = false);
    }

    pub fn set_quit(&self, userid: &str) {
        self.member(userid, |m| m.quit = true);
    }

    pub fn hide_from_app(&self, userid: &str) {
        self.member(userid, |m| m.visible_to_app = false);
    }

    pub fn set_unlicensed(&self, userid: &str) {
        self.with(|f| f.unlicensed.insert(userid.to_ascii_lowercase()));
    }

    /// The member's status as `user/get` would report it.
    pub fn status(&self, userid: &str) -> Option<i64> {
        self.with(|f| f.members.get(&userid.to_ascii_lowercase()).map(Member::status))
    }

    /// Lifetime of tokens issued from now on.
    pub fn set_token_ttl(&self, ttl: Duration) {
        self.with(|f| f.token_ttl = ttl);
    }

    /// Every issued token expires now (WeCom may end tokens early): the next use answers 42001.
    pub fn revoke_tokens(&self) {
        let now = Instant::now();
        self.with(|f| f.tokens.values_mut().for_each(|t| t.expires = now));
    }

    /// Every issued token is forgotten: the next use answers 40014.
    pub fn forget_tokens(&self) {
        self.with(|f| f.tokens.clear());
    }

    pub fn set_untrusted_ip(&self, untrusted: bool) {
        self.with(|f| f.untrusted_ip = untrusted);
    }

    /// The next `n` API calls (not `gettoken`) answer 45009.
    pub fn rate_limit_next(&self, n: usize) {
        self.with(|f| f.forced.extend(std::iter::repeat_n(45009, n)));
    }

    /// The next API call (not `gettoken`) answers `errcode`.
    pub fn fail_next(&self, errcode: i64) {
        self.with(|f| f.forced.push_back(errcode));
    }

    /// The next call of any endpoint gets this HTTP answer instead, without any effect.
    pub fn http_error_next(&self, status: u16, body: &str) {
        self.with(|f| f.http_error = Some((status, body.to_owned())));
    }

    /// The next call of `api` has its effect, then answers only after `delay` (after the client gave up).
    pub fn lose_next_response(&self, api: &str, delay: Duration) {
        self.with(|f| f.lose = Some((api.to_owned(), delay)));
    }

    pub fn calls(&self, api: &str) -> u32 {
        self.with(|f| f.calls.get(api).copied().unwrap_or(0))
    }

    pub fn reset_calls(&self) {
        self.with(|f| f.calls.clear());
    }

    /// A member receives at most `count` messages per `window`; WeCom's is 30 a minute.
    pub fn set_member_limit(&self, count: usize, window: Duration) {
        self.with(|f| f.member_limit = (count, window));
    }

    pub fn delivered(&self, userid: &str) -> usize {
        let userid = userid.to_ascii_lowercase();
        self.with(|f| f.deliveries.iter().filter(|d| d.to == userid && !d.dropped).count())
    }

    /// A member presses a button of a card: WeCom would call back with this response code.
    pub fn press(&self, userid: &str) -> String {
        self.with(|f| {
            let code = format!("rc-{}-{}", userid.to_ascii_lowercase(), f.pressed.len() + f.card_updates.len());
            f.pressed.insert(code.clone(), userid.to_ascii_lowercase());
            code
        })
    }

    /// Cards updated after a press: (member, new button text).
    pub fn card_updates(&self) -> Vec<(String, String)> {
        self.with(|f| f.card_updates.clone())
    }

    /// Titles of the messages a member received, in order.
    pub fn titles(&self, userid: &str) -> Vec<String> {
        let userid = userid.to_ascii_lowercase();
        self.with(|f| f.deliveries.iter().filter(|d| d.to == userid && !d.dropped).map(|d| d.title.clone()).collect())
    }

    pub fn dropped(&self, userid: &str) -> usize {
        let userid = userid.to_ascii_lowercase();
        self.with(|f| f.deliveries.iter().filter(|d| d.to == userid && d.dropped).count())
    }

    /// Messages not delivered again because of `enable_duplicate_check`.
    pub fn duplicates(&self) -> u32 {
        self.with(|f| f.duplicates)
    }

    /// `user/list_id` returns at most this many ids per page, whatever the limit asked.
    pub fn set_list_page_cap(&self, cap: usize) {
        self.with(|f| f.list_page_cap = cap.max(1));
    }

    pub fn seed_checkin(&self, userid: &str, checkin_type: &str, time: i64) {
        let record = json!({
            "userid": userid,
            "groupname": "总部打卡",
            "checkin_type": checkin_type,
            "exception_type": "",
            "checkin_time": time,
            "location_title": "总部",
            "location_detail": "北京市海淀区",
            "wifiname": "",
            "notes": "",
            "wifimac": "",
            "mediaids": [],
            "lat": 39_984_120,
            "lng": 116_307_480,
            "sch_checkin_time": time,
            "groupid": 1,
        });
        self.with(|f| f.checkins.push(record));
    }

    pub fn checkin_requests(&self) -> Vec<CheckinRequest> {
        self.with(|f| f.checkin_requests.clone())
    }
}

async fn handle(
    State(shared): State<Shared>,
    method: Method,
    Path(api): Path<String>,
    Query(query): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let (answer, delay) = {
        let mut fake = lock(&shared);
        *fake.calls.entry(api.clone()).or_default() += 1;
        if let Some((status, text)) = fake.http_error.take() {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, text).into_response();
        }
        let Some(answer) = fake.dispatch(&method, &api, &query, &body) else {
            return (StatusCode::NOT_FOUND, "no such API").into_response();
        };
        let delay = match fake.lose.take() {
            Some((target, delay)) if target == api => Some(delay),
            other => {
                fake.lose = other;
                None
            }
        };
        (answer, delay)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    axum::Json(answer).into_response()
}
