-- Automation that cannot escape.
--
-- Service accounts are users of kind 'service': non-human principals with no usable password,
-- created by superusers, acting only through their own tokens.
ALTER TABLE users ADD COLUMN kind TEXT NOT NULL DEFAULT 'person' CHECK (kind IN ('person', 'service'));
ALTER TABLE users ADD COLUMN description TEXT;

-- A token's ACL rules, one row per rule; the columns used depend on `kind`. Granted and removed
-- only by superusers; they go with the token.
CREATE TABLE token_acl_rules (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    token_id     TEXT NOT NULL REFERENCES api_tokens(id) ON DELETE CASCADE,
    kind         TEXT NOT NULL CHECK (kind IN ('servers', 'commands', 'files', 'tunnels')),
    pattern      TEXT,     -- servers: a server-name pattern; commands: the command pattern; files: the normalised path
    action       TEXT CHECK (action IS NULL OR action IN ('upload', 'download', 'any')),
    run_as       TEXT,     -- commands and files: NULL = the principal's own account
    port         INTEGER,  -- tunnels
    host         TEXT,     -- tunnels
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL
);
CREATE INDEX token_acl_rules_token ON token_acl_rules (workspace_id, token_id, kind);

-- An exec asked as argv (no shell) keeps it, as JSON.
ALTER TABLE exec_jobs ADD COLUMN argv TEXT;
