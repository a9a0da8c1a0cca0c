-- The outbox gets the case a delivery belongs to, the other side's last answer, and the status
-- `completed_with_errors` (a WeCom card some recipients could not get). SQLite cannot change a CHECK
-- constraint, so the table is rebuilt; nothing references it yet.
CREATE TABLE outbox_rebuilt (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'completed_with_errors', 'failed', 'canceled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    case_id INTEGER REFERENCES cases(id),
    evidence TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO outbox_rebuilt (id, channel, idempotency_key, recipient, payload, status, attempts, next_attempt_at,
    locked_until, last_error, created_at, updated_at)
SELECT id, channel, idempotency_key, recipient, payload, status, attempts, next_attempt_at, locked_until, last_error,
    created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_rebuilt RENAME TO outbox;
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);
CREATE INDEX outbox_case ON outbox(case_id);
CREATE INDEX outbox_channel_status ON outbox(channel, status);

-- The delivery log: one row per attempt to deliver a webhook event or a WeCom message, with what the other
-- side answered, so an operator can see why a delivery failed and send it again.
CREATE TABLE outbox_attempts (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox(id),
    attempt INTEGER NOT NULL,
    started_at TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('delivered', 'retry', 'failed')),
    http_status INTEGER,
    duration_ms INTEGER NOT NULL,
    detail TEXT
);
CREATE INDEX outbox_attempts_row ON outbox_attempts(outbox_id);
