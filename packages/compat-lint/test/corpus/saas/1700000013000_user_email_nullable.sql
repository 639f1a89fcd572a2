-- expect: drop-not-null
ALTER TABLE app.memberships ALTER COLUMN role DROP NOT NULL;
