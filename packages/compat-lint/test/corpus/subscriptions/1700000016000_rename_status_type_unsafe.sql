-- expect: drop-type
-- Old code casts to the type by name: INSERT ... VALUES ($1::subscription_status).
ALTER TYPE subscription_status RENAME TO subscription_state;
