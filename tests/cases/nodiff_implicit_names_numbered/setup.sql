-- Two columns whose implicit constraint names, cut to 63 bytes, are the
-- same: PostgreSQL numbers the label of the second (`_check1`, `_key1`, `_fkey1`).
CREATE TABLE parent (id int PRIMARY KEY);
CREATE TABLE measurements (
    id int PRIMARY KEY,
    a_column_name_long_enough_that_the_implicit_names_are_cut_short int CHECK (a_column_name_long_enough_that_the_implicit_names_are_cut_short > 0) UNIQUE REFERENCES parent (id),
    a_column_name_long_enough_that_the_implicit_names_are_cut_shorz int CHECK (a_column_name_long_enough_that_the_implicit_names_are_cut_shorz > 0) UNIQUE REFERENCES parent (id)
);
