-- expect: clean
CREATE TABLE app.audit_log (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  action text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_tenant_at ON app.audit_log (tenant_id, at DESC);
ALTER TABLE app.audit_log ADD CONSTRAINT audit_log_tenant_fk FOREIGN KEY (tenant_id) REFERENCES app.tenants (id);
