CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2));
CREATE VIEW cheap_items AS SELECT id, name FROM items WHERE price < 10 ORDER BY name;
CREATE VIEW totals AS SELECT count(*) AS n, sum(price) AS total FROM items WHERE name LIKE 'a%';
