//! Import of org units: a tree per legal entity, parents possibly defined later in the same file.

use super::{Counts, Errors, Pass, required_text};
use crate::AppError;
use crate::audit::{change, record};
use lizhi_core::graph::nodes_on_cycles;
use lizhi_core::{EntityCode, OrgUnitCode};
use lizhi_store::Conn;
use lizhi_store::org::{self, OrgUnitWrite};
use serde::Serialize;
use std::collections::HashMap;

/// What is audited and compared for an org unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
struct Snapshot {
    code: String,
    name: String,
    parent_code: Option<String>,
    legal_entity: String,
}

pub(super) async fn import(p: &Pass<'_>, c: &mut Conn<'_>, errors: &mut Errors) -> Result<Counts, AppError> {
    let (app, ctx, table, cols, write) = (p.app, p.ctx, p.table, &p.cols, p.write);
    let entities: HashMap<String, i64> = org::list_entities(c).await?.into_iter().map(|e| (e.code, e.id)).collect();
    let stored = org::list_org_units(c).await?;
    let unit_ids: HashMap<String, i64> = stored.iter().map(|u| (u.code.clone(), u.id)).collect();
    let existing: HashMap<String, Snapshot> = stored
        .into_iter()
        .map(|u| {
            let snap = Snapshot {
                code: u.code.clone(),
                name: u.name,
                parent_code: u.parent_code,
                legal_entity: u.legal_entity_code,
            };
            (u.code, snap)
        })
        .collect();

    let mut planned: Vec<(usize, Snapshot)> = Vec::new();
    let mut row_of: HashMap<String, usize> = HashMap::new();
    for record in &table.rows {
        let code = cols.get(record, "code");
        let name = cols.get(record, "name");
        let parent = cols.get(record, "parent_code");
        let entity = cols.get(record, "legal_entity");
        let parsed = (
            OrgUnitCode::parse(code).map_err(|e| errors.cell(record, "code", &e, code)).ok(),
            required_text(name, 200).map_err(|e| errors.cell(record, "name", &e, name)).ok(),
            match parent.trim() {
                "" => Some(None),
                p => OrgUnitCode::parse(p).map(Some).map_err(|e| errors.cell(record, "parent_code", &e, parent)).ok(),
            },
            EntityCode::parse(entity).map_err(|e| errors.cell(record, "legal_entity", &e, entity)).ok(),
        );
        let (Some(code), Some(name), Some(parent), Some(entity)) = parsed else {
            continue;
        };
        if !entities.contains_key(entity.as_str()) {
            errors.push(Some(record.row), Some("legal_entity"), "unknown_legal_entity", Some(entity.as_str()));
            continue;
        }
        if row_of.insert(code.to_string(), record.row).is_some() {
            errors.push(Some(record.row), Some("code"), "duplicate_in_file", Some(code.as_str()));
            continue;
        }
        let snap = Snapshot {
            code: code.to_string(),
            name,
            parent_code: parent.map(|p| p.to_string()),
            legal_entity: entity.to_string(),
        };
        planned.push((record.row, snap));
    }

    // The tree as it would be: stored units overlaid by the file.
    let mut merged: HashMap<&str, &Snapshot> = existing.iter().map(|(k, v)| (k.as_str(), v)).collect();
    for (_, snap) in &planned {
        merged.insert(snap.code.as_str(), snap);
    }
    for (row, snap) in &planned {
        if let Some(parent) = &snap.parent_code {
            match merged.get(parent.as_str()) {
                None => errors.push(Some(*row), Some("parent_code"), "unknown_parent", Some(parent)),
                Some(p) if p.legal_entity != snap.legal_entity => {
                    errors.push(Some(*row), Some("parent_code"), "parent_entity_mismatch", Some(parent))
                }
                Some(_) => {}
            }
        }
    }
    // Moving a unit to another legal entity would leave its people employed by the wrong one.
    let members = lizhi_store::employees::count_by_unit(c).await?;
    for (row, snap) in &planned {
        if let (Some(before), Some(id)) = (existing.get(&snap.code), unit_ids.get(&snap.code))
            && before.legal_entity != snap.legal_entity
            && members.get(id).copied().unwrap_or(0) > 0
        {
            errors.push(Some(*row), Some("legal_entity"), "org_unit_has_employees", Some(&snap.legal_entity));
        }
    }
    let links: HashMap<&str, Option<&str>> = merged.iter().map(|(code, s)| (*code, s.parent_code.as_deref())).collect();
    for code in nodes_on_cycles(&links) {
        if let Some(row) = row_of.get(code) {
            let parent = merged.get(code).and_then(|s| s.parent_code.as_deref());
            errors.push(Some(*row), Some("parent_code"), "org_cycle", parent);
        }
    }

    let mut counts = Counts::default();
    let mut changed: Vec<&Snapshot> = Vec::new();
    let mut audits = Vec::new();
    for (_, after) in &planned {
        let before = existing.get(&after.code);
        match before {
            Some(b) if b == after => {
                counts.unchanged += 1;
                continue;
            }
            Some(_) => counts.updated += 1,
            None => counts.created += 1,
        }
        let action = if before.is_some() { "org_unit.update" } else { "org_unit.create" };
        audits.push(change(ctx, action, "org_unit", &after.code, before, Some(after)));
        changed.push(after);
    }
    if write && errors.is_empty() && !changed.is_empty() {
        let writes: Vec<OrgUnitWrite> = changed
            .iter()
            .map(|s| OrgUnitWrite {
                code: s.code.clone(),
                name: s.name.clone(),
                legal_entity_id: entities[&s.legal_entity],
            })
            .collect();
        org::upsert_org_units(c, &writes, app.clock.now()).await?;
        let ids: HashMap<String, i64> = org::list_org_units(c).await?.into_iter().map(|u| (u.code, u.id)).collect();
        let parents: Vec<(i64, Option<i64>)> =
            changed.iter().map(|s| (ids[&s.code], s.parent_code.as_ref().and_then(|p| ids.get(p).copied()))).collect();
        org::set_parents_and_reindex(c, &parents).await?;
        record(app, c, ctx, &audits).await?;
    }
    Ok(counts)
}
