-- expect: clean
-- Built-in functions are not migrations' functions: nothing hidden here.
SELECT set_config('lock_timeout', '5s', false);
SELECT pg_advisory_xact_lock(42);
