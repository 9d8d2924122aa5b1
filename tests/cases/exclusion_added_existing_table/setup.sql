CREATE TABLE rooms (id bigint PRIMARY KEY, during tstzrange NOT NULL, note text);
INSERT INTO rooms VALUES (1, '[2026-01-01,2026-01-02)', 'a'), (2, '[2026-01-03,2026-01-04)', 'b');
