//! Signed tree heads in the C2SP `tlog-checkpoint` format, signed as C2SP `signed-note`s with Ed25519.

use crate::merkle::Hash;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ring::rand::SecureRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use sha2::{Digest, Sha256};

/// The signature-type byte of Ed25519 in signed notes.
const ED25519_TYPE: u8 = 0x01;
/// What starts a signature line: an em dash and a space.
const SIGNATURE_PREFIX: &str = "\u{2014} ";

/// Why a note is not an acceptable checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// The text is not a checkpoint (lines, size, root).
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    /// A signature from a known key does not verify: the note was altered or forged.
    #[error("the signature of key {0} does not verify")]
    BadSignature(String),
    /// No signature from any known key.
    #[error("no signature from a known key")]
    Unsigned,
    /// A verifier key string is malformed.
    #[error("malformed verifier key: {0}")]
    BadKey(String),
}

/// A tree head: which log, how many leaves, which root.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's unique name.
    pub origin: String,
    /// Number of leaves.
    pub size: u64,
    /// Tree head.
    pub root: Hash,
}

impl Checkpoint {
    /// The note text that is signed: origin, size and base64 root, each on its own line.
    pub fn body(&self) -> String {
        format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root))
    }

    /// The signed note: the body, a blank line, and one signature line per key.
    pub fn sign(&self, keys: &[&SigningKey]) -> String {
        let body = self.body();
        let mut note = format!("{body}\n");
        for key in keys {
            let mut blob = key.id().to_vec();
            blob.extend_from_slice(key.pair.sign(body.as_bytes()).as_ref());
            note.push_str(&format!("{SIGNATURE_PREFIX}{} {}\n", key.name, B64.encode(blob)));
        }
        note
    }

    /// Reads a note's checkpoint without checking signatures (the signature check is [`Checkpoint::open`]).
    pub fn parse(note: &str) -> Result<Checkpoint, NoteError> {
        split(note).map(|(checkpoint, _, _)| checkpoint)
    }

    /// Parses a signed note and checks its signatures against `keys`: at least one known key must have
    /// signed, and every signature claiming a known key must verify. Returns the checkpoint and the
    /// verifier keys that signed it.
    pub fn open(note: &str, keys: &[VerifierKey]) -> Result<(Checkpoint, Vec<VerifierKey>), NoteError> {
        let malformed = |why: &str| NoteError::Malformed(why.to_owned());
        let (checkpoint, body, signatures) = split(note)?;
        if !signatures.ends_with('\n') {
            return Err(malformed("signature lines must end with a newline"));
        }
        let mut signed_by = Vec::new();
        for line in signatures.lines() {
            let rest = line.strip_prefix(SIGNATURE_PREFIX).ok_or_else(|| malformed("signature line"))?;
            let (name, blob) = rest.split_once(' ').ok_or_else(|| malformed("signature line"))?;
            let blob = B64.decode(blob).map_err(|_| malformed("signature encoding"))?;
            if blob.len() < 4 {
                return Err(malformed("signature too short"));
            }
            let Some(key) = keys.iter().find(|k| k.name == name && k.id[..] == blob[..4]) else { continue };
            let valid = blob.len() == 68
                && UnparsedPublicKey::new(&ED25519, &key.public).verify(body.as_bytes(), &blob[4..]).is_ok();
            if !valid {
                return Err(NoteError::BadSignature(key.to_string()));
            }
            signed_by.push(key.clone());
        }
        if signed_by.is_empty() {
            return Err(NoteError::Unsigned);
        }
        Ok((checkpoint, signed_by))
    }
}

/// Splits a note into its checkpoint, the signed body and the signature lines.
fn split(note: &str) -> Result<(Checkpoint, String, &str), NoteError> {
    let malformed = |why: &str| NoteError::Malformed(why.to_owned());
    let (body, signatures) = note.split_once("\n\n").ok_or_else(|| malformed("no blank line"))?;
    let body = format!("{body}\n");
    let mut lines = body.lines();
    let origin = lines.next().filter(|o| !o.is_empty()).ok_or_else(|| malformed("no origin"))?;
    let size_text = lines.next().ok_or_else(|| malformed("no tree size"))?;
    if size_text.is_empty() || (size_text.len() > 1 && size_text.starts_with('0')) {
        return Err(malformed("tree size"));
    }
    let size: u64 = size_text.parse().map_err(|_| malformed("tree size"))?;
    let root: Hash = lines
        .next()
        .and_then(|r| B64.decode(r).ok())
        .and_then(|r| r.try_into().ok())
        .ok_or_else(|| malformed("root hash"))?;
    Ok((Checkpoint { origin: origin.to_owned(), size, root }, body, signatures))
}

