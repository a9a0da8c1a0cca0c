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
