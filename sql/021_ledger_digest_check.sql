-- The archive ledger's digest check, same meaning, cheaper (issue 22 items 4–5). The check of 011,
-- `manifest_digest ~ '^[0-9a-f]{64}$'`, costs about 25 µs a row in PostgreSQL's regex engine (a
-- bounded repetition of 64 is expanded into 64 states), which made writing a million ledger rows
-- (one archived month) take longer than every other step of the removal together. Exactly 64
-- characters, none outside [0-9a-f], is what it said; checked as a length and a negated class it
-- costs about a tenth (test/journal/archivePartitions.test.ts checks it still refuses what 011 did).
ALTER TABLE __SCHEMA__.archive_ledger DROP CONSTRAINT archive_ledger_manifest_digest_check;
ALTER TABLE __SCHEMA__.archive_ledger ADD CONSTRAINT archive_ledger_manifest_digest_check
  CHECK (length(manifest_digest) = 64 AND manifest_digest !~ '[^0-9a-f]');
