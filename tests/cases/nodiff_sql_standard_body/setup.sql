CREATE TABLE ledger (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, amount numeric NOT NULL);
CREATE FUNCTION plus_one(x integer) RETURNS integer LANGUAGE sql IMMUTABLE RETURN x + 1;
CREATE FUNCTION ledger_total() RETURNS numeric LANGUAGE sql STABLE BEGIN ATOMIC SELECT coalesce(sum(amount), 0) FROM ledger; END;
