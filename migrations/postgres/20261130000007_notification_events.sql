-- The event history also records notifications (each delivery attempt,
-- sent or failed, and each one held back) and downtimes, with the details
-- in `data`.
ALTER TABLE alert_events DROP CONSTRAINT alert_events_kind_check;
ALTER TABLE alert_events ADD CONSTRAINT alert_events_kind_check CHECK (kind IN (
    'ALERT_STARTED', 'ALERT_ENDED', 'ALERT_ENTITY_STARTED', 'ALERT_ENTITY_ENDED',
    'NOTIFICATION_SENT', 'NOTIFICATION_FAILED', 'NOTIFICATION_SUPPRESSED',
    'DOWNTIME_CREATED', 'DOWNTIME_DELETED', 'DOWNTIME_STARTED', 'DOWNTIME_ENDED'));
ALTER TABLE alert_events ADD COLUMN data jsonb;
