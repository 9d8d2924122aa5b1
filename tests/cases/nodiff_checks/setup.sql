CREATE TABLE t (
    id        bigint PRIMARY KEY,
    status    varchar(10) CHECK (status IN ('a','b')),
    kind      text CHECK (kind IN ('x','y')),
    qty       integer CHECK (qty BETWEEN 1 AND 10),
    price     numeric CHECK (price > -1),
    email     text CHECK (email ~* '^.+@.+$'),
    code      varchar(3) CHECK (length(code) = 3),
    starts_at timestamptz,
    ends_at   timestamptz,
    CONSTRAINT t_range_check CHECK (starts_at < ends_at OR ends_at IS NULL),
    CONSTRAINT t_not_both CHECK (NOT (qty IS NULL AND price IS NULL))
);
