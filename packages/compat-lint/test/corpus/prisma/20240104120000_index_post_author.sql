-- expect: clean
-- CreateIndex
CREATE INDEX "Post_authorId_idx" ON "public"."Post"("authorId");
