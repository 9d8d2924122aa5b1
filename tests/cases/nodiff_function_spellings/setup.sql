CREATE FUNCTION add_one(a integer, b integer DEFAULT 1) RETURNS integer LANGUAGE sql IMMUTABLE STRICT AS $$select a + b$$;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE FUNCTION pairs(n int) RETURNS TABLE(i integer, label text) LANGUAGE sql STABLE AS $$SELECT g, 'x' || g FROM generate_series(1, n) g$$;
