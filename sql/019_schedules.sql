-- Schedules (docs/WORKER.md "Schedules", `orbit schedule add|list|remove`, issue 19 item 3).
--
-- schedules: a pipeline to queue on a cron expression (croner syntax, 5 or 6 fields: seconds
-- first when 6) read in a time zone, with the metadata of each run and what to do with ticks
-- missed while no worker ran (catch_up: 'skip' them, or run the 'last' one once).
CREATE TABLE __SCHEMA__.schedules (
  id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  pipeline_id text        NOT NULL,
  cron        text        NOT NULL,
  timezone    text        NOT NULL DEFAULT 'UTC',
  metadata    jsonb       NOT NULL DEFAULT '{}'::jsonb,
  catch_up    text        NOT NULL DEFAULT 'skip' CHECK (catch_up IN ('skip', 'last')),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- schedule_ticks: the ticks whose run was queued, one row per tick. The primary key is what makes
-- a tick start exactly one run however many workers reach it: only the worker whose INSERT … ON
-- CONFLICT DO NOTHING inserted the row queues the run. The latest row of a schedule is where a
-- worker that starts continues from.
CREATE TABLE __SCHEMA__.schedule_ticks (
  schedule_id bigint      NOT NULL REFERENCES __SCHEMA__.schedules (id) ON DELETE CASCADE,
  tick_at     timestamptz NOT NULL,
  run_id      text        NOT NULL,
  PRIMARY KEY (schedule_id, tick_at)
);
