CREATE TABLE ledger (id int PRIMARY KEY, owner text);
ALTER TABLE ledger ENABLE ROW LEVEL SECURITY;
INSERT INTO ledger SELECT g, 'u' || g FROM generate_series(1, 100) g;
ANALYZE ledger;
