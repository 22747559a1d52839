-- A registered worker's process identity (boot id, pid namespace, start time), as the lease row
-- has it (006): an idle worker holds no lease, so without it a worker killed with kill -9 while
-- idle was listed as live until its registration ran out. With it, listWorkers proves it gone
-- at once on its own machine. Null for rows written before this migration and where /proc is
-- not available (then only alive_until decides).
ALTER TABLE __SCHEMA__.worker_registry ADD COLUMN identity text;
