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
/// never built as one JSON tree in memory. Arrays need no key sorting, so this equals the SHA-256 of
/// [`state_text`] of the same rows.
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

/// The committed text of a state: its JSON with object keys sorted, no whitespace.
pub fn state_text<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value).and_then(|v| serde_json::to_string(&v)).unwrap_or_default()
}

/// Builds one audit event for a change from `before` to `after` (either may be absent). Events about a
/// case carry its id in the clear, so the case's evidence can be found without opening commitments.
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
        case_id: if entity_type == "case" { entity_key.parse().ok() } else { None },
        before: before.map(state_text),
        after: after.map(state_text),
        docs: Vec::new(),
    }
}

/// Appends audit events in the caller's transaction.
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
    use sha2::{Digest, Sha256};

    #[test]
    fn state_text_is_independent_of_field_order() {
        #[derive(serde::Serialize)]
        struct A {
            b: u8,
            a: u8,
        }
        assert_eq!(super::state_text(&A { b: 2, a: 1 }), r#"{"a":1,"b":2}"#);
    }

    #[test]
    fn a_streamed_digest_of_rows_equals_the_digest_of_their_state_text() {
        let rows =
            vec![vec!["C00001".to_owned(), "2026-03-02T09:00:00+08:00".into()], vec!["引号\"".into(), "".into()]];
        let whole = hex::encode(Sha256::digest(super::state_text(&rows).as_bytes()));
        assert_eq!(super::digest_seq(&rows), whole);
        assert_ne!(super::digest_seq(&rows[..1]), whole);
    }
}
