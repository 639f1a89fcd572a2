-- expect: foreign-key-on-existing-column
ALTER TABLE transfers
  ADD CONSTRAINT transfers_from_fk FOREIGN KEY (from_account) REFERENCES accounts (id) NOT VALID,
  ADD CONSTRAINT transfers_to_fk FOREIGN KEY (to_account) REFERENCES accounts (id) NOT VALID;
