-- expect: rename-table
ALTER TABLE "räume" RENAME TO rooms;
