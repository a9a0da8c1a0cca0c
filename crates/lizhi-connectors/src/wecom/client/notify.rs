//! Text-card messages to members (`message/send`, msgtype `textcard`), paced per recipient.
//!
//! A send can succeed partly: WeCom delivers to the valid recipients and lists the others in `invaliduser`
//! (unknown, disabled or outside the app's visibility; lower-cased) and `unlicenseduser` (no interface
//! licence). That is a success with a [`SendReport`]; only "no valid recipient at all" (81013) is a refusal.

use super::wire::{self, invalid, later};
use super::{Credential, SYSTEM, WeComClient, check_userid};
use crate::access::CallError;
use reqwest::{Method, Url};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashSet;

/// `touser` takes at most 1000 userids.
const MAX_RECIPIENTS: usize = 1000;
/// `duplicate_check_interval` is at most four hours.
const MAX_DUPLICATE_INTERVAL: u32 = 4 * 3600;

/// What WeCom did with a message. `delivered` means accepted for delivery (not read, and a duplicate WeCom
/// suppressed under `enable_duplicate_check` is reported as delivered too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendReport {
    /// Recipients WeCom accepted, as the caller spelled them.
    pub delivered: Vec<String>,
    /// `invaliduser`: unknown, disabled or outside the app's visibility (WeCom lower-cases them).
    pub invalid_users: Vec<String>,
    /// `unlicenseduser`: members without an interface licence (or an expired one).
    pub unlicensed_users: Vec<String>,
    /// `invalidparty`, `invalidtag`: always empty, since Lizhi addresses members only; kept for evidence.
    pub invalid_parties: Vec<String>,
    /// See [`invalid_parties`](Self::invalid_parties).
    pub invalid_tags: Vec<String>,
    /// WeCom's message id (for recalling it), when it gives one.
    pub msgid: Option<String>,
}

impl WeComClient {
    /// Sends a text card to members. `btntxt` defaults to WeCom's "详情". `dedupe` is `(enable, interval_secs)`
    /// for WeCom's duplicate check (the same request JSON within the interval is not delivered again; default
    /// interval 1800 s, at most 4 h): use it whenever a send may be retried after an ambiguous failure.
    ///
    /// Every recipient's window (30 a minute, 1000 an hour by default) is reserved first; a send that would
    /// wait longer than [`Pacing::max_wait`](super::Pacing::max_wait) is refused as retryable with
    /// "retry after N s" and nothing is sent.
    pub async fn send_text_card(
        &self,
        to_userids: &[&str],
        title: &str,
        description: &str,
        url: &str,
        btntxt: Option<&str>,
        dedupe: Option<(bool, u32)>,
    ) -> Result<SendReport, CallError> {
        let recipients = distinct_recipients(to_userids)?;
        if title.trim().is_empty() || description.trim().is_empty() {
            return Err(invalid("invalid_message", "a text card needs a title and a description"));
        }
        if !Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(invalid("invalid_message", "the card URL must be an absolute http(s) URL"));
        }
        let mut card = json!({"title": title, "description": description, "url": url});
        if let Some(text) = btntxt.filter(|t| !t.trim().is_empty()) {
            card["btntxt"] = json!(text);
        }
        self.send(&recipients, "textcard", card, dedupe).await
    }

    /// Sends a `button_interaction` template card: a title and text, a link to `url` when the card is
    /// tapped, a callback button per `(key, text)` in `callbacks` (pressing one comes back as a
    /// `template_card_event` with the key and `task_id`) and optionally a button that opens `url`.
    /// `task_id` must be unique per app (letters, digits, `_-@`, at most 128 bytes). Paced like
    /// [`send_text_card`](Self::send_text_card).
    #[allow(clippy::too_many_arguments)]
    pub async fn send_button_card(
        &self,
        to_userids: &[&str],
        task_id: &str,
        title: &str,
        description: &str,
        url: &str,
        callbacks: &[(&str, &str)],
        link_button: Option<&str>,
        dedupe: Option<(bool, u32)>,
    ) -> Result<SendReport, CallError> {
        let recipients = distinct_recipients(to_userids)?;
        if task_id.is_empty()
            || task_id.len() > 128
            || !task_id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'@'))
        {
            return Err(invalid("invalid_message", "a task id is 1 to 128 letters, digits, '_', '-' or '@'"));
        }
        if title.trim().is_empty() || !Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https")) {
            return Err(invalid("invalid_message", "a button card needs a title and an absolute http(s) URL"));
        }
        let mut buttons: Vec<Value> =
            callbacks.iter().map(|(key, text)| json!({"type": 0, "text": text, "style": 1, "key": key})).collect();
        if let Some(text) = link_button {
            buttons.push(json!({"type": 1, "text": text, "style": 2, "url": url}));
        }
        if buttons.is_empty() || buttons.len() > 6 {
            return Err(invalid("invalid_message", "a button card has 1 to 6 buttons"));
        }
        // WeCom cuts a main title at 36 characters and the text at 112; cut here so the evidence shows what
        // was shown.
        let cut = |text: &str, max: usize| text.chars().take(max).collect::<String>();
        let card = json!({
            "card_type": "button_interaction",
            "main_title": {"title": cut(title, 36)},
            "sub_title_text": cut(description, 112),
            "card_action": {"type": 1, "url": url},
            "task_id": task_id,
            "button_list": buttons,
        });
        self.send(&recipients, "template_card", card, dedupe).await
    }

    /// Replaces the buttons of a pressed button card with `replace_name` ("已同意"), for the members who
    /// pressed it (`message/update_template_card`; the `response_code` comes with the press, is valid 72 hours
    /// and works once).
    pub async fn update_button_card(
        &self,
        userids: &[&str],
        response_code: &str,
        replace_name: &str,
    ) -> Result<(), CallError> {
        let recipients = distinct_recipients(userids)?;
        if response_code.trim().is_empty() || replace_name.trim().is_empty() {
            return Err(invalid("invalid_message", "a card update needs the response code and the new button text"));
        }
        let body = json!({
            "userids": recipients,
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        });
        let answer = self.call(Credential::App, Method::POST, "message/update_template_card", &[], Some(&body)).await?;
        answer.ok().map(|_| ())
    }

    /// Sends one message of `msgtype` whose content is `content`, after reserving every recipient's window.
    async fn send(
        &self,
        recipients: &[String],
        msgtype: &str,
        content: Value,
        dedupe: Option<(bool, u32)>,
    ) -> Result<SendReport, CallError> {
        let mut body = json!({
            "touser": recipients.join("|"),
            "msgtype": msgtype,
            "agentid": self.agent_id,
        });
        body[msgtype] = content;
        if let Some((enabled, interval)) = dedupe {
            if interval == 0 || interval > MAX_DUPLICATE_INTERVAL {
                return Err(invalid("invalid_message", "the duplicate check interval must be 1 s to 4 h"));
            }
            body["enable_duplicate_check"] = json!(i32::from(enabled));
            body["duplicate_check_interval"] = json!(interval);
        }
        // The token first, so that the reserved instant is close to when WeCom counts the message.
        self.app.get(&self.transport, &self.corp_id).await?;
        let keys: Vec<String> = recipients.iter().map(|r| r.to_ascii_lowercase()).collect();
        let at = self.members.reserve(&keys, self.pacing.max_wait).map_err(|wait| {
            let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
            later(
                "member_rate",
                format!(
                    "a recipient would get more messages than WeCom delivers per member (it drops the rest); \
                     retry after {secs} s"
                ),
            )
        })?;
        tokio::time::sleep_until(at.into()).await;
        let answer = self.call(Credential::App, Method::POST, "message/send", &[], Some(&body)).await?;
        match answer.errcode {
            0 => Ok(report(recipients, &answer.body)),
            wire::NO_VALID_RECIPIENT => Err(invalid(
                &answer.errcode.to_string(),
                format!(
                    "no recipient is valid (unknown, disabled or outside the app's visibility): {}; WeCom said: {}",
                    list(&answer.body, "invaliduser").join(", "),
                    answer.errmsg
                ),
            )),
            _ => Err(answer.refusal()),
        }
    }
}

