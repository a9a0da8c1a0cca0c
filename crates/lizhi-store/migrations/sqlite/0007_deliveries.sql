-- The delivery log of the outbox: one row per attempt to deliver a webhook event or a WeCom message, with
-- what the other side answered, so an operator can see why a delivery failed and send it again.
ALTER TABLE outbox ADD COLUMN case_id INTEGER REFERENCES cases(id);
ALTER TABLE outbox ADD COLUMN evidence TEXT;
CREATE INDEX outbox_case ON outbox(case_id);
CREATE INDEX outbox_channel_status ON outbox(channel, status);

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
