-- DropIndex
DROP INDEX CONCURRENTLY IF EXISTS "traces_updated_at_idx";
