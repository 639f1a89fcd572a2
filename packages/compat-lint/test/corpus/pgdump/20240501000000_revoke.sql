-- expect: revoke-privilege
REVOKE SELECT ON TABLE app.customers FROM app_reader;
