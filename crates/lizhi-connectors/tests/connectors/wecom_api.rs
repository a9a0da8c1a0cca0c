//! WeCom server API client against the fake in `wecom_fake` (WeCom has no public sandbox): disabling and
//! reading back, token caching and single-flight refresh, the errcodes that drive the retry policy, lost
//! responses, messages with partial recipients, duplicate checks and per-member pacing, and chunked check-ins.

use crate::wecom_fake::{APP_SECRET, CONTACT_SECRET, DAY, FakeWeCom};
use lizhi_connectors::access::{AccessState, CallError, Intent, Verdict};
use lizhi_connectors::wecom::client::{RateLimit, WeComClient, WeComTarget, retry_after_secs};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

const CARD_URL: &str = "https://lizhi.example.com/cases/42";

fn client(target: WeComTarget) -> WeComClient {
    WeComClient::new(target).expect("client")
}

async fn fake_with(members: &[&str]) -> FakeWeCom {
    let fake = FakeWeCom::start().await;
    for userid in members {
        fake.add_member(userid, &format!("成员 {userid}"));
    }
    fake
}

fn refused(err: &CallError) -> (&str, bool) {
    match err {
        CallError::Refused { code, retryable, .. } => (code.as_str(), *retryable),
        CallError::Ambiguous { .. } => panic!("expected a refusal, got {err}"),
    }
}

async fn card(client: &WeComClient, to: &[&str], dedupe: Option<(bool, u32)>) -> Result<(), CallError> {
    let description = "张三 leaves on 2025-07-01: please confirm the handover.";
    client.send_text_card(to, "离职交接", description, CARD_URL, Some("查看"), dedupe).await.map(|_| ())
}

#[tokio::test]
async fn disabling_reads_back_disabled_and_verifies() {
    let fake = fake_with(&["zhangsan"]).await;
    let client = client(fake.target());
    let before = client.read_state("zhangsan").await.expect("read");
    assert_eq!(before.state, AccessState::Active);
    assert_eq!(client.verdict(&before), Verdict::NotRevoked);

    let obs = client.apply(Intent::Freeze, "zhangsan").await.expect("freeze");
    assert_eq!(obs.state, AccessState::Disabled);
    assert_eq!(client.verdict(&obs), Verdict::Verified);
    assert_eq!(obs.evidence["status"], 2);
    assert_eq!(obs.evidence["userid"], "zhangsan");
    assert_eq!(obs.request_id, None, "a success carries no hint");
    let kept = obs.evidence.to_string();
    assert!(!kept.contains("13800000000") && !kept.contains("example.com"), "no personal data kept: {kept}");
    assert_eq!(fake.status("zhangsan"), Some(2));
    assert_eq!(fake.calls("user/update"), 1);
}

#[tokio::test]
async fn disabling_twice_is_idempotent_and_unfreeze_re_enables() {
    let fake = fake_with(&["lisi"]).await;
    let client = client(fake.target());
    for _ in 0..2 {
        let obs = client.apply(Intent::Revoke, "lisi").await.expect("revoke");
        assert_eq!(obs.state, AccessState::Disabled);
        assert_eq!(fake.status("lisi"), Some(2));
    }
    let obs = client.apply(Intent::Unfreeze, "lisi").await.expect("unfreeze");
    assert_eq!(obs.state, AccessState::Active);
    assert_eq!(client.verdict(&obs), Verdict::NotRevoked);
    assert_eq!(fake.status("lisi"), Some(1));
    assert_eq!(fake.calls("user/update"), 3, "never a delete, one update per intent");
}

