//! The fake's endpoints: what each API checks and answers, in the order WeCom documents it.

use super::{
    AGENT_ID, APP_SECRET, CONTACT_SECRET, CORP_ID, CheckinRequest, Cred, DAY, Delivery, Fake, Issued, err, ok,
};
use axum::http::Method;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

impl Fake {
    pub(super) fn dispatch(
        &mut self,
        method: &Method,
        api: &str,
        query: &HashMap<String, String>,
        body: &[u8],
    ) -> Option<Value> {
        let get = method == Method::GET;
        let known = matches!(
            (get, api),
            (true, "gettoken" | "user/get" | "agent/get")
                | (
                    false,
                    "user/update"
                        | "user/list_id"
                        | "message/send"
                        | "message/update_template_card"
                        | "checkin/getcheckindata"
                )
        );
        if !known {
            return None;
        }
        if api == "gettoken" {
            return Some(self.gettoken(query));
        }
        if self.untrusted_ip {
            return Some(err(60020, "not allow to access from your ip"));
        }
        if let Some(code) = self.forced.pop_front() {
            let text = if code == 45009 { "api freq out of limit" } else { "system busy" };
            return Some(err(code, text));
        }
        let cred = match self.check_token(query) {
            Ok(cred) => cred,
            Err(answer) => return Some(answer),
        };
        let body = if get {
            Value::Null
        } else {
            match serde_json::from_slice::<Value>(body) {
                Ok(body) if body.is_object() => body,
                _ => return Some(err(40058, "Warning: wrong json format. invalid parameter")),
            }
        };
        Some(match api {
            "user/get" => self.user_get(cred, query),
            "agent/get" => self.agent_get(cred, query),
            "user/update" => self.user_update(cred, &body),
            "user/list_id" => self.list_id(cred, &body),
            "message/send" => self.message_send(cred, &body),
            "message/update_template_card" => self.update_card(cred, &body),
            _ => self.checkin(cred, &body),
        })
    }

    /// WeCom hands out the same token while it is valid, a new one after it expired.
    fn gettoken(&mut self, query: &HashMap<String, String>) -> Value {
        if query.get("corpid").map(String::as_str) != Some(CORP_ID) {
            return err(40013, "invalid corpid");
        }
        let cred = match query.get("corpsecret").map(String::as_str) {
            Some(CONTACT_SECRET) => Cred::Contacts,
            Some(APP_SECRET) => Cred::App,
            _ => return err(40001, "invalid credential"),
        };
        let now = Instant::now();
        let valid = self.tokens.iter().find(|(_, t)| t.cred == cred && t.expires > now);
        let (token, expires) = match valid {
            Some((token, issued)) => (token.clone(), issued.expires),
            None => {
                self.issued += 1;
                let token = format!("fake-{cred:?}-token-{:04}-{}", self.issued, self.token_ttl.as_millis());
                let expires = now + self.token_ttl;
                self.tokens.insert(token.clone(), Issued { cred, expires });
                (token, expires)
            }
        };
        let left = expires.duration_since(now);
        let secs = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        ok(json!({"access_token": token, "expires_in": secs}))
    }

    fn check_token(&self, query: &HashMap<String, String>) -> Result<Cred, Value> {
        let Some(token) = query.get("access_token").filter(|t| !t.is_empty()) else {
            return Err(err(41001, "access_token missing"));
        };
        let Some(issued) = self.tokens.get(token) else {
            return Err(err(40014, "invalid access_token"));
        };
        if issued.expires <= Instant::now() {
            return Err(err(42001, "access_token expired"));
        }
        Ok(issued.cred)
    }

    fn user_get(&self, cred: Cred, query: &HashMap<String, String>) -> Value {
        if cred == Cred::Contacts {
            return err(48002, "api forbidden: contact-sync secret may not read members from this ip");
        }
        let Some(userid) = query.get("userid") else { return err(41009, "missing userid") };
        let Some(member) = self.members.get(&userid.to_ascii_lowercase()) else {
            return err(60111, "userid not found");
        };
        if !member.visible_to_app {
            return err(60011, "no privilege to access/modify contact/party/agent");
        }
        ok(json!({
            "userid": member.userid,
            "name": member.name,
            "department": [1],
            "mobile": "13800000000",
            "email": format!("{}@example.com", member.userid),
            "status": member.status(),
            "main_department": 1,
        }))
    }

    fn agent_get(&self, cred: Cred, query: &HashMap<String, String>) -> Value {
        let asked = query.get("agentid").and_then(|a| a.parse::<i64>().ok());
        if cred != Cred::App || asked != Some(AGENT_ID) {
            return err(301002, "not allow to operate another agent");
        }
        ok(json!({"agentid": AGENT_ID, "name": "离职 Lizhi", "close": 0}))
    }

