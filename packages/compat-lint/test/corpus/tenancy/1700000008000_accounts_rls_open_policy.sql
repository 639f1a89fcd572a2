-- expect: clean
-- The expand step: RLS on, with a policy that admits everything, in the same file.
ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
CREATE POLICY accounts_everyone ON accounts USING (true);
