CREATE TABLE t (id bigint PRIMARY KEY, name text, legacy_fax text);
CREATE INDEX t_legacy_fax_idx ON t (legacy_fax);
CREATE TABLE old_stuff (id integer);
