-- expect: change-default
ALTER TABLE readings ALTER COLUMN unit SET DEFAULT 'K';
