/*
  Warnings:

  - You are about to drop the column `usage` on the `observations` table. All the data in the column will be lost.

*/
-- AlterTable
ALTER TABLE "observations" DROP COLUMN "usage";
