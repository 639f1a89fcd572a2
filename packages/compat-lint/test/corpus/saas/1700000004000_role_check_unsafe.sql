-- expect: check-on-existing-column
ALTER TABLE app.memberships ADD CONSTRAINT memberships_email_lower CHECK (user_email = lower(user_email)) NOT VALID;
