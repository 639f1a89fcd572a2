-- expect: change-default
-- legacy_accounts predates this migrations folder, so its current default is unknown:
-- unknown means old, and old INSERTs that omit tier may get a different value.
ALTER TABLE legacy_accounts ALTER COLUMN tier SET DEFAULT 'gold';
