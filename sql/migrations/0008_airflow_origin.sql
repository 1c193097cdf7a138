-- Where a batch and each stage run came from when a scheduler ran them: the Airflow DAG,
-- its run, and (for a stage) the task and map index, so the dashboard can link a batch or
-- a stage to its DAG run and task log. Empty for the standalone CLI.
ALTER TABLE batch ADD COLUMN dag_id text;
ALTER TABLE batch ADD COLUMN dag_run_id text;
ALTER TABLE run ADD COLUMN dag_id text;
ALTER TABLE run ADD COLUMN dag_run_id text;
ALTER TABLE run ADD COLUMN task_id text;
ALTER TABLE run ADD COLUMN map_index integer;
CREATE INDEX run_dag_run_idx ON run (dag_id, dag_run_id) WHERE dag_run_id IS NOT NULL;
