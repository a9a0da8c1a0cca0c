//! Legal entities and the org unit tree.

use crate::{Conn, StoreError, on_conn};
use chrono::{DateTime, Utc};
use lizhi_core::model::{LegalEntity, OrgUnit};
use sqlx::{QueryBuilder, Row};
use std::collections::HashMap;

/// Values of a legal entity to insert or update by code.
#[derive(Debug, Clone)]
pub struct EntityWrite {
    /// Key.
    pub code: String,
    /// Registered name.
    pub name: String,
    /// Country code.
    pub country: String,
    /// IANA zone.
    pub time_zone: String,
    /// Policy profile.
    pub policy: String,
    /// Local time (`HH:MM`) of the daily risk scan.
    pub scan_time: String,
}

/// Values of an org unit to insert or update by code; the parent is resolved to an id later.
#[derive(Debug, Clone)]
pub struct OrgUnitWrite {
    /// Key.
    pub code: String,
    /// Display name.
    pub name: String,
    /// Owning entity id.
    pub legal_entity_id: i64,
}

/// Every legal entity, by code.
pub async fn list_entities(c: &mut Conn<'_>) -> Result<Vec<LegalEntity>, StoreError> {
    const SQL: &str = "SELECT id, code, name, country, time_zone, policy, scan_time FROM legal_entities ORDER BY code";
    let rows: Vec<(i64, String, String, String, String, String, String)> =
        on_conn!(c, c => sqlx::query_as(SQL).fetch_all(&mut **c).await?);
    Ok(rows
        .into_iter()
        .map(|(id, code, name, country, time_zone, policy, scan_time)| LegalEntity {
            id,
            code,
            name,
            country,
            time_zone,
            policy,
            scan_time,
        })
        .collect())
}

/// Inserts new entities and updates existing ones by code, in chunks.
pub async fn upsert_entities(c: &mut Conn<'_>, rows: &[EntityWrite], now: DateTime<Utc>) -> Result<(), StoreError> {
    for chunk in rows.chunks(500) {
        on_conn!(c, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO legal_entities (code, name, country, time_zone, policy, scan_time, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(&r.code)
                    .push_bind(&r.name)
                    .push_bind(&r.country)
                    .push_bind(&r.time_zone)
                    .push_bind(&r.policy)
                    .push_bind(&r.scan_time)
                    .push_bind(now)
                    .push_bind(now);
            });
            qb.push(
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, country = excluded.country, \
                 time_zone = excluded.time_zone, policy = excluded.policy, scan_time = excluded.scan_time, \
                 updated_at = excluded.updated_at",
            );
            qb.build().execute(&mut **c).await.map_err(StoreError::from_write)?;
        });
    }
    Ok(())
}

/// Every org unit with its parent's and entity's codes, in tree order: each unit is followed by
/// its subtree, siblings by code. Done here rather than by `ORDER BY path`, whose result depends
/// on the database collation (PostgreSQL locales ignore the `/` separators).
pub async fn list_org_units(c: &mut Conn<'_>) -> Result<Vec<OrgUnit>, StoreError> {
    const SQL: &str = "SELECT u.id, u.code, u.name, u.parent_id, p.code, u.legal_entity_id, le.code, u.depth, u.path \
         FROM org_units u JOIN legal_entities le ON le.id = u.legal_entity_id \
         LEFT JOIN org_units p ON p.id = u.parent_id";
    type R = (i64, String, String, Option<i64>, Option<String>, i64, String, i64, String);
    let rows: Vec<R> = on_conn!(c, c => sqlx::query_as(SQL).fetch_all(&mut **c).await?);
    let mut units: Vec<OrgUnit> = rows
        .into_iter()
        .map(|(id, code, name, parent_id, parent_code, legal_entity_id, legal_entity_code, depth, path)| OrgUnit {
            id,
            code,
            name,
            parent_id,
            parent_code,
            legal_entity_id,
            legal_entity_code,
            depth,
            path,
        })
        .collect();
    units.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(tree_order(units))
}

/// Orders units depth-first from the roots; units unreachable from a root (never stored, since
/// cycles are refused) are appended so nothing is silently dropped.
fn tree_order(units: Vec<OrgUnit>) -> Vec<OrgUnit> {
    let known: std::collections::HashSet<i64> = units.iter().map(|u| u.id).collect();
    let mut children: HashMap<Option<i64>, Vec<usize>> = HashMap::new();
    for (i, u) in units.iter().enumerate() {
        let parent = u.parent_id.filter(|p| known.contains(p));
        children.entry(parent).or_default().push(i);
    }
    let mut order = Vec::with_capacity(units.len());
    let mut placed = vec![false; units.len()];
    let mut stack: Vec<usize> = children.get(&None).map(|v| v.iter().rev().copied().collect()).unwrap_or_default();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut placed[i], true) {
            continue;
        }
        order.push(i);
        if let Some(kids) = children.get(&Some(units[i].id)) {
            stack.extend(kids.iter().rev());
        }
    }
    order.extend((0..units.len()).filter(|i| !placed[*i]));
    let mut slots: Vec<Option<OrgUnit>> = units.into_iter().map(Some).collect();
    order.into_iter().filter_map(|i| slots[i].take()).collect()
}

