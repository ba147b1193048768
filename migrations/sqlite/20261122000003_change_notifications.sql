-- PostgreSQL tells listeners about changes with NOTIFY triggers in this
-- version. SQLite has no cross-connection notification; the embedded
-- backend runs in one process and notifies listeners in memory after each
-- committed transaction that changed entities or definitions
-- (store/src/sqlite/changes.rs). This migration exists only so that both
-- folders share version numbers.
SELECT 1;
