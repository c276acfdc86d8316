-- Gatehouse schema, version 1.
-- Portable on purpose: ids are TEXT (UUID strings), times are INTEGER microseconds since the Unix
-- epoch, booleans are INTEGER 0/1, lists live in child tables. PostgreSQL takes the same shapes.
-- Every table carries workspace_id and every query filters by it.

CREATE TABLE workspaces (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL UNIQUE,
    max_session_secs INTEGER NOT NULL DEFAULT 86400,
    mfa_timeout_secs INTEGER NOT NULL DEFAULT 900,
    -- The audit chain's head, written with every append: removing rows from the end of the log
    -- leaves a valid chain, but not one that ends here.
    audit_head_seq   INTEGER NOT NULL DEFAULT 0,
    audit_head_hash  TEXT NOT NULL DEFAULT '0000000000000000000000000000000000000000000000000000000000000000',
    created_at       INTEGER NOT NULL
);

CREATE TABLE users (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id),
    username            TEXT NOT NULL,
    email               TEXT,
    role                TEXT NOT NULL CHECK (role IN ('member', 'staff', 'superuser')),
    password_hash       TEXT NOT NULL,
    totp_secret         TEXT,
    totp_pending_secret TEXT,
    totp_last_step      INTEGER,
    created_at          INTEGER NOT NULL,
    UNIQUE (workspace_id, username)
);

CREATE TABLE login_sessions (
    token_hash          TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces(id),
    user_id             TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token          TEXT NOT NULL,
    created_at          INTEGER NOT NULL,
    expires_at          INTEGER NOT NULL,
    mfa_verified_at     INTEGER,
    active_work_session TEXT
);
CREATE INDEX login_sessions_user ON login_sessions (workspace_id, user_id);

CREATE TABLE login_failures (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    throttle_key TEXT NOT NULL,
    at           INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (workspace_id, throttle_key, at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens (workspace_id, user_id);

CREATE TABLE groups (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name         TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE group_members (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    group_id     TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);
CREATE INDEX group_members_user ON group_members (workspace_id, user_id);

CREATE TABLE group_server_patterns (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    group_id     TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    pattern      TEXT NOT NULL,
    PRIMARY KEY (group_id, pattern)
);

-- Servers granted to one user directly (a name or pattern).
CREATE TABLE user_server_grants (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    pattern      TEXT NOT NULL,
    PRIMARY KEY (user_id, pattern)
);

CREATE TABLE servers (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    name         TEXT NOT NULL,
    os           TEXT,
    platform     TEXT,
    hostname     TEXT,
    connected    INTEGER NOT NULL DEFAULT 0,
    last_seen    INTEGER,
    created_at   INTEGER NOT NULL,
    UNIQUE (workspace_id, name)
);

CREATE TABLE registration_tokens (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    token_hash   TEXT NOT NULL UNIQUE,
    created_by   TEXT NOT NULL REFERENCES users(id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    max_uses     INTEGER NOT NULL,
    uses         INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE agents (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    server_id    TEXT NOT NULL UNIQUE REFERENCES servers(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL,
    hostname     TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);

CREATE TABLE work_sessions (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    purpose         TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'active', 'completed',
                                                    'expired', 'revoked', 'rejected', 'cancelled')),
    scopes          TEXT NOT NULL,      -- comma list, e.g. 'websh,command'
    requested_by    TEXT NOT NULL REFERENCES users(id),
    assignee        TEXT NOT NULL REFERENCES users(id),
    approved_by     TEXT REFERENCES users(id),
    decision_reason TEXT,
    adjustments     TEXT,               -- JSON of shared::work_session::Adjustments
    starts_at       INTEGER,
    duration_secs   INTEGER,
    expires_at      INTEGER,
    created_at      INTEGER NOT NULL,
    decided_at      INTEGER,
    activated_at    INTEGER,
    ended_at        INTEGER,
    next_deadline   INTEGER             -- when the scheduler must look again; NULL once terminal
);
CREATE INDEX work_sessions_status_created ON work_sessions (workspace_id, status, created_at DESC, id DESC);
CREATE INDEX work_sessions_created ON work_sessions (workspace_id, created_at DESC, id DESC);
CREATE INDEX work_sessions_assignee ON work_sessions (workspace_id, assignee, created_at DESC);
CREATE INDEX work_sessions_requester ON work_sessions (workspace_id, requested_by, created_at DESC);
CREATE INDEX work_sessions_deadline ON work_sessions (workspace_id, next_deadline) WHERE next_deadline IS NOT NULL;

CREATE TABLE work_session_servers (
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    work_session_id TEXT NOT NULL REFERENCES work_sessions(id) ON DELETE CASCADE,
    server_id       TEXT NOT NULL,
    server_name     TEXT NOT NULL,
    PRIMARY KEY (work_session_id, server_id)
);
CREATE INDEX work_session_servers_name ON work_session_servers (workspace_id, server_name, work_session_id);

CREATE TABLE audit_log (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    seq          INTEGER NOT NULL,
    at           INTEGER NOT NULL,
    actor        TEXT,
    action       TEXT NOT NULL,
    target       TEXT,
    outcome      TEXT NOT NULL,
    work_session TEXT,
    server       TEXT,
    details      TEXT NOT NULL,
    hash         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    PRIMARY KEY (workspace_id, seq)
);
CREATE INDEX audit_log_session ON audit_log (workspace_id, work_session, seq);
CREATE INDEX audit_log_actor ON audit_log (workspace_id, actor, seq);
