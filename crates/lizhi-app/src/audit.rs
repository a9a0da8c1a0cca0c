//! Audit digests and reads. Writes happen inside each use case's own transaction through
//! [`record`], so a change and its audit row commit or roll back together.

use crate::{App, AppError, Ctx};
use lizhi_core::auth::Permission;
use lizhi_core::model::AuditEvent;
use lizhi_store::audit::AuditWrite;
use lizhi_store::{Conn, audit as store};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// SHA-256 (hex) of the JSON of a sequence, streamed into the hash: a million imported rows are
/// never built as one JSON tree in memory. Arrays need no key sorting, so this equals [`digest`]
/// of the same rows.
pub fn digest_seq<T: Serialize>(items: &[T]) -> String {
    struct Hashing(Sha256);
    impl std::io::Write for Hashing {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut hashing = Hashing(Sha256::new());
    // Writing into a hash cannot fail; a serialisation error would leave an empty-looking digest.
    if serde_json::to_writer(&mut hashing, items).is_err() {
        return String::new();
    }
    hex::encode(hashing.0.finalize())
}

/// SHA-256 (hex) of a value's canonical JSON: object keys sorted, no whitespace.
///
/// serde_json's map is ordered by key, so going through `Value` sorts nested objects too.
pub fn digest<T: Serialize>(value: &T) -> String {
    let canonical = serde_json::to_value(value).and_then(|v| serde_json::to_vec(&v)).unwrap_or_default();
    hex::encode(Sha256::digest(&canonical))
}

/// Builds one audit row for a change from `before` to `after` (either may be absent).
pub fn change<T: Serialize>(
    ctx: &Ctx,
    action: &str,
    entity_type: &str,
    entity_key: &str,
    before: Option<&T>,
    after: Option<&T>,
) -> AuditWrite {
    AuditWrite {
        actor: ctx.actor.clone(),
        action: action.to_owned(),
        entity_type: entity_type.to_owned(),
        entity_key: entity_key.to_owned(),
        before_digest: before.map(digest),
        after_digest: after.map(digest),
    }
}

/// Appends audit rows in the caller's transaction.
pub async fn record(app: &App, c: &mut Conn<'_>, ctx: &Ctx, rows: &[AuditWrite]) -> Result<(), AppError> {
    store::append(c, rows, app.clock.now(), &ctx.request_id).await?;
    Ok(())
}

/// The newest audit events (for auditors and supervisors).
pub async fn recent(
    app: &App,
    ctx: &Ctx,
    entity: Option<(&str, &str)>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<AuditEvent>, AppError> {
    ctx.require(Permission::ViewAudit)?;
    let mut conn = app.db.acquire().await?;
    Ok(store::recent(&mut conn.conn(), entity, before, limit.clamp(1, 500)).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn digest_is_independent_of_field_order() {
        #[derive(serde::Serialize)]
        struct A {
            b: u8,
            a: u8,
        }
        let from_struct = super::digest(&A { b: 2, a: 1 });
        let from_json = super::digest(&serde_json::json!({"a": 1, "b": 2}));
        assert_eq!(from_struct, from_json);
        assert_ne!(from_struct, super::digest(&serde_json::json!({"a": 2, "b": 1})));
    }

    #[test]
    fn a_streamed_digest_of_rows_equals_the_canonical_one() {
        let rows =
            vec![vec!["C00001".to_owned(), "2026-03-02T09:00:00+08:00".into()], vec!["引号\"".into(), "".into()]];
        assert_eq!(super::digest_seq(&rows), super::digest(&rows));
        assert_ne!(super::digest_seq(&rows[..1]), super::digest(&rows));
    }
}
