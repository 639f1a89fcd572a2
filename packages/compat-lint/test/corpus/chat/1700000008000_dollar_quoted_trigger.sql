-- expect: clean
CREATE FUNCTION messages_touch() RETURNS trigger LANGUAGE plpgsql AS $body$
BEGIN
  NEW.edited_at := now(); -- ALTER TABLE messages DROP COLUMN body; is just text here
  RETURN NEW;
END
$body$;
CREATE TRIGGER messages_touch BEFORE UPDATE ON messages FOR EACH ROW EXECUTE FUNCTION messages_touch();
