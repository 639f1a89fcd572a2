-- expect: drop-table, drop-view
-- The previous file's SET search_path ended with its session: metered_usage here is public.metered_usage,
-- not the billing table this file creates.
-- CASCADE also drops the usage_records view (1700000024000) that reads it, which old code queries.
CREATE TABLE billing.metered_usage (customer_id bigint NOT NULL, quantity int NOT NULL);
DROP TABLE metered_usage CASCADE;
