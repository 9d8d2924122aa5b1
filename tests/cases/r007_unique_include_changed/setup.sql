CREATE TABLE member (id bigint, score integer, CONSTRAINT member_id_key UNIQUE (id));
