-- expect: foreign-key-on-existing-column
ALTER TABLE readings ADD CONSTRAINT readings_device_fk FOREIGN KEY (device_id) REFERENCES devices (id) NOT VALID;