    fn user_update(&mut self, cred: Cred, body: &Value) -> Value {
        if cred != Cred::Contacts {
            return err(48002, "api forbidden: only the contact-sync secret may write members");
        }
        let Some(userid) = body.get("userid").and_then(Value::as_str) else { return err(41009, "missing userid") };
        let Some(member) = self.members.get_mut(&userid.to_ascii_lowercase()) else {
            return err(60111, "userid not found");
        };
        match body.get("enable").map(Value::as_i64) {
            None => {}
            Some(Some(0)) => member.enable = false,
            Some(Some(1)) => member.enable = true,
            Some(_) => return err(40058, "invalid enable"),
        }
        json!({"errcode": 0, "errmsg": "updated"})
    }

    fn list_id(&self, cred: Cred, body: &Value) -> Value {
        if cred != Cred::Contacts {
            return err(48002, "api forbidden: only the contact-sync secret may list member ids");
        }
        let limit = body.get("limit").and_then(Value::as_u64).unwrap_or(0) as usize;
        if !(1..=10_000).contains(&limit) {
            return err(40058, "invalid limit");
        }
        let offset = match body.get("cursor").and_then(Value::as_str).unwrap_or_default() {
            "" => 0,
            cursor => match cursor.strip_prefix("cur-").and_then(|n| n.parse::<usize>().ok()) {
                Some(offset) => offset,
                None => return err(50100, "invalid cursor"),
            },
        };
        let page = limit.min(self.list_page_cap);
        let entries: Vec<Value> = self
            .members
            .values()
            .skip(offset)
            .take(page)
            .map(|m| json!({"userid": m.userid, "department": 1}))
            .collect();
        let next = if offset + page < self.members.len() { format!("cur-{}", offset + page) } else { String::new() };
        ok(json!({"next_cursor": next, "dept_user": entries}))
    }

    fn message_send(&mut self, cred: Cred, body: &Value) -> Value {
        if cred != Cred::App {
            return err(48002, "api forbidden: the contact-sync secret cannot send messages");
        }
        if body.get("agentid").and_then(Value::as_i64) != Some(AGENT_ID) {
            return err(301002, "not allow to operate another agent");
        }
        let msgtype = body.get("msgtype").and_then(Value::as_str).unwrap_or_default();
        let field = |path: &str| body.pointer(path).and_then(Value::as_str).unwrap_or("");
        let title = match msgtype {
            "textcard" => {
                if field("/textcard/title").is_empty() {
                    return err(41016, "missing title");
                }
                if field("/textcard/description").is_empty() {
                    return err(41033, "missing description");
                }
                if field("/textcard/url").is_empty() {
                    return err(41010, "missing url");
                }
                field("/textcard/title")
            }
            // Template cards: the documented fields of a button card (card_type, main_title.title, task_id,
            // 1–6 buttons each with a key or a URL).
            "template_card" => {
                if field("/template_card/card_type") != "button_interaction" {
                    return err(40008, "invalid card_type");
                }
                if field("/template_card/main_title/title").is_empty() {
                    return err(41016, "missing title");
                }
                let task = field("/template_card/task_id");
                if task.is_empty() || task.len() > 128 {
                    return err(40058, "invalid task_id");
                }
                let buttons = body.pointer("/template_card/button_list").and_then(Value::as_array);
                let buttons_ok = buttons.is_some_and(|list| {
                    (1..=6).contains(&list.len())
                        && list.iter().all(|b| {
                            b.get("key").and_then(Value::as_str).is_some_and(|k| !k.is_empty())
                                || b.get("url").and_then(Value::as_str).is_some_and(|u| !u.is_empty())
                        })
                });
                if !buttons_ok {
                    return err(40058, "invalid button_list");
                }
                field("/template_card/main_title/title")
            }
            _ => return err(40008, "invalid message type"),
        }
        .to_owned();
        let touser = body.get("touser").and_then(Value::as_str).unwrap_or_default();
        let ids: Vec<String> = touser.split('|').filter(|id| !id.is_empty()).map(str::to_ascii_lowercase).collect();
        if ids.is_empty() {
            return err(82001, "all recipients are empty");
        }
        if ids.len() > 1000 {
            return err(40032, "invalid userid list size");
        }
        let interval = body.get("duplicate_check_interval").and_then(Value::as_u64).unwrap_or(1800);
        if interval > 4 * 3600 {
            return err(40058, "invalid duplicate_check_interval");
        }
        let (mut valid, mut invalid, mut unlicensed) = (Vec::new(), Vec::new(), Vec::new());
        for id in ids {
            match self.members.get(&id) {
                Some(m) if m.enable && m.visible_to_app && self.unlicensed.contains(&id) => unlicensed.push(id),
                Some(m) if m.enable && m.visible_to_app => valid.push(id),
                _ => invalid.push(id),
            }
        }
        if valid.is_empty() && unlicensed.is_empty() {
            let mut answer = err(81013, "user & party & tag all invalid");
            answer["invaliduser"] = json!(invalid.join("|"));
            return answer;
        }
        let now = Instant::now();
        let key = body.to_string();
        let check = body.get("enable_duplicate_check").and_then(Value::as_i64) == Some(1);
        let seen_recently =
            self.recent.get(&key).is_some_and(|at| now.duration_since(*at) < Duration::from_secs(interval));
        self.messages += 1;
        if check && seen_recently {
            self.duplicates += 1;
        } else {
            self.recent.insert(key, now);
            for id in valid {
                self.deliver(id, &title, now);
            }
        }
        ok(json!({
            "invaliduser": invalid.join("|"),
            "invalidparty": "",
            "invalidtag": "",
            "unlicenseduser": unlicensed.join("|"),
            "msgid": format!("fake-msg-{}", self.messages),
        }))
    }

