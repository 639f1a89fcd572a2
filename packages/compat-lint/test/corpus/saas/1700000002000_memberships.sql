-- expect: clean
-- Up Migration
CREATE TABLE app.memberships (
  tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
  user_email text NOT NULL,
  role text NOT NULL DEFAULT 'member' CHECK (role IN ('owner', 'admin', 'member')),
  PRIMARY KEY (tenant_id, user_email)
);
