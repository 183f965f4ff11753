-- SET SCHEDULE: one row per scheduled script, kept in step with the bots' packages at
-- each load, and one row per tick that ran. A tick is claimed by moving next_at on in
-- the same transaction that inserts its execution; the key of schedule_runs makes a
-- second execution of the same tick impossible, whichever instance tries.
CREATE TABLE schedules (
    bot TEXT NOT NULL,
    script TEXT NOT NULL,
    cron TEXT NOT NULL,
    next_at TIMESTAMPTZ NOT NULL,
    last_tick TIMESTAMPTZ,
    last_run_at TIMESTAMPTZ,
    last_execution_id UUID,
    -- Why the last tick started nothing (the script no longer compiles, …).
    last_error TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (bot, script)
);
CREATE INDEX schedules_due ON schedules (next_at);

CREATE TABLE schedule_runs (
    bot TEXT NOT NULL,
    script TEXT NOT NULL,
    tick TIMESTAMPTZ NOT NULL,
    -- Checked at commit: the run is recorded before its execution is inserted, so that a
    -- tick already run is found before anything is written for it.
    execution_id UUID NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE
        DEFERRABLE INITIALLY DEFERRED,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (bot, script, tick)
);
