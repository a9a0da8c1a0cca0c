-- Audit log as a Merkle tree: each event's position (seq) is its leaf index, taken from log_head in the
-- writing transaction so positions follow commit order with no gaps. Personal values are salted commitments;
-- their openings live in audit_openings, which a retention purge may empty without breaking the log.
-- The rows written before this migration are converted by the migrator in Rust (commitments need SHA-256).
ALTER TABLE audit_events RENAME TO audit_events_v1;
DROP INDEX audit_events_entity;

CREATE TABLE log_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO log_head (id, size) VALUES (1, 0);

CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    case_id INTEGER,
    case_prev INTEGER,
    actor_commit TEXT NOT NULL,
    entity_commit TEXT NOT NULL,
    before_commit TEXT,
    after_commit TEXT,
    docs TEXT NOT NULL,
    request_id TEXT NOT NULL
);
CREATE INDEX audit_events_case ON audit_events(case_id) WHERE case_id IS NOT NULL;
CREATE TRIGGER audit_events_append_only_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;
CREATE TRIGGER audit_events_append_only_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END;

CREATE TABLE audit_openings (
    seq INTEGER PRIMARY KEY REFERENCES audit_events(seq),
    entity_type TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    actor_salt BLOB NOT NULL,
    actor TEXT NOT NULL,
    entity_salt BLOB NOT NULL,
    before_salt BLOB,
    before_value TEXT,
    after_salt BLOB,
    after_value TEXT
);
CREATE INDEX audit_openings_entity ON audit_openings(entity_type, entity_key);

CREATE TABLE log_keys (
    id INTEGER PRIMARY KEY,
    verifier TEXT NOT NULL UNIQUE,
    sealed_seed BLOB,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

CREATE TABLE log_checkpoints (
    tree_size INTEGER PRIMARY KEY,
    root BLOB NOT NULL,
    frontier BLOB NOT NULL,
    note TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TRIGGER log_checkpoints_append_only_update BEFORE UPDATE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END;
CREATE TRIGGER log_checkpoints_append_only_delete BEFORE DELETE ON log_checkpoints
BEGIN SELECT RAISE(ABORT, 'log_checkpoints is append-only'); END;

-- Leaf hashes as signed: written with each checkpoint, so a later check can name the exact event that
-- changed (the hashes themselves are verified against the signed roots before they are trusted).
CREATE TABLE audit_leaf_hashes (
    seq INTEGER PRIMARY KEY,
    hash BLOB NOT NULL
);
CREATE TRIGGER audit_leaf_hashes_append_only_update BEFORE UPDATE ON audit_leaf_hashes
BEGIN SELECT RAISE(ABORT, 'audit_leaf_hashes is append-only'); END;
CREATE TRIGGER audit_leaf_hashes_append_only_delete BEFORE DELETE ON audit_leaf_hashes
BEGIN SELECT RAISE(ABORT, 'audit_leaf_hashes is append-only'); END;

CREATE TABLE log_timestamps (
    id INTEGER PRIMARY KEY,
    tree_size INTEGER NOT NULL REFERENCES log_checkpoints(tree_size),
    tsa_url TEXT NOT NULL,
    response BLOB NOT NULL,
    gen_time TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX log_timestamps_size ON log_timestamps(tree_size);
