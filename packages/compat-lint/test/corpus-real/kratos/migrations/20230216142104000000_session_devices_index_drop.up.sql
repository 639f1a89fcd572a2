DROP INDEX IF EXISTS session_devices.unique_session_device;
