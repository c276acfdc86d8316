-- The searchable text of each terminal recording: what was typed and what was shown, with the
-- terminal's escape sequences taken out, bounded per recording (the head and the tail of a long
-- one). `folded` is both, lowercased, so a case-insensitive substring search is a plain `LIKE`
-- on it on SQLite and PostgreSQL alike. A plain table and `LIKE` rather than a full-text index
-- (SQLite's FTS5 has no PostgreSQL twin): at one row of at most a few hundred KiB per terminal,
-- a scan stays fast at the scale one gateway records.

CREATE TABLE websh_text (
    websh_id     TEXT PRIMARY KEY REFERENCES websh_sessions(id),
    workspace_id TEXT NOT NULL REFERENCES workspaces(id),
    typed        TEXT NOT NULL,
    shown        TEXT NOT NULL,
    folded       TEXT NOT NULL,
    -- 1 when the middle of a long recording was left out.
    truncated    INTEGER NOT NULL,
    -- Size of the asciicast file when the text was taken from it.
    size_bytes   INTEGER NOT NULL,
    indexed_at   INTEGER NOT NULL
);

-- The recordings list: newest first within a workspace.
CREATE INDEX websh_sessions_created ON websh_sessions (workspace_id, created_at);
