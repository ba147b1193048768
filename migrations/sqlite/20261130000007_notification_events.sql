-- The event history also records notifications (each delivery attempt,
-- sent or failed, and each one held back) and downtimes, with the details
-- in `data`.
-- SQLite cannot change a CHECK constraint, so the table is rebuilt.
CREATE TABLE alert_events_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL
                CONSTRAINT alert_events_kind_check
                CHECK (kind IN ('ALERT_STARTED', 'ALERT_ENDED', 'ALERT_ENTITY_STARTED', 'ALERT_ENTITY_ENDED',
                                'NOTIFICATION_SENT', 'NOTIFICATION_FAILED', 'NOTIFICATION_SUPPRESSED',
    'DOWNTIME_CREATED', 'DOWNTIME_DELETED', 'DOWNTIME_STARTED', 'DOWNTIME_ENDED')),
    alert_id    INTEGER NOT NULL,
    entity      TEXT NOT NULL,
    captures    TEXT NOT NULL CHECK (json_valid(captures)),
    value       TEXT CHECK (value IS NULL OR json_valid(value)),
    worker      TEXT NOT NULL,
    recorded_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    data        TEXT CHECK (data IS NULL OR json_valid(data))
);
INSERT INTO alert_events_new (id, stream_id, at, kind, alert_id, entity, captures, value, worker, recorded_at)
    SELECT id, stream_id, at, kind, alert_id, entity, captures, value, worker, recorded_at FROM alert_events;
DROP TABLE alert_events;
ALTER TABLE alert_events_new RENAME TO alert_events;
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
CREATE INDEX alert_events_at ON alert_events (at);
