-- The `gate` CLI signs in as a person, so its sign-ins live beside the browser's: the same
-- expiry, step-up time and selected work session, listed and revoked together. Each sign-in
-- gains an id to name it by (the token hash never leaves the server), its client, the name
-- and address it came with, and when it was last used.
ALTER TABLE login_sessions ADD COLUMN id TEXT;
ALTER TABLE login_sessions ADD COLUMN client TEXT NOT NULL DEFAULT 'browser'
    CHECK (client IN ('browser', 'cli'));
ALTER TABLE login_sessions ADD COLUMN client_name TEXT;
ALTER TABLE login_sessions ADD COLUMN address TEXT;
ALTER TABLE login_sessions ADD COLUMN last_used_at INTEGER;

-- Sign-ins made before this had no id: each gets a random one in UUID form.
UPDATE login_sessions SET id = lower(hex(randomblob(4))) || '-' || lower(hex(randomblob(2)))
    || '-4' || substr(lower(hex(randomblob(2))), 2) || '-a' || substr(lower(hex(randomblob(2))), 2)
    || '-' || lower(hex(randomblob(6)))
WHERE id IS NULL;
CREATE UNIQUE INDEX login_sessions_id ON login_sessions (id);

-- Device sign-in (RFC 8628): a CLI asks, a person approves in the console after their own
-- sign-in, the CLI's next poll turns the approval into a CLI sign-in once.
CREATE TABLE device_requests (
    device_code_hash TEXT PRIMARY KEY,  -- the CLI's secret, hashed like every bearer secret
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    user_code        TEXT NOT NULL,     -- XXXX-XXXX, what the person checks
    client_name      TEXT NOT NULL,
    address          TEXT NOT NULL,
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    interval_secs    INTEGER NOT NULL,
    last_polled_at   INTEGER,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'denied', 'issued')),
    user_id          TEXT REFERENCES users(id) ON DELETE CASCADE,
    decided_at       INTEGER,
    CHECK ((status = 'pending') = (user_id IS NULL))
);
CREATE UNIQUE INDEX device_requests_user_code ON device_requests (workspace_id, user_code);
