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
ANALYZE payment;
