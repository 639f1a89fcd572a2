-- expect: incompatible-type-change
ALTER TABLE "posts" ALTER COLUMN "title" SET DATA TYPE varchar(100);
