CREATE TABLE items (id bigint PRIMARY KEY, price integer, total integer GENERATED ALWAYS AS (price * 2) STORED);
