CREATE TYPE st AS ENUM ('scheduled', 'done');
CREATE TABLE t (
    id         bigint PRIMARY KEY,
    email      text,
    name       varchar(50),
    status     st,
    tenant_id  bigint,
    created_at timestamptz,
    deleted_at timestamptz,
    data       jsonb
);
CREATE UNIQUE INDEX t_email_lower_idx ON t (lower(email));
CREATE INDEX t_name_lower_idx ON t (lower(name));
CREATE INDEX t_upcoming_idx ON t (tenant_id, created_at) WHERE status = 'scheduled';
CREATE INDEX t_created_idx ON t (created_at DESC NULLS LAST);
CREATE INDEX t_tenant_created_idx ON t (tenant_id, created_at DESC);
CREATE INDEX t_created_nf_idx ON t (created_at NULLS FIRST);
CREATE INDEX t_live_idx ON t (tenant_id) WHERE deleted_at IS NULL;
CREATE INDEX t_name_incl_idx ON t USING btree (name) INCLUDE (email);
CREATE INDEX t_data_idx ON t USING gin (data);
CREATE INDEX t_name_in_idx ON t (id) WHERE name IN ('a', 'b');
CREATE INDEX t_email_hash_idx ON t USING hash (email);
