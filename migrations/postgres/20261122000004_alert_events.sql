-- Alert state changes that workers publish on the bus and the controller
-- keeps: when an alert started or ended, on which entity, with what
-- captures. `stream_id` is the bus's id of the event, so a redelivered
-- event is stored once.

CREATE TABLE alert_events (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    stream_id   text NOT NULL UNIQUE,
    at          timestamptz NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('ALERT_STARTED', 'ALERT_ENDED', 'ALERT_ENTITY_STARTED', 'ALERT_ENTITY_ENDED')),
    alert_id    bigint NOT NULL,
    entity      text NOT NULL,
    captures    jsonb NOT NULL,
    value       jsonb,
    worker      text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
CREATE INDEX alert_events_at ON alert_events (at);
