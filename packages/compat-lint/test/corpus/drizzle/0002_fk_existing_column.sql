-- expect: foreign-key-on-existing-column
ALTER TABLE "comments" ADD COLUMN "author_id" integer;--> statement-breakpoint
DO $$ BEGIN
 ALTER TABLE "posts" ADD CONSTRAINT "posts_id_comments_id_fk" FOREIGN KEY ("id") REFERENCES "public"."comments"("id") ON DELETE no action ON UPDATE no action;
EXCEPTION
 WHEN duplicate_object THEN null;
END $$;
