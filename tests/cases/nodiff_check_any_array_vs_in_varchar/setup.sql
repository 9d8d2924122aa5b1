CREATE TABLE t (
    id   bigint PRIMARY KEY,
    code varchar(10),
    CONSTRAINT t_code_check CHECK (code = ANY (ARRAY['a', 'b']))
);