#[tokio::test]
async fn statuses_map_conservatively_and_absent_members_verify() {
    let fake = fake_with(&["newbie", "leaver", "off"]).await;
    fake.set_not_activated("newbie");
    fake.set_quit("leaver");
    fake.set_enabled("off", false);
    let client = client(fake.target());
    let state = |s: &'static str| {
        let client = &client;
        async move { client.read_state(s).await.expect("read").state }
    };
    assert_eq!(state("newbie").await, AccessState::Active, "not activated can still join");
    assert_eq!(state("leaver").await, AccessState::Disabled);
    assert_eq!(state("off").await, AccessState::Disabled);

    let ghost = client.read_state("ghost").await.expect("read");
    assert_eq!((ghost.state, client.verdict(&ghost)), (AccessState::Absent, Verdict::Verified));
    assert_eq!(ghost.evidence["errcode"], 60111);
    assert!(ghost.request_id.is_some_and(|hint| hint.contains("fake60111")));
    assert_eq!(client.apply(Intent::Revoke, "ghost").await.expect("already gone").state, AccessState::Absent);
    let err = client.apply(Intent::Unfreeze, "ghost").await.expect_err("cannot re-enable");
    assert_eq!(refused(&err), ("60111", false));
    assert!(!client.exists("ghost").await.expect("list"));
    assert!(client.read_state("bad|id").await.is_err());
}

#[tokio::test]
async fn read_back_needs_the_app_to_see_the_member_and_list_id_is_the_fallback() {
    let fake = fake_with(&["hidden"]).await;
    fake.hide_from_app("hidden");
    let client = client(fake.target());
    let err = client.apply(Intent::Freeze, "hidden").await.expect_err("read-back refused");
    assert!(matches!(&err, CallError::Ambiguous { message, .. } if message.contains("60011")), "{err}");
    assert_eq!(fake.status("hidden"), Some(2), "the disable itself went through");
    let err = client.read_state("hidden").await.expect_err("outside the app's visibility");
    assert_eq!(refused(&err), ("60011", false));
    assert!(err.to_string().contains("可见范围"));
    assert!(client.exists("hidden").await.expect("list"));
}

#[tokio::test]
async fn exists_pages_through_list_id() {
    let fake = fake_with(&["m0", "m1", "m2", "m3", "m4", "m5", "m6"]).await;
    fake.set_list_page_cap(2);
    let client = client(fake.target());
    assert!(client.exists("M6").await.expect("list"), "userids are case-insensitive");
    assert_eq!(fake.calls("user/list_id"), 4);
    assert!(!client.exists("nobody").await.expect("list"));
    assert_eq!(fake.calls("user/list_id"), 8);
}

#[tokio::test]
async fn tokens_are_cached_per_secret() {
    let fake = fake_with(&["a", "b"]).await;
    let client = client(fake.target());
    for _ in 0..5 {
        client.read_state("a").await.expect("read");
    }
    client.apply(Intent::Freeze, "b").await.expect("freeze");
    client.exists("b").await.expect("list");
    card(&client, &["a"], None).await.expect("send");
    assert_eq!(fake.calls("gettoken"), 2, "one token per secret for every call");
    assert_eq!(fake.calls("user/get"), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_share_one_refresh() {
    let fake = fake_with(&["a"]).await;
    let client = Arc::new(client(fake.target()));
    client.read_state("a").await.expect("warm up");
    fake.revoke_tokens();
    fake.reset_calls();
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.read_state("a").await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("task").expect("read").state, AccessState::Active);
    }
    assert_eq!(fake.calls("gettoken"), 1, "single flight");
    assert!((10..=20).contains(&fake.calls("user/get")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_renewed_before_they_expire() {
    let fake = fake_with(&["a"]).await;
    fake.set_token_ttl(Duration::from_secs(1));
    let client = Arc::new(client(fake.target()));
    client.read_state("a").await.expect("first token");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    fake.reset_calls();
    let calls: Vec<_> = (0..10)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move { client.read_state("a").await })
        })
        .collect();
    for call in calls {
        call.await.expect("task").expect("read");
    }
    assert_eq!(fake.calls("gettoken"), 1, "single flight");
    assert_eq!(fake.calls("user/get"), 10, "no call was made with the expired token");
}

