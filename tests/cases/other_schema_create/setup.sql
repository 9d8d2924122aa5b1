CREATE TABLE public.customers (id bigint PRIMARY KEY);
