-- expect: clean
CREATE INDEX "IDX_4494006ff358f754d07df5ccc8" ON "photo" ("userId");
