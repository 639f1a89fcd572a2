-- AlterTable
ALTER TABLE "traces" ADD COLUMN     "public" BOOLEAN NOT NULL DEFAULT false;
