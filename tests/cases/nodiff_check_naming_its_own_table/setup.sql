CREATE TABLE t (id bigint PRIMARY KEY, price integer, CONSTRAINT t_price_check CHECK (price >= 0));
CREATE SCHEMA other;
CREATE TABLE other.t (id bigint PRIMARY KEY, qty integer, CONSTRAINT t_qty_check CHECK (qty > 0));
