//! Tamper evidence for the audit log: the canonical bytes of a log entry with salted commitments instead of
//! personal data, signed checkpoints in the C2SP format, and the offline check of an evidence bundle. The
//! format is specified in `docs/evidence.md` so that others can verify without this code.

pub mod bundle;
pub mod canonical;
pub mod checkpoint;
pub mod leaf;

pub use bundle::{Dimension, Outcome, Report};
pub use checkpoint::{Checkpoint, NoteError, SigningKey, VerifierKey};
pub use leaf::{LeafError, LogEvent, Opening, commit};
