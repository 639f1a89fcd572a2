-- expect: clean
UPDATE accounts SET status_v2 = status::account_status WHERE status_v2 IS NULL;
