-- Numeric ids of hosts in the Nezha-compatible fleet API. Assigned once per
-- host entity; AUTOINCREMENT so an id is never reused.
CREATE TABLE fleet_servers (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    entity_id TEXT NOT NULL UNIQUE
);