#[tokio::test]
async fn a_token_ended_early_is_refreshed_and_the_call_retried_once() {
    let fake = fake_with(&["a"]).await;
    let client = client(fake.target());
    client.test_connection().await.expect("warm up both tokens");
    for end_tokens in [FakeWeCom::revoke_tokens as fn(&FakeWeCom), FakeWeCom::forget_tokens] {
        end_tokens(&fake);
        fake.reset_calls();
        assert_eq!(client.apply(Intent::Freeze, "a").await.expect("freeze").state, AccessState::Disabled);
        assert_eq!(fake.calls("gettoken"), 2, "one refresh per secret (update, then read-back)");
        assert_eq!((fake.calls("user/update"), fake.calls("user/get")), (2, 2));
    }
    fake.reset_calls();
    fake.fail_next(42001);
    fake.fail_next(42001);
    let err = client.read_state("a").await.expect_err("refused twice");
    assert_eq!(refused(&err), ("42001", true));
    assert_eq!((fake.calls("gettoken"), fake.calls("user/get")), (1, 2), "retried once only");
}

#[tokio::test]
async fn a_wrong_secret_is_refused_and_never_printed() {
    let fake = fake_with(&["a"]).await;
    let mut target = fake.target();
    target.app_secret = "wrong-app-secret-0000".into();
    let err = client(target).read_state("a").await.expect_err("wrong secret");
    assert_eq!(refused(&err), ("40001", false));
    let text = format!("{err} {err:?}");
    assert!(text.contains("wrong secret") && text.contains("app secret"), "{text}");
    for secret in ["wrong-app-secret-0000", CONTACT_SECRET, APP_SECRET] {
        assert!(!text.contains(secret), "{text}");
    }
    let mut target = fake.target();
    target.corp_id = "ww0000000000000000".into();
    let err = client(target).apply(Intent::Freeze, "a").await.expect_err("wrong corp id");
    assert_eq!(refused(&err), ("40013", false));
    assert_eq!(fake.status("a"), Some(1));
}

#[tokio::test]
async fn an_untrusted_ip_is_refused_with_the_allow_list_named() {
    let fake = fake_with(&["a"]).await;
    let client = client(fake.target());
    fake.set_untrusted_ip(true);
    for err in [
        client.apply(Intent::Freeze, "a").await.expect_err("untrusted"),
        client.test_connection().await.expect_err("untrusted"),
    ] {
        assert_eq!(refused(&err), ("60020", false));
        let text = err.to_string();
        assert!(text.contains("allow-list") && text.contains("(127.0.0.1)"), "{text}");
    }
    assert_eq!(fake.status("a"), Some(1));
    fake.set_untrusted_ip(false);
    client.test_connection().await.expect("trusted again");
    let mut target = fake.target();
    target.agent_id += 1;
    let err = self::client(target).test_connection().await.expect_err("agent id of another app");
    assert_eq!(refused(&err), ("301002", false));
}

#[tokio::test]
async fn rate_limits_and_busy_answers_are_retryable() {
    let fake = fake_with(&["a"]).await;
    let client = client(fake.target());
    fake.rate_limit_next(1);
    let err = client.apply(Intent::Freeze, "a").await.expect_err("rate limited");
    assert_eq!(refused(&err), ("45009", true));
    assert_eq!(retry_after_secs(&err), Some(60));
    assert_eq!(fake.status("a"), Some(1), "nothing changed");
    fake.fail_next(-1);
    let err = client.read_state("a").await.expect_err("busy");
    assert_eq!(refused(&err), ("-1", true));
    assert_eq!(client.apply(Intent::Freeze, "a").await.expect("passes later").state, AccessState::Disabled);
}

#[tokio::test]
async fn a_lost_response_is_ambiguous_and_the_read_back_shows_the_effect() {
    let fake = fake_with(&["wangwu"]).await;
    let mut target = fake.target();
    target.timeout = Duration::from_millis(1500);
    let client = client(target);
    client.read_state("wangwu").await.expect("warm up");
    fake.lose_next_response("user/update", Duration::from_secs(8));
    let err = client.apply(Intent::Revoke, "wangwu").await.expect_err("no answer");
    assert!(matches!(err, CallError::Ambiguous { .. }), "{err}");
    assert_eq!(err.code(), "connector_ambiguous");
    for secret in [CONTACT_SECRET, APP_SECRET, "access_token"] {
        assert!(!err.to_string().contains(secret), "{err}");
    }
    let obs = client.read_state("wangwu").await.expect("read back");
    assert_eq!((obs.state, client.verdict(&obs)), (AccessState::Disabled, Verdict::Verified));
}

