-- expect: drop-column
-- Ein Kommentar mit Umlauten: äöü. Then the unsafe drop:
ALTER TABLE "räume" DROP COLUMN "説明";
