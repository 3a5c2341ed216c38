-- What `dbt retry` needs to resume a failed run in another pod (pods share no disk): the failed
-- run's run_results.json, gzip-compressed, kept only for runs that did not succeed.
create table if not exists ops.dbt_run_results (
    invocation_id  uuid primary key references ops.dbt_invocations (invocation_id) on delete cascade,
    run_results    bytea not null
);

-- The failed invocation a resumed run retried (dbt retry), null for a full build.
alter table ops.dbt_invocations add column if not exists retry_of uuid;

create index if not exists dbt_invocations_workflow_uid_idx
    on ops.dbt_invocations (workflow_uid, layer, finished_at desc) where workflow_uid is not null;
