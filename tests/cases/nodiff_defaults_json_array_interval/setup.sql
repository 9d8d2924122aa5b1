CREATE TABLE t (
    id      bigint PRIMARY KEY,
    meta    jsonb DEFAULT '{}'::jsonb,
    meta2   jsonb NOT NULL DEFAULT '{}',
    list    jsonb DEFAULT '[]'::jsonb,
    tags    text[] DEFAULT '{}'::text[],
    tags2   text[] DEFAULT ARRAY[]::text[],
    tags3   text[] DEFAULT ARRAY['a', 'b'],
    nums    integer[] DEFAULT '{1,2}',
    ttl     interval DEFAULT '1 day',
    ttl2    interval DEFAULT interval '2 hours',
    expires timestamptz DEFAULT now() + interval '30 days'
);
