CREATE TABLE t (id bigint PRIMARY KEY, qty integer, updated_at timestamptz);
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$begin new.updated_at := now(); return new; end$$;
CREATE TRIGGER t_touch BEFORE INSERT OR UPDATE OF qty ON t FOR EACH ROW WHEN (NEW.qty > 0) EXECUTE FUNCTION touch();
