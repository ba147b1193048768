-- Initial schema for SQLite, the embedded (standalone) backend. It mirrors
-- migrations/postgres/20261122000001_initial_schema.sql; the store code
-- relies on the two answering the same.
--
-- Type mapping (see store/src/sqlite/mod.rs for the reasons):
--   timestamptz      -> INTEGER, microseconds since the Unix epoch (UTC);
--                       PostgreSQL keeps microseconds too, and integers
--                       order correctly.
--   jsonb / text[]   -> TEXT holding JSON, checked with json_valid().
--   uuid             -> TEXT, lower-case hyphenated.
--   boolean          -> INTEGER 0/1.
--   identity columns -> INTEGER PRIMARY KEY AUTOINCREMENT, so an id is
--                       never handed out twice, even after a delete.
-- Constraints carry PostgreSQL's names so that errors read the same.
-- Regular-expression checks are written with GLOB, which needs no
-- extension function and so keeps the file usable from the sqlite3 shell.

CREATE TABLE users (
    name          TEXT NOT NULL PRIMARY KEY
                  CONSTRAINT users_name_check CHECK (
                      length(name) BETWEEN 1 AND 128
                      AND name GLOB '[A-Za-z0-9]*'
                      AND name NOT GLOB '*[^A-Za-z0-9._@+-]*'),
    password_hash TEXT,
    role          TEXT NOT NULL
                  CONSTRAINT users_role_check
                  CHECK (role IN ('ADMIN', 'LEAD', 'USER', 'VIEWER', 'API_READER', 'API_WRITER')),
    teams         TEXT NOT NULL DEFAULT '[]'
                  CONSTRAINT users_teams_check CHECK (json_valid(teams) AND json_type(teams) = 'array'),
    created_at    INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    updated_at    INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))
);

