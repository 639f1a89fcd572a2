-- expect: drop-function
ALTER FUNCTION next_invoice_number() RENAME TO allocate_invoice_number;
