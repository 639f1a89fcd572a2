-- expect: detach-partition
ALTER TABLE audit_events DETACH PARTITION audit_events_2025;
