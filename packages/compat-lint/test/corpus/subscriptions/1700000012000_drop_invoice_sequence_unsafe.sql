-- expect: drop-table
-- Invoice numbers now come from the billing service, but old code still calls
-- next_invoice_number(), which calls nextval('invoice_number_seq').
DROP SEQUENCE invoice_number_seq;
