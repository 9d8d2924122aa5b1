CREATE TABLE orders (id bigint PRIMARY KEY, total numeric);
GRANT SELECT, DELETE ON orders TO pg_monitor;
GRANT INSERT ON orders TO PUBLIC;
