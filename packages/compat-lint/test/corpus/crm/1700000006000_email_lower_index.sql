-- expect: clean
CREATE INDEX CONCURRENTLY contacts_email_lower ON contacts (lower(email));
