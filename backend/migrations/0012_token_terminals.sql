-- Terminals opened with an API token ride on no work session: the token's ACLs allowed them, and
-- the token is kept so the gateway can end them when it is revoked or its rules change.
--
-- SQLite cannot drop a NOT NULL, so the table is rebuilt. The tables that reference it (shares,
-- recording text) name it by name, so they follow the new one; deferring foreign keys lets the
-- old one go inside this migration's transaction, and every reference is checked at commit.
PRAGMA defer_foreign_keys = ON;

CREATE TABLE websh_sessions_rebuilt (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    work_session_id TEXT REFERENCES work_sessions(id),
    token_id        TEXT REFERENCES api_tokens(id),
    server_id       TEXT NOT NULL,
    server_name     TEXT NOT NULL,
    user_id         TEXT NOT NULL REFERENCES users(id),
    run_as          TEXT,
    cols            INTEGER NOT NULL,
    rows            INTEGER NOT NULL,
    recording       TEXT NOT NULL,      -- file name under <data-dir>/recordings
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    exit_code       INTEGER,
    end_reason      TEXT,
    -- Exactly one authority: a work session, or an API token.
    CHECK ((work_session_id IS NULL) <> (token_id IS NULL))
);

INSERT INTO websh_sessions_rebuilt (id, workspace_id, work_session_id, server_id, server_name,
    user_id, run_as, cols, rows, recording, created_at, ended_at, exit_code, end_reason)
SELECT id, workspace_id, work_session_id, server_id, server_name, user_id, run_as, cols, rows,
    recording, created_at, ended_at, exit_code, end_reason
FROM websh_sessions;

DROP TABLE websh_sessions;
ALTER TABLE websh_sessions_rebuilt RENAME TO websh_sessions;

CREATE INDEX websh_sessions_session ON websh_sessions (workspace_id, work_session_id);
CREATE INDEX websh_sessions_open ON websh_sessions (workspace_id, server_id) WHERE ended_at IS NULL;
CREATE INDEX websh_sessions_created ON websh_sessions (workspace_id, created_at);
CREATE INDEX websh_sessions_token ON websh_sessions (workspace_id, token_id) WHERE token_id IS NOT NULL;
