-- TCP tunnels. A server entry's `tunnel_allow` is a JSON list of `host:port` rules (`*` for any
-- port); NULL means staff never set it, which allows `127.0.0.1:*` only.
ALTER TABLE servers ADD COLUMN tunnel_allow TEXT;

-- One tunnel: a target on a server, opened by its owner inside a work session (or with an API
-- token), carried by the owner's client stream. It lives until it is ended (`ended_at`); its
-- connections are audited one by one, and their totals are kept here when it ends.
CREATE TABLE tunnels (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces(id),
    owner_id        TEXT NOT NULL REFERENCES users(id),
    token_id        TEXT,
    work_session_id TEXT REFERENCES work_sessions(id),
    server_id       TEXT NOT NULL REFERENCES servers(id),
    remote_host     TEXT NOT NULL,
    remote_port     INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    ended_at        INTEGER,
    end_reason      TEXT,
    connections     INTEGER NOT NULL DEFAULT 0,
    bytes_up        INTEGER NOT NULL DEFAULT 0,
    bytes_down      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX tunnels_live ON tunnels (workspace_id, ended_at);
