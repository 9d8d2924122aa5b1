CREATE TABLE t (
    id         bigint PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz DEFAULT CURRENT_TIMESTAMP,
    day        date DEFAULT CURRENT_DATE,
    status     varchar(20) NOT NULL DEFAULT 'pending',
    kind       text DEFAULT 'a',
    n          integer DEFAULT -1,
    x          numeric(5,2) DEFAULT -1.5,
    price      numeric DEFAULT 0,
    ratio      float8 DEFAULT 0.5,
    big        bigint DEFAULT 0,
    flag       boolean DEFAULT true,
    flag2      boolean NOT NULL DEFAULT 'f',
    u          uuid DEFAULT gen_random_uuid()
);
