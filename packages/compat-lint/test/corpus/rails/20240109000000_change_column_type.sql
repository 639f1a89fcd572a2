-- expect: incompatible-type-change
ALTER TABLE "users" ALTER COLUMN "email" TYPE character varying(100);
