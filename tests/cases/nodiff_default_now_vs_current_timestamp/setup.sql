CREATE TABLE t (
    id         bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz DEFAULT CURRENT_TIMESTAMP
);
