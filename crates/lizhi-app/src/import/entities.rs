//! Import of legal entities.

use super::{Counts, Errors, Pass, required_text};
use crate::AppError;
use crate::audit::{change, record};
use lizhi_core::{CountryCode, EntityCode, PolicyProfile, TimeZoneName};
use lizhi_store::Conn;
use lizhi_store::org::{self, EntityWrite};
use serde::Serialize;
use std::collections::HashMap;

/// What is audited and compared for a legal entity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Snapshot {
    code: String,
    name: String,
    country: String,
    time_zone: String,
    policy: String,
    scan_time: String,
}

/// When the daily scan runs if a file does not say.
pub const DEFAULT_SCAN_TIME: &str = "06:00";

/// A local time of day as `HH:MM` (24-hour); blank means the default.
fn scan_time(raw: &str) -> Result<String, &'static str> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_SCAN_TIME.to_owned());
    }
    chrono::NaiveTime::parse_from_str(raw, "%H:%M")
        .map(|t| t.format("%H:%M").to_string())
        .map_err(|_| "invalid_time_of_day")
}

pub(super) async fn import(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let existing: HashMap<String, Snapshot> = org::list_entities(c)
        .await?
        .into_iter()
        .map(|e| {
            (
                e.code.clone(),
                Snapshot {
                    code: e.code,
                    name: e.name,
                    country: e.country,
                    time_zone: e.time_zone,
                    policy: e.policy,
                    scan_time: e.scan_time,
                },
            )
        })
        .collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut planned = Vec::new();
    for record in &table.rows {
        let code = cols.get(record, "code");
        let name = cols.get(record, "name");
        let country = cols.get(record, "country");
        let zone = cols.get(record, "time_zone");
        let policy = cols.get(record, "policy");
        let parsed = (
            EntityCode::parse(code).map_err(|e| errors.cell(record, "code", &e, code)).ok(),
            required_text(name, 200).map_err(|e| errors.cell(record, "name", &e, name)).ok(),
            CountryCode::parse(country).map_err(|e| errors.cell(record, "country", &e, country)).ok(),
            TimeZoneName::parse(zone).map_err(|e| errors.cell(record, "time_zone", &e, zone)).ok(),
            PolicyProfile::parse(policy).map_err(|e| errors.cell(record, "policy", &e, policy)).ok(),
        );
        // An absent column keeps what is stored; a blank cell means the default.
        let scan_at = match cols.optional(record, "scan_time") {
            Some(raw) => {
                scan_time(raw).map_err(|code| errors.push(Some(record.row), Some("scan_time"), code, Some(raw))).ok()
            }
            None => Some(existing.get(code).map_or_else(|| DEFAULT_SCAN_TIME.to_owned(), |e| e.scan_time.clone())),
        };
        let (Some(code), Some(name), Some(country), Some(zone), Some(policy), Some(scan_at)) =
            (parsed.0, parsed.1, parsed.2, parsed.3, parsed.4, scan_at)
        else {
            continue;
        };
        if seen.insert(code.to_string(), record.row).is_some() {
            errors.push(Some(record.row), Some("code"), "duplicate_in_file", Some(code.as_str()));
            continue;
        }
        planned.push(Snapshot {
            code: code.to_string(),
            name,
            country: country.to_string(),
            time_zone: zone.to_string(),
            policy: policy.name().to_owned(),
            scan_time: scan_at,
        });
    }
    let mut counts = Counts::default();
    let mut writes = Vec::new();
    let mut audits = Vec::new();
    for after in &planned {
        let before = existing.get(&after.code);
        match before {
            Some(b) if b == after => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
            None => counts.created += 1,
        }
        if before != Some(after) {
            let action = if before.is_some() { "legal_entity.update" } else { "legal_entity.create" };
            audits.push(change(ctx, action, "legal_entity", &after.code, before, Some(after)));
            writes.push(EntityWrite {
                code: after.code.clone(),
                name: after.name.clone(),
                country: after.country.clone(),
                time_zone: after.time_zone.clone(),
                policy: after.policy.clone(),
                scan_time: after.scan_time.clone(),
            });
        }
    }
    if write && errors.is_empty() {
        org::upsert_entities(c, &writes, app.clock.now()).await?;
        record(app, c, ctx, &audits).await?;
    }
    Ok(counts)
}
