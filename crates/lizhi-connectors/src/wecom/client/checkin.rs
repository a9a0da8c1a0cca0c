//! Check-in records (`checkin/getcheckindata`, all kinds: `opencheckindatatype` 3), e.g. to establish a
//! departing employee's last working day.
//!
//! WeCom takes at most 100 users and a span of at most 30 days per call (errcodes 301023 / 301024 otherwise)
//! and 600 calls a minute, so a request is split into users × time chunks, paced, and merged.

use super::wire::invalid;
use super::{Credential, WeComClient, check_userid};
use crate::access::CallError;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashSet;

/// Users per call: WeCom's limit.
const USERS_PER_CALL: usize = 100;
/// Seconds per call. WeCom allows 30 days; one day less, because the service is reported to widen a query to
/// whole days, and a widened 30-day span would be refused.
const SPAN_PER_CALL: i64 = 29 * 86_400;
/// "All check-ins": on duty, off duty and field check-ins.
const ALL_KINDS: i64 = 3;

/// One check-in as WeCom reports it (field names as in WeCom's answer; times are unix seconds).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(default)]
pub struct CheckinRecord {
    /// The member.
    pub userid: String,
    /// The check-in rule group's name.
    pub groupname: String,
    /// "上班打卡", "下班打卡" or "外出打卡".
    pub checkin_type: String,
    /// Empty, or why it is irregular ("时间异常", "地点异常", "未打卡", …).
    pub exception_type: String,
    /// When (for a missed check-in: when it was due), unix seconds.
    pub checkin_time: i64,
    /// Place name.
    pub location_title: String,
    /// Address.
    pub location_detail: String,
    /// Wi-Fi network name, for Wi-Fi check-ins.
    pub wifiname: String,
    /// The member's note.
    pub notes: String,
    /// The scheduled time, for fixed and custom schedules.
    pub sch_checkin_time: Option<i64>,
}

impl WeComClient {
    /// All check-ins of `userids` between `from` and `to` (unix seconds, inclusive), with the app token (the app
    /// must be listed under 打卡 → 可调用接口的应用). Records are deduplicated (chunks share their boundary
    /// second) and sorted by time, then userid. Calls wait for the check-in pacing window.
    pub async fn checkin_data(&self, userids: &[&str], from: i64, to: i64) -> Result<Vec<CheckinRecord>, CallError> {
        let mut seen = HashSet::new();
        let mut users = Vec::new();
        for userid in userids {
            check_userid(userid)?;
            if seen.insert(userid.to_ascii_lowercase()) {
                users.push(*userid);
            }
        }
        if users.is_empty() {
            return Err(invalid("invalid_request", "check-in data needs at least one userid"));
        }
        if from <= 0 || to <= from {
            return Err(invalid("invalid_request", "check-in data needs 0 < from < to (unix seconds)"));
        }
        let mut records = HashSet::new();
        for group in users.chunks(USERS_PER_CALL) {
            for (start, end) in spans(from, to) {
                let body = json!({
                    "opencheckindatatype": ALL_KINDS,
                    "starttime": start,
                    "endtime": end,
                    "useridlist": group,
                });
                let at = self.checkin_calls.reserve_waiting("checkin");
                tokio::time::sleep_until(at.into()).await;
                let page =
                    self.call(Credential::App, Method::POST, "checkin/getcheckindata", &[], Some(&body)).await?.ok()?;
                let data = page.get("checkindata").cloned().unwrap_or(Value::Array(Vec::new()));
                let chunk: Vec<CheckinRecord> = serde_json::from_value(data).map_err(|e| {
                    invalid("invalid_response", format!("checkin/getcheckindata: unexpected record shape: {e}"))
                })?;
                records.extend(chunk.into_iter().filter(|r| (from..=to).contains(&r.checkin_time)));
            }
        }
        let mut records: Vec<CheckinRecord> = records.into_iter().collect();
        records.sort_by(|a, b| {
            (a.checkin_time, &a.userid, &a.checkin_type).cmp(&(b.checkin_time, &b.userid, &b.checkin_type))
        });
        Ok(records)
    }
}

/// `[from, to]` cut into spans of at most [`SPAN_PER_CALL`]; neighbours share their boundary second, so
/// every span has `end > start` as WeCom requires and nothing falls between two spans.
fn spans(from: i64, to: i64) -> Vec<(i64, i64)> {
    let mut spans = Vec::new();
    let mut start = from;
    while start < to {
        let end = start.saturating_add(SPAN_PER_CALL).min(to);
        spans.push((start, end));
        start = end;
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_range_within_the_limit() {
        let day = 86_400;
        let from = 1_700_000_000;
        let cut = spans(from, from + 45 * day);
        assert_eq!(cut, [(from, from + 29 * day), (from + 29 * day, from + 45 * day)]);
        assert_eq!(spans(from, from + 1), [(from, from + 1)]);
        assert_eq!(spans(from, from + 58 * day).len(), 2);
        assert_eq!(spans(from, from + 58 * day + 1).len(), 3);
        assert!(spans(from, from).is_empty());
    }
}
