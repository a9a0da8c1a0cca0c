-- Daily risk scans: when each legal entity is scanned, when a night shift's attendance day
-- ends, the scans themselves (one per slot, claimed by one instance), the alerts they stored, and
-- per-month attendance summaries that keep a scan of a large workforce to a few small rows per
-- person.

-- Local time of day ('HH:MM', in the entity's time zone) at which the daily scan runs.
ALTER TABLE legal_entities ADD COLUMN scan_time TEXT NOT NULL DEFAULT '06:00';

-- Night shifts: punches on the next date before this local time ('HH:MM') belong to this shift.
ALTER TABLE roster_days ADD COLUMN day_ends_at TEXT;

-- One row per employee and month: bit (d - 1) of punch_days is set when day d had a punch;
-- activity holds 31 day totals over all systems as 4 hex digits each (little-endian u16, saturated
-- at 65,535; hex text so a scan can pack rows without converting them), NULL when there was none.
-- Derived from punches and activity, kept in step by the imports.
CREATE TABLE attendance_months (
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    month TEXT NOT NULL,
    punch_days INTEGER NOT NULL DEFAULT 0,
    activity TEXT,
    PRIMARY KEY (employee_id, month)
) WITHOUT ROWID;

-- A scan of one legal entity as of one date. `slot` is the dedupe key: the scheduler's
-- 'daily:<entity>:<local date>' can be inserted once, so several instances never scan twice.
-- A crashed instance's claim is taken over after `lease_until`.
CREATE TABLE risk_scans (
    id INTEGER PRIMARY KEY,
    slot TEXT NOT NULL UNIQUE,
    legal_entity_id INTEGER NOT NULL REFERENCES legal_entities(id),
    as_of TEXT NOT NULL,
    origin TEXT NOT NULL CHECK (origin IN ('schedule', 'manual')),
    status TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    attempts INTEGER NOT NULL,
    claimed_by TEXT NOT NULL,
    lease_until TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    red INTEGER,
    yellow INTEGER,
    error TEXT
);
CREATE INDEX risk_scans_latest ON risk_scans(legal_entity_id, status, as_of);

-- The non-green employees a scan found, with the full explanation as JSON.
CREATE TABLE risk_alerts (
    scan_id INTEGER NOT NULL REFERENCES risk_scans(id),
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    level TEXT NOT NULL CHECK (level IN ('yellow', 'red')),
    rules TEXT NOT NULL,
    consecutive_absent_workdays INTEGER NOT NULL,
    first_absent_date TEXT,
    assessment TEXT NOT NULL,
    PRIMARY KEY (scan_id, employee_id)
);
