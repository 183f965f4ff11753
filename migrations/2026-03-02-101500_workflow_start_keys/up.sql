-- Idempotent starts (`Idempotency-Key` on POST /api/workflows): each key, the hash of the
-- request it first came with, and the id of the workflow it starts. The key is written
-- (and committed) with the id the workflow will have before the workflow is created, so
-- a retry after any failure or crash finds that same id; the primary key makes racing
-- duplicates queue behind one another (a row lock held while the first one starts).
CREATE TABLE workflow_start_keys (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    execution_id UUID NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
