-- expect: revoke-privilege
REVOKE DELETE ON documents FROM PUBLIC;
