-- AlterTable
ALTER TABLE "scores" ADD COLUMN     "project_id" TEXT;
