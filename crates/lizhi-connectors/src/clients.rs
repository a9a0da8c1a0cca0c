//! Connector clients kept between worker runs. A WeCom client holds its access tokens (one per secret, with
//! a single-flight refresh) and its per-member message pacing; rebuilding it for every action would fetch a
//! token per call and forget the pacing. A client is rebuilt when its connector's kind, settings or secret
//! change (compared by a fingerprint, never kept in clear beside the client).

use crate::access::CallError;
use crate::configured::Configured;
use lizhi_app::{App, Ctx};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// A built client with the fingerprint of what it was built from.
type Built = HashMap<String, ([u8; 32], Arc<Configured>)>;

/// Built clients by connector code.
#[derive(Default)]
pub struct Clients {
    built: Mutex<Built>,
}

impl Clients {
    /// An empty cache.
    pub fn new() -> Clients {
        Clients::default()
    }

    /// The client of connector `code` as registered now.
    pub async fn get(&self, app: &App, code: &str) -> Result<Arc<Configured>, CallError> {
        let ctx = Ctx::system("connector-worker");
        let (kind, settings, secret) =
            lizhi_app::connectors::config(app, &ctx, code).await.map_err(|e| CallError::Refused {
                system: "connector",
                code: "unknown_connector".into(),
                message: format!("connector {code}: {e}"),
                retryable: false,
            })?;
        let mut hash = Sha256::new();
        for part in [kind.as_str(), &settings.to_string(), secret.as_deref().unwrap_or_default()] {
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let fingerprint: [u8; 32] = hash.finalize().into();
        if let Some((known, client)) = self.lock().get(code)
            && *known == fingerprint
        {
            return Ok(client.clone());
        }
        let client = Arc::new(Configured::new(&kind, &settings, secret.as_deref())?);
        self.lock().insert(code.to_owned(), (fingerprint, client.clone()));
        Ok(client)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Built> {
        // A panic while holding the lock leaves only a cache behind; keep using it.
        self.built.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
