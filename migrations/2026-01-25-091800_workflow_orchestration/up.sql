-- Durable execution: every execution (conversation, workflow, delegated task, parallel
-- branch, event handler) is a row of workflow_executions; its journal holds what it did.

CREATE TABLE workflow_executions (
    id UUID PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('conversation', 'workflow', 'task', 'branch', 'handler')),
    bot TEXT NOT NULL,
    script TEXT NOT NULL,
    script_hash TEXT NOT NULL REFERENCES scripts (hash),
    entry INT NOT NULL DEFAULT 0,
    name TEXT,
    status TEXT NOT NULL CHECK (status IN ('running', 'waiting', 'completed', 'failed', 'cancelled')),
    waiting_for JSONB,
    wake_at TIMESTAMPTZ,
    -- Set when a wake-up arrives while the execution is still running: its suspend
    -- then turns into "run again" instead of "wait".
    wake_pending BOOLEAN NOT NULL DEFAULT FALSE,
    input JSONB NOT NULL DEFAULT '{}',
    variables JSONB NOT NULL DEFAULT '{}',
    result JSONB,
    error TEXT,
    parent_id UUID REFERENCES workflow_executions (id) ON DELETE CASCADE,
    parent_key TEXT,
    conversation_id UUID,
    owner TEXT,
    lease_until TIMESTAMPTZ,
    runs INT NOT NULL DEFAULT 0,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at TIMESTAMPTZ
);
-- Hot paths: due timers, runnable executions without a live lease, children of a parent.
CREATE INDEX executions_due ON workflow_executions (wake_at) WHERE status = 'waiting' AND wake_at IS NOT NULL;
CREATE INDEX executions_runnable ON workflow_executions (lease_until NULLS FIRST) WHERE status = 'running';
CREATE INDEX executions_by_parent ON workflow_executions (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX executions_by_kind ON workflow_executions (kind, status, bot, created_at DESC);

CREATE TABLE journal (
    execution_id UUID NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (execution_id, key)
);

-- The STEP view of a workflow (derived from its journal as it runs).
CREATE TABLE workflow_steps (
    execution_id UUID NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    label TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    result JSONB,
    error TEXT,
    attempts INT NOT NULL DEFAULT 1,
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    seq BIGSERIAL,
    PRIMARY KEY (execution_id, key)
);

-- Conversation transcripts: user messages and TALKs.
CREATE TABLE messages (
    id BIGSERIAL PRIMARY KEY,
    conversation_id UUID NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    execution_id UUID NOT NULL,
    direction TEXT NOT NULL CHECK (direction IN ('user', 'bot')),
    text TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX messages_by_conversation ON messages (conversation_id, id);

CREATE TABLE conversation_context (
    conversation_id UUID NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    value JSONB NOT NULL,
    PRIMARY KEY (conversation_id, key)
);

CREATE TABLE workflow_events (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    payload JSONB NOT NULL DEFAULT 'null',
    source_bot TEXT,
    source_execution UUID,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX events_by_name ON workflow_events (name, id);

-- Executions suspended in WAIT FOR EVENT: any matching event above the cursor wakes them.
CREATE TABLE event_waits (
    execution_id UUID PRIMARY KEY REFERENCES workflow_executions (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    names TEXT[] NOT NULL,
    cursor BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX event_waits_by_name ON event_waits USING GIN (names);

-- ON EVENT handlers of the loaded packages, and which handler ran for which event.
CREATE TABLE event_handlers (
    bot TEXT NOT NULL,
    script TEXT NOT NULL,
    entry INT NOT NULL,
    event TEXT NOT NULL,
    script_hash TEXT NOT NULL REFERENCES scripts (hash),
    PRIMARY KEY (bot, script, entry)
);
CREATE INDEX event_handlers_by_event ON event_handlers (event);

CREATE TABLE event_deliveries (
    event_id BIGINT NOT NULL REFERENCES workflow_events (id) ON DELETE CASCADE,
    bot TEXT NOT NULL,
    script TEXT NOT NULL,
    entry INT NOT NULL,
    execution_id UUID NOT NULL,
    PRIMARY KEY (event_id, bot, script, entry)
);

CREATE TABLE approvals (
    id UUID PRIMARY KEY,
    execution_id UUID NOT NULL REFERENCES workflow_executions (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    step TEXT,
    approver TEXT NOT NULL,
    token TEXT NOT NULL,
    message TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'timeout', 'escalated', 'cancelled')),
    timeout_secs DOUBLE PRECISION,
    deadline TIMESTAMPTZ,
    escalate_to JSONB NOT NULL DEFAULT '[]',
    decided_by TEXT,
    comment TEXT,
    decided_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX approvals_due ON approvals (deadline) WHERE status = 'pending';
CREATE INDEX approvals_by_execution ON approvals (execution_id);

-- Cross-bot memory: a bot's value of a key shared with one bot or with all ('*').
CREATE TABLE bot_shared_memory (
    source_bot TEXT NOT NULL,
    target_bot TEXT NOT NULL,
    key TEXT NOT NULL,
    value JSONB NOT NULL,
    version BIGINT NOT NULL,
    shared_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (source_bot, target_bot, key)
);
CREATE INDEX shared_memory_by_target ON bot_shared_memory (target_bot, key);