/// Inserts or updates units by code (parents untouched) and returns code → id for all of them.
pub async fn upsert_org_units(
    c: &mut Conn<'_>,
    rows: &[OrgUnitWrite],
    now: DateTime<Utc>,
) -> Result<HashMap<String, i64>, StoreError> {
    let mut ids = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(500) {
        let returned: Vec<(i64, String)> = on_conn!(c, c => {
            let mut qb = QueryBuilder::new(
                "INSERT INTO org_units (code, name, legal_entity_id, depth, path, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(&r.code)
                    .push_bind(&r.name)
                    .push_bind(r.legal_entity_id)
                    .push_bind(0_i64)
                    .push_bind("/")
                    .push_bind(now)
                    .push_bind(now);
            });
            qb.push(
                " ON CONFLICT (code) DO UPDATE SET name = excluded.name, \
                 legal_entity_id = excluded.legal_entity_id, updated_at = excluded.updated_at \
                 RETURNING id, code",
            );
            qb.build_query_as().fetch_all(&mut **c).await.map_err(StoreError::from_write)?
        });
        ids.extend(returned.into_iter().map(|(id, code)| (code, id)));
    }
    Ok(ids)
}

/// Sets parents, then recomputes every unit's depth and materialised path.
///
/// The caller has already refused cycles; a cycle found here is reported, not looped on.
pub async fn set_parents_and_reindex(c: &mut Conn<'_>, parents: &[(i64, Option<i64>)]) -> Result<(), StoreError> {
    for &(id, parent) in parents {
        on_conn!(c, c => sqlx::query("UPDATE org_units SET parent_id = $1 WHERE id = $2")
            .bind(parent)
            .bind(id)
            .execute(&mut **c)
            .await?
            .rows_affected());
    }
    let all: Vec<(i64, Option<i64>, i64, String)> = on_conn!(c, c =>
        sqlx::query_as("SELECT id, parent_id, depth, path FROM org_units").fetch_all(&mut **c).await?);
    let parent_of: HashMap<i64, Option<i64>> = all.iter().map(|r| (r.0, r.1)).collect();
    for (id, _, depth, path) in &all {
        let mut chain = vec![*id];
        let mut node = *id;
        while let Some(Some(parent)) = parent_of.get(&node) {
            if chain.contains(parent) || chain.len() > parent_of.len() {
                return Err(StoreError::Conflict(format!("org unit {id} is on a cycle")));
            }
            chain.push(*parent);
            node = *parent;
        }
        chain.reverse();
        let new_path = format!("/{}/", chain.iter().map(i64::to_string).collect::<Vec<_>>().join("/"));
        let new_depth = chain.len() as i64 - 1;
        if &new_path != path || new_depth != *depth {
            on_conn!(c, c => sqlx::query("UPDATE org_units SET depth = $1, path = $2 WHERE id = $3")
                .bind(new_depth)
                .bind(&new_path)
                .bind(id)
                .execute(&mut **c)
                .await?
                .rows_affected());
        }
    }
    Ok(())
}

/// Paths of the given units, for subtree filters.
pub async fn paths_of(c: &mut Conn<'_>, ids: &[i64]) -> Result<Vec<String>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let rows = on_conn!(c, c => {
        let mut qb = QueryBuilder::new("SELECT path FROM org_units WHERE id IN (");
        let mut sep = qb.separated(", ");
        for id in ids {
            sep.push_bind(*id);
        }
        qb.push(")");
        qb.build().fetch_all(&mut **c).await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<Vec<_>, _>>()?
    });
    Ok(rows)
}

/// Narrows a query to org subtrees: `None` leaves it as is; `Some(paths)` keeps rows whose unit path
/// (`column`, e.g. `u.path`) lies under one of them, and none at all when `paths` is empty. Paths are made of
/// ids and `/`, so they hold no LIKE wildcards.
pub(crate) fn push_scope<DB: sqlx::Database>(qb: &mut sqlx::QueryBuilder<DB>, column: &str, paths: Option<&[String]>)
where
    String: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    if let Some(paths) = paths {
        qb.push(" AND (1 = 0");
        for p in paths {
            qb.push(format!(" OR {column} LIKE ")).push_bind(format!("{p}%"));
        }
        qb.push(")");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: i64, code: &str, parent_id: Option<i64>) -> OrgUnit {
        OrgUnit {
            id,
            code: code.into(),
            name: code.into(),
            parent_id,
            parent_code: None,
            legal_entity_id: 1,
            legal_entity_code: "E".into(),
            depth: 0,
            path: String::new(),
        }
    }

    #[test]
    fn every_unit_is_followed_by_its_subtree_with_siblings_by_code() {
        // Ids chosen so that path order ("/1/10/" < "/1/2/") and code order disagree.
        let mut units = vec![
            unit(10, "B-2", Some(2)),
            unit(2, "B", Some(1)),
            unit(20, "A", Some(1)),
            unit(1, "ROOT", None),
            unit(3, "B-1", Some(2)),
            unit(99, "ZZ", None),
        ];
        units.sort_by(|a, b| a.code.cmp(&b.code));
        let order: Vec<String> = tree_order(units).into_iter().map(|u| u.code).collect();
        assert_eq!(order, ["ROOT", "A", "B", "B-1", "B-2", "ZZ"]);
    }
}
