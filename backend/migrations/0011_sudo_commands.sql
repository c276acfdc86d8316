-- Elevation: what a work session allows root to do, and single commands approved one by one.
--
-- A session may declare root command patterns (`sudo_commands`) and tunnel ports, both JSON
-- arrays (NULL when none were declared); an approver may only narrow them.
ALTER TABLE work_sessions ADD COLUMN sudo_commands TEXT;
ALTER TABLE work_sessions ADD COLUMN tunnel_ports TEXT;

-- One root command outside a session's `sudo_commands`, waiting for a superuser. On approval it
-- runs once, exactly as asked (`argv` as JSON, or the shell `command`), in the requester's
-- session; `exec_job` is the job that ran it. The decision is one conditional UPDATE on
-- `status = 'pending'`, so two approvers cannot both run it.
CREATE TABLE command_approvals (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    work_session_id TEXT NOT NULL REFERENCES work_sessions(id),
    requested_by    TEXT NOT NULL REFERENCES users(id),
    servers         TEXT NOT NULL,  -- JSON array of server names
    command         TEXT NOT NULL,  -- the shell line, or the argv joined with spaces
    argv            TEXT,           -- JSON array when asked as argv
    run_as          TEXT,
    env             TEXT,           -- JSON object, when asked with an environment
    timeout_secs    INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'lapsed', 'expired')),
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    decided_by      TEXT REFERENCES users(id),
    decided_at      INTEGER,
    reason          TEXT,
    exec_job        TEXT
);
CREATE INDEX command_approvals_status ON command_approvals (workspace_id, status, expires_at);
CREATE INDEX command_approvals_session ON command_approvals (workspace_id, work_session_id);
