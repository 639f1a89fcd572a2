-- expect: unverifiable-statement
CALL recompute_scores();
