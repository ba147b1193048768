-- An OAuth login between the redirect to the provider and its callback:
-- the PKCE verifier and the nonce stay on the server, keyed by `state`.
CREATE TABLE oauth_logins (
    state         TEXT PRIMARY KEY,
    provider      TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    nonce         TEXT NOT NULL,
    next_path     TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX oauth_logins_created ON oauth_logins (created_at);
