-- Skip when nothing is new (docs/operate.md): what a layer run read, fingerprinted at its start,
-- and whether it skipped the build because that matched the layer's last successful run.
alter table ops.dbt_invocations add column if not exists input_fingerprint text;
alter table ops.dbt_invocations add column if not exists nothing_new boolean not null default false;