-- Only a SHA-256 of each token is kept; the token itself is shown once.
CREATE TABLE api_tokens (
    id           TEXT NOT NULL PRIMARY KEY,
    user_name    TEXT NOT NULL REFERENCES users (name) ON DELETE CASCADE,
    token_hash   TEXT NOT NULL UNIQUE,
    label        TEXT,
    created_at   INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (user_name);

-- Entities are JSON documents; id and type are copied out of the document
-- for constraints and indexing, with ZMON's rules.
CREATE TABLE entities (
    id               TEXT NOT NULL PRIMARY KEY
                     CONSTRAINT entities_id_check CHECK (
                         length(id) >= 2
                         AND id GLOB '[a-z]*'
                         AND id NOT GLOB '*[^]a-z0-9@._:[-]*'),
    type             TEXT NOT NULL
                     CONSTRAINT entities_type_check CHECK (
                         length(type) >= 2
                         AND type GLOB '[a-z]*'
                         AND type NOT GLOB '*[^a-z0-9_-]*'),
    data             TEXT NOT NULL
                     CONSTRAINT entities_data_check CHECK (json_valid(data) AND json_type(data) = 'object'),
    created          INTEGER NOT NULL,
    created_by       TEXT NOT NULL,
    last_modified    INTEGER NOT NULL,
    last_modified_by TEXT NOT NULL
);
CREATE INDEX entities_type ON entities (type);

CREATE TABLE check_definitions (
    id                 INTEGER PRIMARY KEY AUTOINCREMENT,
    name               TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    technical_details  TEXT,
    potential_analysis TEXT,
    potential_impact   TEXT,
    potential_solution TEXT,
    owning_team        TEXT NOT NULL,
    entities           TEXT NOT NULL
                       CONSTRAINT check_definitions_entities_check
                       CHECK (json_valid(entities) AND json_type(entities) = 'array'),
    "interval"         INTEGER NOT NULL CONSTRAINT check_definitions_interval_check CHECK ("interval" >= 1),
    command            TEXT NOT NULL,
    status             TEXT NOT NULL
                       CONSTRAINT check_definitions_status_check
                       CHECK (status IN ('ACTIVE', 'INACTIVE', 'REJECTED', 'DELETED')),
    source_url         TEXT,
    created            INTEGER NOT NULL,
    created_by         TEXT NOT NULL,
    last_modified      INTEGER NOT NULL,
    last_modified_by   TEXT NOT NULL
);
-- The upsert keys of POST /api/v1/check-definitions after the id. SQLite's
-- lower() folds ASCII letters only (PostgreSQL's folds all of Unicode).
CREATE UNIQUE INDEX check_definitions_source_url ON check_definitions (lower(source_url))
    WHERE source_url IS NOT NULL;
CREATE UNIQUE INDEX check_definitions_name_team ON check_definitions (lower(name), lower(owning_team));

-- The alert-definition tree. A NULL in an inheritable column means
-- "inherited from the parent"; team, responsible_team and status are never
-- inherited.
CREATE TABLE alert_definitions (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    parent_id           INTEGER REFERENCES alert_definitions (id),
    template            INTEGER NOT NULL CONSTRAINT alert_definitions_template_check CHECK (template IN (0, 1)),
    team                TEXT NOT NULL,
    responsible_team    TEXT NOT NULL,
    status              TEXT NOT NULL
                        CONSTRAINT alert_definitions_status_check
                        CHECK (status IN ('ACTIVE', 'INACTIVE', 'REJECTED', 'DELETED')),
    name                TEXT,
    description         TEXT,
    entities            TEXT CHECK (entities IS NULL OR json_valid(entities)),
    entities_exclude    TEXT CHECK (entities_exclude IS NULL OR json_valid(entities_exclude)),
    condition           TEXT,
    notifications       TEXT CHECK (notifications IS NULL OR json_valid(notifications)),
    check_definition_id INTEGER REFERENCES check_definitions (id),
    priority            INTEGER CONSTRAINT alert_definitions_priority_check CHECK (priority BETWEEN 1 AND 3),
    period              TEXT,
    parameters          TEXT CHECK (parameters IS NULL OR json_valid(parameters)),
    tags                TEXT CHECK (tags IS NULL OR json_valid(tags)),
    created             INTEGER NOT NULL,
    created_by          TEXT NOT NULL,
    last_modified       INTEGER NOT NULL,
    last_modified_by    TEXT NOT NULL
);
CREATE INDEX alert_definitions_parent ON alert_definitions (parent_id);
CREATE INDEX alert_definitions_check ON alert_definitions (check_definition_id);

-- A downtime request. It keeps what was asked for and, in `downtimes`, the
-- (alert, entity) pairs it covered. Deleting it only marks it deleted so
-- that the history survives. start_time and end_time are epoch seconds, as
-- in the API.
CREATE TABLE downtime_groups (
    id                          TEXT NOT NULL PRIMARY KEY,
    comment                     TEXT NOT NULL,
    start_time                  INTEGER NOT NULL,
    end_time                    INTEGER NOT NULL CONSTRAINT downtime_groups_check CHECK (end_time > start_time),
    created_by                  TEXT NOT NULL,
    created_at                  INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    requested_entities          TEXT NOT NULL CHECK (json_valid(requested_entities)),
    requested_alert_definitions TEXT CHECK (requested_alert_definitions IS NULL OR json_valid(requested_alert_definitions)),
    deleted_at                  INTEGER,
    deleted_by                  TEXT
);
CREATE INDEX downtime_groups_live ON downtime_groups (end_time) WHERE deleted_at IS NULL;

CREATE TABLE downtimes (
    id                  TEXT NOT NULL PRIMARY KEY,
    group_id            TEXT NOT NULL REFERENCES downtime_groups (id),
    alert_definition_id INTEGER NOT NULL,
    entity_id           TEXT NOT NULL
);
CREATE INDEX downtimes_group ON downtimes (group_id);

-- Who changed which definition when, with the state before and after.
-- Its ids double as the change counter, so they must only grow.
CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    at        INTEGER NOT NULL DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    object_id TEXT NOT NULL,
    action    TEXT NOT NULL,
    before    TEXT CHECK (before IS NULL OR json_valid(before)),
    after     TEXT CHECK (after IS NULL OR json_valid(after))
);
CREATE INDEX audit_log_object ON audit_log (kind, object_id, id);
CREATE INDEX audit_log_kind_at ON audit_log (kind, at);

-- SQLite has no TRUNCATE; a DELETE without WHERE fires the delete trigger.
CREATE TRIGGER audit_log_no_update
    BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete
    BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
