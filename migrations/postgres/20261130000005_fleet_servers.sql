-- Numeric ids of hosts in the Nezha-compatible fleet API. Assigned once per
-- host entity and never reused, so dashboards that remember an id keep
-- pointing at the same host.
CREATE TABLE fleet_servers (
    id        bigserial PRIMARY KEY,
    entity_id text NOT NULL UNIQUE
);
