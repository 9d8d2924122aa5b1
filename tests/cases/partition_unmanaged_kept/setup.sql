CREATE TABLE payment (
    payment_id bigint NOT NULL,
    customer_id integer NOT NULL,
    amount numeric(5,2) CHECK (amount >= 0),
    payment_date timestamptz NOT NULL,
    PRIMARY KEY (payment_date, payment_id)
) PARTITION BY RANGE (payment_date);
CREATE INDEX payment_customer_idx ON payment (customer_id);
CREATE TABLE payment_p2022_01 PARTITION OF payment FOR VALUES FROM ('2022-01-01') TO ('2022-02-01');
INSERT INTO payment VALUES (1, 1, 1.99, '2022-01-15');
CREATE TABLE payment_old PARTITION OF payment FOR VALUES FROM ('2021-01-01') TO ('2022-01-01');
CREATE INDEX payment_old_own_idx ON payment_old (amount);
CREATE FUNCTION payment_touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER payment_touch BEFORE INSERT ON payment FOR EACH ROW EXECUTE FUNCTION payment_touch();
