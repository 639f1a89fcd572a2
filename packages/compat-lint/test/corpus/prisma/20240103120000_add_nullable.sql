-- expect: clean
-- AlterTable
ALTER TABLE "public"."Post" ADD COLUMN     "publishedAt" TIMESTAMP(3),
ADD COLUMN     "viewCount" INTEGER NOT NULL DEFAULT 0;

-- AlterEnum
ALTER TYPE "public"."Role" ADD VALUE 'EDITOR';
