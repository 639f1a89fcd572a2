-- expect: clean
-- CHECKs over new columns that accept the NULL old code leaves there.
ALTER TABLE customers ADD COLUMN tier text CHECK (tier IN ('basic', 'pro'));
ALTER TABLE subscriptions ADD COLUMN seats int,
  ADD CONSTRAINT subscriptions_seats_positive CHECK (seats IS NULL OR seats > 0) NOT VALID;
ALTER TABLE subscriptions ADD COLUMN trial_days int,
  ADD CONSTRAINT subscriptions_trial_days CHECK (trial_days IS DISTINCT FROM 0) NOT VALID;
