-- expect: clean
CREATE TABLE readings_archive (
  device_id uuid NOT NULL,
  at timestamptz NOT NULL,
  value double precision NOT NULL
) PARTITION BY RANGE (at);
CREATE TABLE readings_archive_2024 PARTITION OF readings_archive
  FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
