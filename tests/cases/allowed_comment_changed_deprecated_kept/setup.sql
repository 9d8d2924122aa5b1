CREATE TABLE t (id bigint PRIMARY KEY, fax text, notes text);
COMMENT ON TABLE t IS 'old comment';
COMMENT ON COLUMN t.notes IS 'old';
