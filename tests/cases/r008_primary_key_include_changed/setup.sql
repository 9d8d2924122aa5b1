CREATE TABLE member (id bigint PRIMARY KEY, score integer);
