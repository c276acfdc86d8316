-- A disabled person cannot sign in or use a token; their sign-ins are deleted when it happens.
ALTER TABLE users ADD COLUMN disabled_at INTEGER;