#[tokio::test]
async fn non_json_and_server_errors_are_ambiguous_and_refused_connections_retryable() {
    let fake = fake_with(&["a"]).await;
    let client = client(fake.target());
    client.test_connection().await.expect("warm up both tokens");
    for (status, body) in [(502, "<html>502 Bad Gateway</html>"), (200, "<html>captive portal</html>")] {
        fake.http_error_next(status, body);
        let err = client.apply(Intent::Freeze, "a").await.expect_err("not an answer");
        assert!(matches!(&err, CallError::Ambiguous { message, .. } if message.contains("<html>")), "{err}");
    }
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port");
    let mut target = fake.target();
    target.base_url = format!("http://{closed}");
    let err = self::client(target).read_state("a").await.expect_err("nobody listens");
    assert_eq!(refused(&err), ("connect", true));
}

#[tokio::test]
async fn partial_recipients_are_reported() {
    let fake = fake_with(&["mgr1", "mgr2", "leftco"]).await;
    fake.set_unlicensed("mgr2");
    fake.set_enabled("leftco", false);
    let client = client(fake.target());
    let to = ["mgr1", "mgr2", "LeftCo", "Ghost", "mgr1"];
    let report = client
        .send_text_card(&to, "离职交接", "张三 leaves on 2025-07-01.", CARD_URL, None, None)
        .await
        .expect("partial success");
    assert_eq!(report.delivered, ["mgr1"]);
    assert_eq!(report.invalid_users, ["leftco", "ghost"]);
    assert_eq!(report.unlicensed_users, ["mgr2"]);
    assert!(report.msgid.is_some());
    assert_eq!(fake.calls("message/send"), 1, "one message for every recipient");
    assert_eq!((fake.delivered("mgr1"), fake.delivered("mgr2")), (1, 0));

    let err = card(&client, &["ghost", "leftco"], None).await.expect_err("nobody valid");
    assert_eq!(refused(&err), ("81013", false));
    for bad in [card(&client, &[], None).await, card(&client, &["mgr1"], Some((true, 0))).await] {
        assert_eq!(refused(&bad.expect_err("invalid input")), ("invalid_message", false));
    }
    let err = client.send_text_card(&["mgr1"], "t", "d", "javascript:alert(1)", None, None).await.expect_err("url");
    assert_eq!(refused(&err), ("invalid_message", false));
    assert_eq!(fake.calls("message/send"), 2);
}

#[tokio::test]
async fn the_duplicate_check_suppresses_a_resend() {
    let fake = fake_with(&["mgr"]).await;
    let client = client(fake.target());
    card(&client, &["mgr"], Some((true, 600))).await.expect("first");
    card(&client, &["mgr"], Some((true, 600))).await.expect("retry after an ambiguous failure");
    assert_eq!((fake.delivered("mgr"), fake.duplicates()), (1, 1));
    card(&client, &["mgr"], None).await.expect("without the check");
    card(&client, &["mgr"], Some((false, 600))).await.expect("check off");
    assert_eq!(fake.delivered("mgr"), 3);
}

/// A member limit of 30 per `window` on both sides stands for WeCom's 30 a minute; the client may be told
/// a different count to switch its pacing off.
async fn paced(fake: &FakeWeCom, per_member: u32, window: Duration, max_wait: Duration) -> WeComClient {
    fake.set_member_limit(30, window);
    let mut target = fake.target();
    target.pacing.per_member = vec![RateLimit::new(per_member, window)];
    target.pacing.margin = Duration::from_millis(300);
    target.pacing.max_wait = max_wait;
    let client = client(target);
    client.test_connection().await.expect("tokens");
    client
}

