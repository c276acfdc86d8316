-- Gateway: terminals (websh sessions) and command runs.

CREATE TABLE websh_sessions (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    work_session_id TEXT NOT NULL REFERENCES work_sessions(id),
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
    end_reason      TEXT
);
CREATE INDEX websh_sessions_session ON websh_sessions (workspace_id, work_session_id);
CREATE INDEX websh_sessions_open ON websh_sessions (workspace_id, server_id) WHERE ended_at IS NULL;

CREATE TABLE exec_jobs (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    work_session_id TEXT,
    user_id         TEXT NOT NULL REFERENCES users(id),
    command         TEXT NOT NULL,
    run_as          TEXT,
    timeout_secs    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);

CREATE TABLE exec_runs (
    id               TEXT PRIMARY KEY,  -- the channel id on the agent link
    workspace_id     TEXT NOT NULL REFERENCES workspaces(id),
    job_id           TEXT NOT NULL REFERENCES exec_jobs(id) ON DELETE CASCADE,
    server_name      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out', 'error')),
    exit_code        INTEGER,
    stdout           TEXT NOT NULL DEFAULT '',
    stderr           TEXT NOT NULL DEFAULT '',
    duration_ms      INTEGER,
    error            TEXT
);
CREATE INDEX exec_runs_job ON exec_runs (workspace_id, job_id);
