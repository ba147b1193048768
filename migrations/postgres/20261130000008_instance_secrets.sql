-- Secrets the platform generates for itself when none is configured (the
-- session signing key), shared by every controller replica.
CREATE TABLE instance_secrets (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
