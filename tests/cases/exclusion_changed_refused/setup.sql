CREATE TABLE slots (id bigint PRIMARY KEY, during tstzrange NOT NULL, active boolean NOT NULL DEFAULT true);
ALTER TABLE slots ADD CONSTRAINT slots_no_overlap EXCLUDE USING gist (during WITH &&);
