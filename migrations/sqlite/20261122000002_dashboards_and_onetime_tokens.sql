-- Dashboards and one-time (TV) login tokens, used by the official zmon-cli.

CREATE TABLE dashboards (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    name                 TEXT NOT NULL,
    view_mode            TEXT NOT NULL CONSTRAINT dashboards_view_mode_check CHECK (view_mode IN ('COMPACT', 'FULL')),
    edit_option          TEXT NOT NULL
                         CONSTRAINT dashboards_edit_option_check CHECK (edit_option IN ('PRIVATE', 'TEAM', 'PUBLIC')),
    alert_teams          TEXT NOT NULL CHECK (json_valid(alert_teams)),
    tags                 TEXT NOT NULL CHECK (json_valid(tags)),
    shared_teams         TEXT NOT NULL CHECK (json_valid(shared_teams)),
    widget_configuration TEXT NOT NULL CHECK (json_valid(widget_configuration)),
    created              INTEGER NOT NULL,
    created_by           TEXT NOT NULL,
    last_modified        INTEGER NOT NULL,
    last_modified_by     TEXT NOT NULL
);

-- A short token a wall monitor logs in with once; it is then bound to the
-- monitor's IP address.
CREATE TABLE onetime_tokens (
    token         TEXT NOT NULL PRIMARY KEY,
    created_by    TEXT NOT NULL,
    created       INTEGER NOT NULL,
    expires       INTEGER NOT NULL,
    bound_ip      TEXT,
    bound_at      INTEGER,
    bound_expires INTEGER
);
CREATE INDEX onetime_tokens_user ON onetime_tokens (created_by, created);
