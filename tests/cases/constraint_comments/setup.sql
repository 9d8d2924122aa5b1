CREATE TABLE owner (id int PRIMARY KEY, n int CONSTRAINT owner_n_check CHECK (n > 0));
COMMENT ON CONSTRAINT owner_n_check ON owner IS 'old words';
