-- The rest of the workspace settings (the first two live on workspaces since 0001).
ALTER TABLE workspaces ADD COLUMN require_mfa_enrolment INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN require_mfa_for_root INTEGER NOT NULL DEFAULT 1;
ALTER TABLE workspaces ADD COLUMN sudo_mfa_waiver INTEGER NOT NULL DEFAULT 0;
ALTER TABLE workspaces ADD COLUMN cli_signin_ttl_secs INTEGER NOT NULL DEFAULT 43200;
ALTER TABLE workspaces ADD COLUMN self_extend_secs INTEGER NOT NULL DEFAULT 0;

-- Every extension of a work session by a non-superuser: a request waiting for an approver, or
-- one granted at once within the self-extension allowance (self_granted = 1, decided_by NULL),
-- whose amounts add up against that allowance.
CREATE TABLE extension_requests (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    work_session_id TEXT NOT NULL REFERENCES work_sessions(id) ON DELETE CASCADE,
    requested_by    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    duration_secs   INTEGER,
    expires_at      INTEGER,
    amount_secs     INTEGER NOT NULL,
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'approved', 'rejected', 'cancelled', 'lapsed')),
    self_granted    INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    decided_by      TEXT REFERENCES users(id) ON DELETE SET NULL,
    decided_at      INTEGER,
    reason          TEXT
);
-- At most one request waits per session: asking again while one waits is a conflict.
CREATE UNIQUE INDEX extension_requests_one_pending
    ON extension_requests (work_session_id) WHERE status = 'pending';
CREATE INDEX extension_requests_queue ON extension_requests (workspace_id, status, created_at);
