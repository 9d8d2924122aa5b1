CREATE TABLE slots (id bigint PRIMARY KEY, during tstzrange NOT NULL);
ALTER TABLE slots ADD CONSTRAINT slots_no_overlap EXCLUDE USING gist (during WITH &&);
