-- Groups on the machine that accounts created there on first use join (a JSON list of names;
-- the agent refuses administrative groups whatever is listed).
ALTER TABLE servers ADD COLUMN provision_groups TEXT NOT NULL DEFAULT '[]';
