CREATE TABLE ledger (id int PRIMARY KEY, owner text);
