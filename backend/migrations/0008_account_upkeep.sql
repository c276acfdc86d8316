-- Account upkeep: a staff password reset leaves the person a one-time password that they must
-- replace before doing anything else, and TOTP recovery codes, stored as SHA-256 hashes of
-- 90-bit random codes and each spent once.
ALTER TABLE users ADD COLUMN must_change_password INTEGER NOT NULL DEFAULT 0;

CREATE TABLE recovery_codes (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash    TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    used_at      INTEGER,
    PRIMARY KEY (workspace_id, user_id, code_hash)
);
