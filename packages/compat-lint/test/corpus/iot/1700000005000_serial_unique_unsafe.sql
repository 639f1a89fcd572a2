-- expect: unique-on-existing-column
CREATE UNIQUE INDEX devices_serial_no_key ON devices (serial_no);