    /// A pressed card is updated with the press's response code, once, for the member who pressed it.
    fn update_card(&mut self, cred: Cred, body: &Value) -> Value {
        if cred != Cred::App {
            return err(48002, "api forbidden: the contact-sync secret cannot update cards");
        }
        if body.get("agentid").and_then(Value::as_i64) != Some(AGENT_ID) {
            return err(301002, "not allow to operate another agent");
        }
        let code = body.get("response_code").and_then(Value::as_str).unwrap_or_default();
        let Some(presser) = self.pressed.remove(code) else {
            return err(40058, "invalid response_code (unknown, used or expired)");
        };
        let users: Vec<String> = body
            .get("userids")
            .and_then(Value::as_array)
            .map(|ids| ids.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase).collect())
            .unwrap_or_default();
        let Some(name) = body.pointer("/button/replace_name").and_then(Value::as_str).filter(|n| !n.is_empty()) else {
            return err(40058, "missing button.replace_name");
        };
        if users != [presser.clone()] {
            return err(40058, "userids must be the member who pressed the card");
        }
        self.card_updates.push((presser, name.to_owned()));
        ok(json!({"invaliduser": []}))
    }

    /// Beyond the per-member limit the message is dropped, and the sender is not told.
    fn deliver(&mut self, to: String, title: &str, now: Instant) {
        let (count, window) = self.member_limit;
        let seen = self.windows.entry(to.clone()).or_default();
        while seen.front().is_some_and(|at| now.duration_since(*at) >= window) {
            seen.pop_front();
        }
        let dropped = seen.len() >= count;
        if !dropped {
            seen.push_back(now);
        }
        self.deliveries.push(Delivery { to, title: title.to_owned(), dropped });
    }

    fn checkin(&mut self, cred: Cred, body: &Value) -> Value {
        if cred != Cred::App {
            return err(48002, "api forbidden: check-ins need an app configured for the check-in API");
        }
        let users: HashSet<String> = body
            .get("useridlist")
            .and_then(Value::as_array)
            .map(|list| list.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase).collect())
            .unwrap_or_default();
        if users.is_empty() || users.len() > 100 {
            return err(301023, "userlist is over threshold");
        }
        let start = body.get("starttime").and_then(Value::as_i64).unwrap_or(0);
        let end = body.get("endtime").and_then(Value::as_i64).unwrap_or(0);
        if start <= 0 || end <= start || end - start > 30 * DAY {
            return err(301024, "checkin time span is invalid or over the limit");
        }
        let kind = body.get("opencheckindatatype").and_then(Value::as_i64).unwrap_or(0);
        if !(1..=3).contains(&kind) {
            return err(40058, "invalid opencheckindatatype");
        }
        self.checkin_requests.push(CheckinRequest { users: users.len(), start, end, at: Instant::now() });
        let data: Vec<Value> = self
            .checkins
            .iter()
            .filter(|r| {
                let userid = r["userid"].as_str().unwrap_or_default().to_ascii_lowercase();
                let time = r["checkin_time"].as_i64().unwrap_or_default();
                let field = r["checkin_type"].as_str() == Some("外出打卡");
                let wanted = kind == 3 || (kind == 2) == field;
                users.contains(&userid) && (start..=end).contains(&time) && wanted
            })
            .cloned()
            .collect();
        ok(json!({"checkindata": data}))
    }
}
