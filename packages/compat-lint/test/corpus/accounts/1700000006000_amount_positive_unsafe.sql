-- expect: check-on-existing-column
ALTER TABLE transfers ADD CHECK (amount_cents > 0);
