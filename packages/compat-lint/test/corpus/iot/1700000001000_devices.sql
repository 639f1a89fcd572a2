-- expect: clean
CREATE TABLE devices (
  id uuid PRIMARY KEY,
  serial_no varchar(40) NOT NULL,
  firmware varchar(20),
  battery smallint,
  registered_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE readings (
  device_id uuid NOT NULL,
  at timestamptz NOT NULL,
  value double precision NOT NULL,
  unit text NOT NULL DEFAULT 'C'
);
CREATE INDEX readings_device_at ON readings (device_id, at);
