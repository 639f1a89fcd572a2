-- expect: drop-column, add-required-column
ALTER TABLE "user" DROP COLUMN "firstName";
ALTER TABLE "user" ADD "firstName" character varying(100) NOT NULL;
