CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2));
CREATE MATERIALIZED VIEW item_counts AS SELECT name, count(*) AS n FROM items GROUP BY name;
