-- Run history that dashboards, alerts and on-call queries read (docs/operate.md).
create table if not exists ops.dbt_invocations (
    invocation_id      uuid primary key,
    dbt_invocation_id  text,
    layer              text not null,
    selection          text not null,
    select_arg         text,
    exclude_arg        text,
    full_refresh       boolean not null default false,
    vars               jsonb not null default '{}'::jsonb,
    started_at         timestamptz not null,
    finished_at        timestamptz not null,
    duration_seconds   double precision not null,
    lock_wait_seconds  double precision not null default 0,
    exit_code          integer not null,
    success            boolean not null,
    error              text,
    nodes_total        integer not null default 0,
    nodes_failed       integer not null default 0,
    tests_failed       integer not null default 0,
    workflow_name      text,
    workflow_uid       text,
    pod_name           text,
    pod_namespace      text,
    recorded_at        timestamptz not null default now()
);

create index if not exists dbt_invocations_layer_finished_idx
    on ops.dbt_invocations (layer, finished_at desc);

create table if not exists ops.dbt_node_results (
    invocation_id      uuid not null references ops.dbt_invocations (invocation_id) on delete cascade,
    unique_id          text not null,
    node_name          text not null,
    resource_type      text not null,
    status             text not null,
    started_at         timestamptz,
    finished_at        timestamptz,
    duration_seconds   double precision not null,
    rows_affected      bigint,
    failures           bigint,
    message            text,
    primary key (invocation_id, unique_id)
);

create index if not exists dbt_node_results_unique_id_idx
    on ops.dbt_node_results (unique_id, finished_at desc);
create index if not exists dbt_node_results_status_idx
    on ops.dbt_node_results (status) where status in ('error', 'fail', 'runtime error');
