-- expect: clean
ALTER TYPE subscription_status ADD VALUE 'paused';
