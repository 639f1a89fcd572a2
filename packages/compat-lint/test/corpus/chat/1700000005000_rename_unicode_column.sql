-- expect: rename-column
ALTER TABLE "räume" RENAME COLUMN "naïve_name" TO name;
