//! The instance secret: a 32-byte key outside the database that seals what must not be readable from a
//! database dump alone (the audit log's signing key, connector credentials). Sealing is AES-256-GCM with a
//! random nonce and the purpose as associated data, so a sealed value cannot be moved to another purpose.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use std::path::Path;

/// Why the secret cannot be loaded or a value not opened.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// The key file cannot be read or created.
    #[error("secret key file {path}: {source}")]
    File { path: String, source: std::io::Error },
    /// The key is not 32 bytes of base64.
    #[error("the secret key is not 32 bytes in base64")]
    Malformed,
    /// The sealed value was made with another key, or altered.
    #[error("a sealed value does not open with this secret key")]
    WrongKey,
}

/// The instance secret.
#[derive(Clone)]
pub struct SecretKey([u8; 32]);

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// A random key that lives as long as the process (tests, throwaway demos).
    pub fn ephemeral() -> SecretKey {
        SecretKey(crate::random_bytes())
    }

    /// Reads a key given as base64 (the `secret_key` setting, for several instances sharing one).
    pub fn from_base64(text: &str) -> Result<SecretKey, SecretError> {
        use base64::Engine;
        let bytes =
            base64::engine::general_purpose::STANDARD.decode(text.trim()).map_err(|_| SecretError::Malformed)?;
        Ok(SecretKey(bytes.try_into().map_err(|_| SecretError::Malformed)?))
    }

    /// Reads the key file, creating it (mode 0600, with its folder) on first start.
    pub fn load_or_create(path: &Path) -> Result<SecretKey, SecretError> {
        use base64::Engine;
        let io = |source| SecretError::File { path: path.display().to_string(), source };
        match std::fs::read_to_string(path) {
            Ok(text) => SecretKey::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(io)?;
                }
                let key = SecretKey::ephemeral();
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
                let mut file = options.open(path).map_err(io)?;
                let text = base64::engine::general_purpose::STANDARD.encode(key.0) + "\n";
                std::io::Write::write_all(&mut file, text.as_bytes()).map_err(io)?;
                Ok(key)
            }
            Err(e) => Err(io(e)),
        }
    }

    fn aead(&self) -> LessSafeKey {
        // A 32-byte key always fits AES-256.
        LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &self.0).unwrap_or_else(|_| unreachable!()))
    }

    /// Seals `plain` for `purpose`: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, purpose: &str, plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE_LEN] = crate::random_bytes();
        let mut data = plain.to_vec();
        // Sealing only fails for inputs beyond AES-GCM's 64 GiB limit.
        let _ =
            self.aead().seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(purpose), &mut data);
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        out
    }

    /// Opens a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &[u8]) -> Result<Vec<u8>, SecretError> {
        if sealed.len() < NONCE_LEN {
            return Err(SecretError::WrongKey);
        }
        let (nonce, data) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SecretError::WrongKey)?;
        let mut data = data.to_vec();
        let plain =
            self.aead().open_in_place(nonce, Aad::from(purpose), &mut data).map_err(|_| SecretError::WrongKey)?;
        Ok(plain.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_purpose() {
        let key = SecretKey::ephemeral();
        let sealed = key.seal("log key", b"seed");
        assert_eq!(key.open("log key", &sealed).unwrap(), b"seed");
        assert!(key.open("connector", &sealed).is_err());
        assert!(SecretKey::ephemeral().open("log key", &sealed).is_err());
        let mut altered = sealed.clone();
        altered[14] ^= 1;
        assert!(key.open("log key", &altered).is_err());
        assert_ne!(key.seal("log key", b"seed"), sealed, "nonces are fresh");
    }

    #[test]
    fn the_key_file_is_created_once_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/secret.key");
        let first = SecretKey::load_or_create(&path).unwrap();
        let again = SecretKey::load_or_create(&path).unwrap();
        assert_eq!(first.0, again.0);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(SecretKey::load_or_create(&path), Err(SecretError::Malformed)));
    }
}
