CREATE TYPE st AS ENUM ('new', 'active', 'gone');
CREATE TABLE t (
    id         bigint PRIMARY KEY,
    name       text,
    code       varchar(10),
    status     st NOT NULL DEFAULT 'new',
    n          integer,
    m          integer,
    created_at timestamptz,
    day        date DEFAULT '2020-01-01',
    local_at   timestamp DEFAULT (now() AT TIME ZONE 'utc'),
    data       jsonb,
    CONSTRAINT c2 CHECK (name LIKE 'a%' OR name ILIKE 'B%'),
    CONSTRAINT c3 CHECK (n IS DISTINCT FROM m),
    CONSTRAINT c4 CHECK (COALESCE(n, 0) >= 0),
    CONSTRAINT c5 CHECK (CASE WHEN n > 0 THEN m IS NOT NULL ELSE true END),
    CONSTRAINT c6 CHECK (code NOT IN ('x', 'y')),
    CONSTRAINT c7 CHECK (created_at > '2020-01-01'::date),
    CONSTRAINT c8 CHECK (status <> 'gone' OR n IS NULL),
    CONSTRAINT c9 CHECK (char_length(name) <= 100 AND name <> ''),
    CONSTRAINT c10 CHECK (n IN (1, 2, 3)),
    CONSTRAINT c11 CHECK (n::numeric / 2 > 0.5)
);
CREATE INDEX i1 ON t ((data->>'kind'));
CREATE INDEX i2 ON t (COALESCE(n, 0));
CREATE INDEX i3 ON t (id) WHERE status IN ('new', 'active');
CREATE INDEX i4 ON t (lower(name)) WHERE status <> 'gone';
CREATE INDEX i5 ON t (date_trunc('day', local_at));
CREATE UNIQUE INDEX i6 ON t (code) WHERE code IS NOT NULL AND n > -1;
