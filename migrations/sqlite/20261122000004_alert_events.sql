-- Alert state changes that workers publish on the bus and the controller
-- keeps: when an alert started or ended, on which entity, with what
-- captures. `stream_id` is the bus's id of the event, so a redelivered
-- event is stored once.

CREATE TABLE alert_events (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    stream_id   TEXT NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL
                CONSTRAINT alert_events_kind_check
                CHECK (kind IN ('ALERT_STARTED', 'ALERT_ENDED', 'ALERT_ENTITY_STARTED', 'ALERT_ENTITY_ENDED')),
    alert_id    INTEGER NOT NULL,
    entity      TEXT NOT NULL,
    captures    TEXT NOT NULL CHECK (json_valid(captures)),
    value       TEXT CHECK (value IS NULL OR json_valid(value)),
    worker      TEXT NOT NULL,
    recorded_at INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
CREATE INDEX alert_events_at ON alert_events (at);
