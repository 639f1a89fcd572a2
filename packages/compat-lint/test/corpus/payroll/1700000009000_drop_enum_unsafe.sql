-- expect: drop-type
DROP TYPE pay_frequency CASCADE;
