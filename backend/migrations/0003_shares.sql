-- Shared terminal links: the link secret and password are stored only as hashes.

CREATE TABLE websh_shares (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    websh_id        TEXT NOT NULL REFERENCES websh_sessions(id),
    created_by      TEXT NOT NULL REFERENCES users(id),
    secret_hash     TEXT NOT NULL UNIQUE,   -- SHA-256 of the 256-bit link secret
    password_hash   TEXT NOT NULL,          -- argon2id
    read_only       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    revoked_at      INTEGER,
    -- Wrong passwords so far (an attempt in progress counts until it succeeds) and the last one,
    -- for the per-link backoff and the lock at ten.
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_failed_at  INTEGER
);
CREATE INDEX websh_shares_websh ON websh_shares (workspace_id, websh_id);

-- A guest who joined by a link (kept when it reconnects).
CREATE TABLE share_participants (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    share_id        TEXT NOT NULL REFERENCES websh_shares(id),
    name            TEXT NOT NULL,
    joined_at       INTEGER NOT NULL,
    removed_at      INTEGER
);
CREATE INDEX share_participants_share ON share_participants (workspace_id, share_id);

-- One-connection tickets a join hands out (hash only; valid for a minute, used once).
CREATE TABLE share_tickets (
    ticket_hash     TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    participant_id  TEXT NOT NULL REFERENCES share_participants(id),
    expires_at      INTEGER NOT NULL,
    used_at         INTEGER
);
