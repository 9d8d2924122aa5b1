CREATE TABLE ledger (id int PRIMARY KEY, owner text);
ALTER TABLE ledger ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_rows ON ledger FOR SELECT USING (owner = current_user);
CREATE POLICY same_rows ON ledger FOR UPDATE USING (owner = CURRENT_USER AND id > 0);
CREATE POLICY by_hand ON ledger FOR DELETE USING (false);
