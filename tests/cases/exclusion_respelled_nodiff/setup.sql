CREATE TABLE slots (id bigint PRIMARY KEY, during tstzrange NOT NULL, name text NOT NULL, active boolean NOT NULL DEFAULT true);
ALTER TABLE slots ADD CONSTRAINT slots_no_overlap EXCLUDE USING gist (during WITH &&) WHERE (active AND id > 0);
ALTER TABLE slots ADD CONSTRAINT slots_name EXCLUDE USING hash ((lower(name)) WITH =);
