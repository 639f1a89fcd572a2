-- expect: drop-function
DROP TRIGGER messages_touch ON messages;
DROP FUNCTION messages_touch();
