-- expect: rename-enum-value
-- 'paused' was added by an earlier, deployed migration: the previous generation writes it.
ALTER TYPE subscription_status RENAME VALUE 'paused' TO 'on_hold';
