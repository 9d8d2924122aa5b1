CREATE SCHEMA billing;
CREATE TYPE billing.invoice_state AS ENUM ('draft', 'sent', 'paid');
CREATE TABLE public.customers (id bigint PRIMARY KEY);
CREATE TABLE billing.invoices (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    state billing.invoice_state NOT NULL DEFAULT 'draft'
);
CREATE INDEX invoices_customer_idx ON billing.invoices (customer_id);
-- a same-named table in public must not be confused with billing.invoices
CREATE TABLE public.invoices (id integer);