/// The recipients once each (userids are case-insensitive), in the caller's order and spelling.
fn distinct_recipients(to_userids: &[&str]) -> Result<Vec<String>, CallError> {
    let mut seen = HashSet::new();
    let mut recipients = Vec::new();
    for userid in to_userids {
        check_userid(userid)?;
        if seen.insert(userid.to_ascii_lowercase()) {
            recipients.push((*userid).to_owned());
        }
    }
    match recipients.len() {
        0 => Err(invalid("invalid_message", "a message needs at least one recipient")),
        n if n > MAX_RECIPIENTS => {
            Err(invalid("invalid_message", format!("{n} recipients: WeCom takes at most {MAX_RECIPIENTS}")))
        }
        _ => Ok(recipients),
    }
}

/// A `|`-separated id list of the answer.
fn list(body: &Value, field: &str) -> Vec<String> {
    let text = body.get(field).and_then(Value::as_str).unwrap_or_default();
    text.split('|').map(str::trim).filter(|id| !id.is_empty()).map(str::to_owned).collect()
}

fn report(recipients: &[String], body: &Value) -> SendReport {
    let invalid_users = list(body, "invaliduser");
    let unlicensed_users = list(body, "unlicenseduser");
    let refused: HashSet<String> =
        invalid_users.iter().chain(&unlicensed_users).map(|u| u.to_ascii_lowercase()).collect();
    let delivered = recipients.iter().filter(|r| !refused.contains(&r.to_ascii_lowercase())).cloned().collect();
    let msgid = body.get("msgid").and_then(Value::as_str).filter(|m| !m.is_empty()).map(str::to_owned);
    tracing::debug!(system = SYSTEM, refused = refused.len(), "wecom message sent");
    SendReport {
        delivered,
        invalid_users,
        unlicensed_users,
        invalid_parties: list(body, "invalidparty"),
        invalid_tags: list(body, "invalidtag"),
        msgid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_answers_become_reports() {
        let recipients = vec!["ZhangSan".to_owned(), "lisi".to_owned(), "wangwu".to_owned()];
        let body = json!({"errcode": 0, "errmsg": "ok", "invaliduser": "zhangsan", "invalidparty": "",
            "unlicenseduser": "wangwu|", "msgid": "m-1"});
        let report = report(&recipients, &body);
        assert_eq!(report.delivered, ["lisi"]);
        assert_eq!(report.invalid_users, ["zhangsan"]);
        assert_eq!(report.unlicensed_users, ["wangwu"]);
        assert!(report.invalid_parties.is_empty() && report.invalid_tags.is_empty());
        assert_eq!(report.msgid.as_deref(), Some("m-1"));
    }

    #[test]
    fn recipients_are_checked_and_deduplicated() {
        assert_eq!(distinct_recipients(&["a", "A", "b"]).expect("valid"), ["a", "b"]);
        assert!(distinct_recipients(&[]).is_err());
        assert!(distinct_recipients(&["a|b"]).is_err());
        let many: Vec<String> = (0..1001).map(|i| format!("u{i}")).collect();
        let many: Vec<&str> = many.iter().map(String::as_str).collect();
        assert!(distinct_recipients(&many).is_err());
    }
}
