-- expect: foreign-key-on-existing-column
ALTER TABLE app.memberships ADD CONSTRAINT memberships_role_fk FOREIGN KEY (role) REFERENCES app.roles (name) NOT VALID;
