-- Literals holding backslashes and quotes mean the same under every setting
-- of standard_conforming_strings (the case suite runs this with it off too).
CREATE TABLE t (id bigint PRIMARY KEY, path text DEFAULT 'C:\temp' NOT NULL);
