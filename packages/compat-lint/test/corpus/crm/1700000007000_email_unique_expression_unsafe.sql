-- expect: unique-on-existing-column
CREATE UNIQUE INDEX CONCURRENTLY contacts_email_lower_key ON contacts (lower(email)) WHERE email IS NOT NULL;
