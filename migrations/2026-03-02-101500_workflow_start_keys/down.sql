DROP TABLE workflow_start_keys;
