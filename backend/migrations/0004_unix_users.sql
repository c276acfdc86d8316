-- Every person runs as their own account on servers. Rows from before carry NULL and read back as
-- the name derived from the username (gatehouse_shared::user::derive_unix_user).
ALTER TABLE users ADD COLUMN unix_user TEXT;

-- Shared server accounts (such as `deploy`) a group's members may run as, on servers matching
-- `pattern`.
CREATE TABLE group_run_as (
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    group_id     TEXT NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
    account      TEXT NOT NULL,
    pattern      TEXT NOT NULL,
    PRIMARY KEY (group_id, account, pattern)
);
