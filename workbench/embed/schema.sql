-- Platinum's vector store, created by `workbench embed` (idempotent; needs pgvector), in its own
-- schema platinum_vectors beside dbt's platinum views (texts.py says why).
-- One row per (model_id, text_hash): a text is embedded once per model, and a row's vector has
-- exactly the dimensions its model was registered with (foreign key + check), so two models'
-- vectors are never mixed. Each model gets its own partial HNSW index (cosine), created by
-- `workbench embed` once the model has vectors (store.py).
create extension if not exists vector;
create schema if not exists platinum_vectors;

create table if not exists platinum_vectors.embedding_models (
    model_id text primary key,
    provider text not null,
    dimensions integer not null check (dimensions between 1 and 16000),
    registered_at timestamptz not null default now(),
    last_embedded_at timestamptz,
    unique (model_id, dimensions)
);

create table if not exists platinum_vectors.product_vectors (
    model_id text not null,
    text_hash text not null,
    dimensions integer not null,
    embedding vector not null check (vector_dims(embedding) = dimensions),
    embedded_at timestamptz not null default now(),
    primary key (model_id, text_hash),
    foreign key (model_id, dimensions) references platinum_vectors.embedding_models (model_id, dimensions)
);

create table if not exists platinum_vectors.transaction_vectors (
    like platinum_vectors.product_vectors including defaults including constraints including indexes
);
do $fk$
begin
    alter table platinum_vectors.transaction_vectors add constraint transaction_vectors_model_fkey
        foreign key (model_id, dimensions)
        references platinum_vectors.embedding_models (model_id, dimensions);
exception when duplicate_object then null;
end
$fk$;

-- RAG callers: the k catalog products nearest to a query vector (cosine similarity, 1 = same
-- direction). The model is the one of the vector's dimensions embedded last, unless named.
create or replace function platinum_vectors.match_products(
    query_embedding vector, match_count integer default 10, model text default null
)
returns table (
    product_id text, product_name text, brand text, category text, is_active boolean,
    score real
)
language plpgsql stable
as $match$
declare
    dims integer := vector_dims(query_embedding);
    chosen text := model;
begin
    if chosen is null then
        select m.model_id into chosen from platinum_vectors.embedding_models as m
        where m.dimensions = dims
        order by m.last_embedded_at desc nulls last, m.model_id
        limit 1;
    end if;
    -- The dimension and model are literals in the statement, so the planner can use the
    -- model's partial expression index (embedding::vector(n)) with vector_cosine_ops.
    return query execute format(
        'select p.product_id, p.product_name, p.brand, p.category, p.is_active,'
        ' (1 - (v.embedding::vector(%1$s) <=> $1::vector(%1$s)))::real as score'
        ' from (select text_hash, embedding from platinum_vectors.product_vectors'
        '       where model_id = %2$L'
        '       order by embedding::vector(%1$s) <=> $1::vector(%1$s) limit $2) as v'
        ' inner join platinum.platinum_product_embeddings as p on p.text_hash = v.text_hash'
        ' order by score desc, p.product_id limit $2',
        dims, chosen
    ) using query_embedding, match_count;
end
$match$;
