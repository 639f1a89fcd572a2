-- expect: drop-type
DROP DOMAIN money_amount;
