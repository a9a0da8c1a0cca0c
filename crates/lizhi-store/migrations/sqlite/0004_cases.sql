-- Separation cases: the case itself (with its policy snapshot), every transition as an event, the
-- contact log, notices with their receipts, the resolved approval chain and the checklist.

-- The day the contract ended, set when a case terminates (the active list and scans stop there).
ALTER TABLE employees ADD COLUMN departed_on TEXT;

CREATE TABLE cases (
    id INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    legal_entity_id INTEGER NOT NULL REFERENCES legal_entities(id),
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    case_type TEXT NOT NULL,
    state TEXT NOT NULL,
    -- The policy in force when the case opened (JSON), so later edits never apply backwards.
    policy TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    owner_user_id INTEGER REFERENCES users(id),
    first_absent_date TEXT,
    last_working_day TEXT,
    return_round INTEGER NOT NULL DEFAULT 0,
    protected_status BOOLEAN,
    approved_on TEXT,
    union_notified_on TEXT,
    union_replied_on TEXT,
    -- The last day of the period the case is waiting on, if any.
    deadline TEXT,
    effective_on TEXT,
    resolution TEXT,
    rehire_eligible BOOLEAN,
    rehire_reason TEXT,
    converted_to INTEGER REFERENCES cases(id),
    opened_at TEXT NOT NULL,
    opened_by TEXT NOT NULL,
    confirmed_at TEXT,
    confirmed_by TEXT,
    closed_at TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX cases_board ON cases(state, legal_entity_id);
CREATE INDEX cases_employee ON cases(employee_id);
-- One case in progress per person.
CREATE UNIQUE INDEX cases_one_in_progress ON cases(employee_id)
    WHERE state NOT IN ('closed', 'returned', 'converted', 'cancelled');

-- Every action taken on a case, with the inputs it relied on (JSON) and the server time.
CREATE TABLE case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    action TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    detail TEXT NOT NULL,
    policy_version INTEGER NOT NULL,
    actor TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events(case_id, id);

CREATE TABLE case_contacts (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    channel TEXT NOT NULL,
    outcome TEXT NOT NULL,
    note TEXT,
    happened_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX case_contacts_case ON case_contacts(case_id, happened_at);

CREATE TABLE case_notices (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL CHECK (kind IN ('return_to_work', 'termination')),
    round INTEGER NOT NULL,
    method TEXT NOT NULL,
    dispatched_on TEXT NOT NULL,
    tracking_no TEXT,
    reason TEXT,
    receipt_outcome TEXT,
    received_on TEXT,
    receipt_note TEXT,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL
);
CREATE INDEX case_notices_case ON case_notices(case_id, id);

-- The approval chain of a case, resolved to users when the case opened.
CREATE TABLE approval_steps (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    position INTEGER NOT NULL,
    name TEXT NOT NULL,
    mode TEXT NOT NULL CHECK (mode IN ('any_of', 'all_of')),
    due_workdays INTEGER NOT NULL,
    activated_on TEXT,
    due_on TEXT,
    UNIQUE (case_id, position)
);

CREATE TABLE approval_assignees (
    step_id INTEGER NOT NULL REFERENCES approval_steps(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    escalated BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (step_id, user_id)
);
CREATE INDEX approval_assignees_user ON approval_assignees(user_id);

CREATE TABLE approval_decisions (
    id INTEGER PRIMARY KEY,
    step_id INTEGER NOT NULL REFERENCES approval_steps(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    decision TEXT NOT NULL CHECK (decision IN ('approve', 'reject')),
    comment TEXT,
    decided_at TEXT NOT NULL,
    UNIQUE (step_id, user_id)
);

-- Configured chains per case type, for one legal entity or (NULL) all of them.
CREATE TABLE approval_chains (
    id INTEGER PRIMARY KEY,
    legal_entity_id INTEGER REFERENCES legal_entities(id),
    case_type TEXT NOT NULL,
    chain TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL
);
CREATE UNIQUE INDEX approval_chains_key ON approval_chains(COALESCE(legal_entity_id, 0), case_type);

-- The asset register: company property and who holds it; a case's checklist gets one return item per
-- asset in use by the person.
CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    tag TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    employee_id INTEGER REFERENCES employees(id),
    assigned_on TEXT,
    status TEXT NOT NULL CHECK (status IN ('in_use', 'in_stock', 'returned', 'lost')),
    updated_at TEXT NOT NULL
);
CREATE INDEX assets_employee ON assets(employee_id, status);

CREATE TABLE checklist_items (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    position INTEGER NOT NULL,
    item_key TEXT NOT NULL,
    category TEXT NOT NULL,
    label TEXT,
    asset_id INTEGER REFERENCES assets(id),
    owner_user_id INTEGER REFERENCES users(id),
    owner_role TEXT,
    due_rule TEXT NOT NULL,
    due_on TEXT,
    after_termination_only BOOLEAN NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'done', 'waived')),
    note TEXT,
    completed_at TEXT,
    completed_by TEXT,
    UNIQUE (case_id, position)
);
CREATE INDEX checklist_items_owner ON checklist_items(owner_user_id, status, due_on);

-- The message center: one row per person and reminder rule; the dedupe key makes each rule fire
-- once (per day for the daily ones) however many instances run the reminder job.
CREATE TABLE notifications (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    case_id INTEGER REFERENCES cases(id),
    params TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    read_at TEXT
);
CREATE INDEX notifications_user ON notifications(user_id, read_at, id);

-- Documents generated for cases (notices, letters, certificate): the PDF as archived, the HTML
-- print copy, and the SHA-256 of the PDF that the case event records.
CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    pdf BLOB NOT NULL,
    html TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL
);
CREATE INDEX documents_case ON documents(case_id, id);

-- An admin's replacement for a built-in letter template.
CREATE TABLE document_templates (
    kind TEXT NOT NULL,
    lang TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    PRIMARY KEY (kind, lang)
);

-- The alumni pool: people who left, with what a rehire decision needs.
CREATE TABLE alumni (
    employee_id INTEGER PRIMARY KEY REFERENCES employees(id),
    case_id INTEGER REFERENCES cases(id),
    departed_on TEXT NOT NULL,
    last_position TEXT,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    rehire_eligible BOOLEAN NOT NULL,
    rehire_reason TEXT,
    skills TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX alumni_eligible ON alumni(rehire_eligible, departed_on);

-- The transactional outbox: external effects (e-mail now; connectors later) written in the same
-- transaction as the change that causes them, delivered by workers with retries. The idempotency
-- key makes a second enqueue of the same effect a no-op.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    channel TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    recipient TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'in_progress', 'completed', 'failed', 'canceled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    locked_until TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox(status, next_attempt_at);

-- Files attached to checklist items (a signed handover form, a photo of returned equipment).
CREATE TABLE checklist_attachments (
    id INTEGER PRIMARY KEY,
    item_id INTEGER NOT NULL REFERENCES checklist_items(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    content BLOB NOT NULL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL
);
CREATE INDEX checklist_attachments_item ON checklist_attachments(item_id, id);
