-- What `pg_dump -s | psql` leaves of `status IN (...)` on a varchar column:
-- the casts moved into the array (PostgreSQL prints it so once read back).
CREATE TABLE job (
  id bigint PRIMARY KEY,
  status varchar(20) NOT NULL,
  run_at timestamptz,
  CONSTRAINT job_status_check CHECK (((status)::text = ANY (ARRAY[('pending'::character varying)::text, ('active'::character varying)::text, ('done'::character varying)::text])))
);
CREATE INDEX job_open_idx ON job (run_at) WHERE ((status)::text = ANY (ARRAY[('pending'::character varying)::text, ('active'::character varying)::text]));
CREATE INDEX job_not_done_idx ON job (run_at) WHERE status NOT IN ('done');  -- stored as status <> 'done'
