-- expect: clean
ALTER TYPE "public"."role" ADD VALUE 'owner';