#[tokio::test]
async fn per_member_pacing_never_lets_wecom_drop_a_message() {
    let fake = fake_with(&["busy", "other"]).await;
    let client = paced(&fake, 30, Duration::from_secs(1), Duration::from_secs(5)).await;
    let start = Instant::now();
    for _ in 0..35 {
        card(&client, &["busy"], None).await.expect("paced send");
    }
    assert!(start.elapsed() >= Duration::from_secs(1), "the 31st waited for the window");
    assert_eq!((fake.delivered("busy"), fake.dropped("busy")), (35, 0));
    let start = Instant::now();
    card(&client, &["other"], None).await.expect("another member is not held up");
    assert!(start.elapsed() < Duration::from_millis(900));
}

#[tokio::test]
async fn without_pacing_the_fake_drops_like_wecom() {
    let fake = fake_with(&["busy"]).await;
    let client = paced(&fake, 1000, Duration::from_secs(10), Duration::from_secs(5)).await;
    for _ in 0..35 {
        card(&client, &["busy"], None).await.expect("WeCom answers ok even when it drops");
    }
    assert_eq!((fake.delivered("busy"), fake.dropped("busy")), (30, 5));
}

#[tokio::test]
async fn a_long_pacing_wait_is_refused_as_retryable() {
    let fake = fake_with(&["busy"]).await;
    let client = paced(&fake, 30, Duration::from_secs(1), Duration::ZERO).await;
    for _ in 0..30 {
        card(&client, &["busy"], None).await.expect("within the window");
    }
    let err = card(&client, &["busy"], None).await.expect_err("window full");
    assert_eq!(refused(&err), ("member_rate", true));
    assert!(matches!(retry_after_secs(&err), Some(1 | 2)), "1 s window plus margin, rounded up: {err}");
    assert_eq!(fake.calls("message/send"), 30, "nothing sent");
    assert_eq!(fake.dropped("busy"), 0);
}

#[tokio::test]
async fn check_ins_are_chunked_paced_and_merged() {
    let fake = FakeWeCom::start().await;
    let users: Vec<String> = (0..250).map(|i| format!("u{i:03}")).collect();
    let from = 1_740_000_000;
    let to = from + 45 * DAY;
    let mut expected = 0;
    for (i, user) in users.iter().enumerate() {
        for day in (0..45).step_by(3) {
            fake.seed_checkin(user, "上班打卡", from + day * DAY + 3600 + i as i64);
            expected += 1;
        }
    }
    fake.seed_checkin("u007", "外出打卡", from + 29 * DAY);
    fake.seed_checkin("u007", "下班打卡", to + 1);
    expected += 1;
    let mut target = fake.target();
    target.pacing.checkin_calls = RateLimit::new(4, Duration::from_secs(1));
    target.pacing.margin = Duration::from_millis(300);
    let client = client(target);
    client.test_connection().await.expect("warm up the tokens");
    let ids: Vec<&str> = users.iter().map(String::as_str).collect();
    let records = client.checkin_data(&ids, from, to).await.expect("check-ins");

    let requests = fake.checkin_requests();
    assert_eq!(requests.len(), 6, "3 user chunks × 2 time chunks");
    for r in &requests {
        assert!(r.users <= 100 && r.end > r.start && r.end - r.start <= 30 * DAY, "{r:?}");
    }
    assert!(requests[4].at.duration_since(requests[0].at) >= Duration::from_secs(1), "4 calls a second");
    assert_eq!(records.len(), expected, "boundary record once, out-of-range record not at all");
    let distinct: HashSet<_> = records.iter().map(|r| (&r.userid, r.checkin_time, &r.checkin_type)).collect();
    assert_eq!(distinct.len(), records.len());
    assert!(records.windows(2).all(|w| w[0].checkin_time <= w[1].checkin_time));
    let field = records.iter().find(|r| r.checkin_type == "外出打卡").expect("boundary record");
    assert_eq!((field.userid.as_str(), field.sch_checkin_time), ("u007", Some(from + 29 * DAY)));
    assert!(client.checkin_data(&ids, to, from).await.is_err());
    assert!(client.checkin_data(&[], from, to).await.is_err());
}
