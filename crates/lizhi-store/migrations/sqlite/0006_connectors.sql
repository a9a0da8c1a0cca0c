-- Connectors: the systems Lizhi revokes access in and notifies, and which account each employee holds in
-- each of them. Accounts are registered (imported or entered), never guessed from names.
CREATE TABLE connectors (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    settings TEXT NOT NULL,
    sealed_secret BLOB,
    revoke_order INTEGER NOT NULL,
    enabled BOOLEAN NOT NULL DEFAULT TRUE,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE identities (
    id INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    connector_id INTEGER NOT NULL REFERENCES connectors(id),
    account_id TEXT NOT NULL,
    user_name TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (connector_id, account_id),
    UNIQUE (employee_id, connector_id)
);

-- One row per effect on one account (revoke Zhang San in Corp AD): written in the transaction of the case
-- change that asks for it, done by workers, with its evidence and the verdict of the read-back.
CREATE TABLE access_actions (
    id INTEGER PRIMARY KEY,
    case_id INTEGER REFERENCES cases(id),
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    connector_id INTEGER NOT NULL REFERENCES connectors(id),
    account_id TEXT NOT NULL,
    intent TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    revoke_order INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'completed_with_errors', 'failed', 'canceled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    read_back_first BOOLEAN NOT NULL DEFAULT FALSE,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    evidence TEXT,
    verdict TEXT,
    verified_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX access_actions_due ON access_actions(status, next_attempt_at);
CREATE INDEX access_actions_case ON access_actions(case_id);
