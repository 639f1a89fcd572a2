-- expect: enable-row-level-security
-- Only rows of the session's account: old code does not set app.account_id and sees nothing.
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
CREATE POLICY documents_own ON documents USING (account_id = current_setting('app.account_id', true)::bigint);
