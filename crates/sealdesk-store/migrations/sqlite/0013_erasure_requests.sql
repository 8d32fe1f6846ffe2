-- A visitor's request to delete their conversation (GDPR art. 17): the conversation is
-- closed and the next retention sweep deletes it, whatever the tenant's retention period.
ALTER TABLE conversations ADD COLUMN erasure_requested_at_ms INTEGER;
