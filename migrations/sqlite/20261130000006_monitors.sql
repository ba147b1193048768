-- Check definitions may exclude entities (ours; ZMON had this on alerts
-- only). Monitors with `cover: except` use it.
ALTER TABLE check_definitions
    ADD COLUMN entities_exclude TEXT NOT NULL DEFAULT '[]'
    CONSTRAINT check_definitions_entities_exclude_check
    CHECK (json_valid(entities_exclude) AND json_type(entities_exclude) = 'array');

-- ICMP/TCP monitors. Each runs as the check definition it manages.
CREATE TABLE monitors (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('icmp', 'tcp')),
    target              TEXT NOT NULL,
    "interval"          INTEGER NOT NULL CHECK ("interval" >= 1),
    cover               TEXT NOT NULL CHECK (cover IN ('all', 'only', 'except')),
    servers             TEXT NOT NULL CHECK (json_valid(servers) AND json_type(servers) = 'array'),
    team                TEXT NOT NULL,
    check_definition_id INTEGER UNIQUE REFERENCES check_definitions (id),
    created             INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    last_modified       INTEGER NOT NULL,
    last_modified_by    TEXT NOT NULL
);

-- One row per (monitor, reporting server, minute). The average delay is
-- delay_sum_ms / successes, so failures never drag it towards 0.
CREATE TABLE monitor_minutes (
    monitor_id   INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    server_id    INTEGER NOT NULL,
    minute       INTEGER NOT NULL, -- epoch seconds, a multiple of 60
    successes    INTEGER NOT NULL CHECK (successes >= 0),
    failures     INTEGER NOT NULL CHECK (failures >= 0),
    delay_sum_ms REAL NOT NULL,
    PRIMARY KEY (monitor_id, server_id, minute)
);
CREATE INDEX monitor_minutes_server ON monitor_minutes (server_id, minute);
CREATE INDEX monitor_minutes_minute ON monitor_minutes (minute);