/// The key ID of signed notes: the first 4 bytes of `SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)`.
fn key_id(name: &str, public: &[u8]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([ED25519_TYPE]);
    h.update(public);
    let digest = h.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

/// A log signing key. The seed is the only secret; the store keeps it sealed.
pub struct SigningKey {
    name: String,
    seed: [u8; 32],
    pair: Ed25519KeyPair,
}

impl SigningKey {
    /// A fresh random key.
    pub fn generate(name: &str) -> Result<SigningKey, NoteError> {
        let mut seed = [0u8; 32];
        ring::rand::SystemRandom::new().fill(&mut seed).map_err(|_| NoteError::BadKey("no randomness".into()))?;
        SigningKey::from_seed(name, seed)
    }

    /// The key for a stored seed.
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<SigningKey, NoteError> {
        if name.is_empty() || name.contains([' ', '+', '\n']) {
            return Err(NoteError::BadKey(format!("key name {name:?}")));
        }
        let pair = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| NoteError::BadKey("seed".into()))?;
        Ok(SigningKey { name: name.to_owned(), seed, pair })
    }

    /// The secret seed, to be sealed before storing.
    pub fn seed(&self) -> &[u8; 32] {
        &self.seed
    }

    /// The key ID in signature lines.
    pub fn id(&self) -> [u8; 4] {
        key_id(&self.name, self.pair.public_key().as_ref())
    }

    /// The public half.
    pub fn verifier(&self) -> VerifierKey {
        let mut public = [0u8; 32];
        public.copy_from_slice(self.pair.public_key().as_ref());
        VerifierKey { name: self.name.clone(), id: self.id(), public }
    }
}

/// A public key as published for signed notes: `name+keyid+base64(0x01 ‖ key)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierKey {
    /// Key name (the log origin).
    pub name: String,
    /// Key ID.
    pub id: [u8; 4],
    /// Ed25519 public key.
    pub public: [u8; 32],
}

impl std::fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut blob = vec![ED25519_TYPE];
        blob.extend_from_slice(&self.public);
        write!(f, "{}+{}+{}", self.name, hex::encode(self.id), B64.encode(blob))
    }
}

impl std::str::FromStr for VerifierKey {
    type Err = NoteError;

    /// Parses a verifier key and checks that its ID matches its name and key.
    fn from_str(text: &str) -> Result<VerifierKey, NoteError> {
        let bad = || NoteError::BadKey(text.to_owned());
        let mut parts = text.trim().splitn(3, '+');
        let (Some(name), Some(id), Some(blob)) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
        let blob = B64.decode(blob).map_err(|_| bad())?;
        let (&kind, public) = blob.split_first().ok_or_else(bad)?;
        let public: [u8; 32] = public.try_into().map_err(|_| bad())?;
        if kind != ED25519_TYPE || name.is_empty() || hex::encode(key_id(name, &public)) != id {
            return Err(bad());
        }
        Ok(VerifierKey { name: name.to_owned(), id: key_id(name, &public), public })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkpoint() -> Checkpoint {
        Checkpoint { origin: "lizhi.example/audit/1a2b".into(), size: 42, root: [7; 32] }
    }

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_has_the_c2sp_layout() {
        let key = SigningKey::from_seed("lizhi.example/audit/1a2b", [9; 32]).unwrap();
        let note = checkpoint().sign(&[&key]);
        let lines: Vec<&str> = note.lines().collect();
        assert_eq!(lines[..4], ["lizhi.example/audit/1a2b", "42", &B64.encode([7u8; 32]), ""]);
        assert!(lines[4].starts_with("\u{2014} lizhi.example/audit/1a2b "));
        let verifier: VerifierKey = key.verifier().to_string().parse().unwrap();
        let (opened, by) = Checkpoint::open(&note, std::slice::from_ref(&verifier)).unwrap();
        assert_eq!(opened, checkpoint());
        assert_eq!(by, vec![verifier]);
    }

    #[test]
    fn altered_forged_or_unknown_notes_are_refused() {
        let key = SigningKey::from_seed("log", [9; 32]).unwrap();
        let other = SigningKey::from_seed("log", [8; 32]).unwrap();
        let keys = [key.verifier()];
        let note = checkpoint().sign(&[&key]);
        let bigger = note.replacen("\n42\n", "\n43\n", 1);
        assert_eq!(Checkpoint::open(&bigger, &keys), Err(NoteError::BadSignature(key.verifier().to_string())));
        assert_eq!(Checkpoint::open(&checkpoint().sign(&[&other]), &keys), Err(NoteError::Unsigned));
        // A forged signature that claims the real key's ID.
        let forged_line = checkpoint().sign(&[&other]).lines().last().unwrap().to_owned();
        let blob = B64.decode(forged_line.rsplit(' ').next().unwrap()).unwrap();
        let mut claimed = key.id().to_vec();
        claimed.extend_from_slice(&blob[4..]);
        let forged = format!("{}\n\u{2014} log {}\n", checkpoint().body(), B64.encode(claimed));
        assert!(matches!(Checkpoint::open(&forged, &keys), Err(NoteError::BadSignature(_))));
        assert!(matches!(
            Checkpoint::open(&note.replacen("\n42\n", "\n042\n", 1), &keys),
            Err(NoteError::Malformed(_))
        ));
        // Both keys after a rotation; either one alone opens it.
        let both = checkpoint().sign(&[&key, &other]);
        assert_eq!(Checkpoint::open(&both, &[other.verifier()]).unwrap().1, vec![other.verifier()]);
        assert_eq!(Checkpoint::open(&both, &[key.verifier(), other.verifier()]).unwrap().1.len(), 2);
    }

    #[test]
    fn verifier_keys_check_their_id() {
        let key = SigningKey::from_seed("log", [9; 32]).unwrap().verifier().to_string();
        assert!(key.parse::<VerifierKey>().is_ok());
        let wrong_name = key.replacen("log+", "gol+", 1);
        assert!(wrong_name.parse::<VerifierKey>().is_err());
        assert!(SigningKey::from_seed("two words", [1; 32]).is_err());
    }
}
