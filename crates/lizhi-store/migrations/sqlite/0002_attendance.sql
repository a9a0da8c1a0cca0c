-- Early-warning inputs: calendar overrides, rosters, punches, leave and activity.
CREATE TABLE calendar_days (
    calendar TEXT NOT NULL,
    day TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('holiday', 'workday')),
    name TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (calendar, day)
);

CREATE TABLE roster_days (
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    day TEXT NOT NULL,
    shift TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (employee_id, day)
);

CREATE TABLE punches (
    id INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    punched_at TEXT NOT NULL,
    source TEXT NOT NULL,
    attendance_day TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (employee_id, punched_at, source)
);
CREATE INDEX punches_attendance ON punches(employee_id, attendance_day);

CREATE TABLE leaves (
    id INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    start_day TEXT NOT NULL,
    end_day TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('approved', 'pending', 'rejected')),
    updated_at TEXT NOT NULL,
    UNIQUE (employee_id, start_day, end_day, kind)
);
CREATE INDEX leaves_employee ON leaves(employee_id, end_day);

CREATE TABLE activity (
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    day TEXT NOT NULL,
    system TEXT NOT NULL,
    events INTEGER NOT NULL CHECK (events >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (employee_id, day, system)
);

-- What people did about an alert: dismissed it (with a reason), logged a contact attempt, escalated it.
-- An alert episode is identified by the employee and the first day of the absence streak.
CREATE TABLE risk_actions (
    id INTEGER PRIMARY KEY,
    employee_id INTEGER NOT NULL REFERENCES employees(id),
    episode_start TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('dismiss', 'contact', 'escalate')),
    reason TEXT,
    channel TEXT,
    outcome TEXT,
    note TEXT,
    happened_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX risk_actions_episode ON risk_actions(employee_id, episode_start);
