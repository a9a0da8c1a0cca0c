//! WeCom check-ins into Lizhi's punches, so the early-warning scan sees who clocked in through WeCom. The
//! check-ins of every employee with a registered WeCom account are fetched (at most 100 users and 29 days
//! per call, paced: see [`WeComClient::checkin_data`](crate::wecom::client::WeComClient::checkin_data)) and
//! imported like a punches file: all or nothing, re-importing changes nothing, audited as an import.

use crate::clients::Clients;
use crate::configured::Configured;
use crate::wecom::client::CheckinRecord;
use chrono::{DateTime, NaiveDate, Utc};
use lizhi_app::import::{self, ImportKind, ImportReport, NoProgress};
use lizhi_app::{App, AppError, Ctx};
use std::collections::HashMap;

/// Longest span one sync takes (WeCom keeps check-ins longer, but a wider backfill belongs in chunks).
pub const MAX_DAYS: i64 = 92;
/// `exception_type` of a check-in that did not happen (its time is when it was due, not a punch).
const MISSED: &str = "未打卡";

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// Employees asked about.
    pub employees: usize,
    /// Check-ins WeCom returned.
    pub fetched: usize,
    /// Missed check-ins left out (no punch happened).
    pub missed: usize,
    /// The punches import of the rest.
    pub import: ImportReport,
}

/// Fetches the check-ins of `[from, to]` (whole days, UTC bounds widened to cover every time zone) of every
/// employee with an account in WeCom connector `code`, and imports them as punches.
pub async fn sync(
    app: &App,
    ctx: &Ctx,
    clients: &Clients,
    code: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<SyncReport, AppError> {
    ctx.require(lizhi_core::auth::Permission::ImportData)?;
    let days = (to - from).num_days();
    if !(0..MAX_DAYS).contains(&days) {
        return Err(AppError::invalid("to", "invalid_range"));
    }
    let accounts: HashMap<String, String> = lizhi_app::connectors::accounts_in(app, ctx, code)
        .await?
        .into_iter()
        .map(|(employee_no, account)| (account.to_ascii_lowercase(), employee_no))
        .collect();
    let client = clients.get(app, code).await.map_err(|e| AppError::Internal(e.to_string()))?;
    let Configured::WeCom(client) = client.as_ref() else {
        return Err(AppError::invalid("code", "not_wecom"));
    };
    let (start, end) = (from.and_hms_opt(0, 0, 0), to.and_hms_opt(23, 59, 59));
    let (Some(start), Some(end)) = (start, end) else { return Err(AppError::invalid("from", "invalid_range")) };
    // ±14 h so that a day anywhere on earth is inside; the import keeps what it is given.
    let (start, end) = (start.and_utc().timestamp() - 14 * 3600, end.and_utc().timestamp() + 14 * 3600);
    let userids: Vec<&str> = accounts.keys().map(String::as_str).collect();
    let records = if userids.is_empty() {
        Vec::new()
    } else {
        client.checkin_data(&userids, start, end).await.map_err(|e| AppError::Internal(e.to_string()))?
    };
    let (csv, missed) = punches_csv(&records, &accounts);
    let import =
        import::run(app, ctx, ImportKind::Punches, &format!("wecom-{code}.csv"), csv.as_bytes(), true, &NoProgress)
            .await?;
    Ok(SyncReport { employees: accounts.len(), fetched: records.len(), missed, import })
}

/// The punches file of the check-ins that happened; also how many were missed check-ins.
fn punches_csv(records: &[CheckinRecord], accounts: &HashMap<String, String>) -> (String, usize) {
    let mut csv = String::from("employee_no,punched_at,source\n");
    let mut missed = 0;
    for record in records {
        if record.exception_type.split(';').any(|e| e.trim() == MISSED) {
            missed += 1;
            continue;
        }
        let (Some(no), Some(at)) = (
            accounts.get(&record.userid.to_ascii_lowercase()),
            DateTime::<Utc>::from_timestamp(record.checkin_time, 0),
        ) else {
            continue;
        };
        let kind = match record.checkin_type.as_str() {
            "上班打卡" => "in",
            "下班打卡" => "out",
            _ => "field",
        };
        csv.push_str(&format!("{},{},wecom-{kind}\n", quote(no), at.to_rfc3339()));
    }
    (csv, missed)
}

/// A CSV field, quoted when it needs to be.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_owned()
    }
}

/// The scheduler's sync: yesterday and today for every enabled WeCom connector whose settings say
/// `"checkin_sync": true`. Returns (connector, report or error) per connector.
pub async fn sync_recent(app: &App, clients: &Clients) -> Vec<(String, Result<SyncReport, AppError>)> {
    let ctx = Ctx::system("checkin-sync");
    let Ok(list) = lizhi_app::connectors::list(app, &ctx).await else { return Vec::new() };
    let today = app.clock.now().date_naive();
    let mut out = Vec::new();
    for k in list.into_iter().filter(|k| k.enabled && k.kind == "wecom") {
        if k.settings.get("checkin_sync").and_then(serde_json::Value::as_bool) != Some(true) {
            continue;
        }
        let from = today.pred_opt().unwrap_or(today);
        out.push((k.code.clone(), sync(app, &ctx, clients, &k.code, from, today).await));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_check_ins_are_not_punches_and_userids_match_case_insensitively() {
        let accounts = HashMap::from([("zhangsan".to_owned(), "E,1".to_owned())]);
        let record = |userid: &str, kind: &str, exception: &str, time: i64| CheckinRecord {
            userid: userid.into(),
            checkin_type: kind.into(),
            exception_type: exception.into(),
            checkin_time: time,
            ..Default::default()
        };
        let records = [
            record("ZhangSan", "上班打卡", "", 1_772_758_800),
            record("zhangsan", "下班打卡", "未打卡", 1_772_794_800),
            record("zhangsan", "外出打卡", "地点异常", 1_772_780_000),
            record("stranger", "上班打卡", "", 1_772_758_800),
        ];
        let (csv, missed) = punches_csv(&records, &accounts);
        assert_eq!(missed, 1);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{csv}");
        assert_eq!(lines[1], "\"E,1\",2026-03-06T01:00:00+00:00,wecom-in");
        assert!(lines[2].ends_with(",wecom-field"), "{csv}");
    }
}
