-- Interval types limited to fields, with and without a precision.
CREATE TABLE shift (
  id int PRIMARY KEY,
  length interval day to second(2),
  tenure interval year to month,
  slot interval hour,
  plain interval(3),
  spans interval minute to second[]
);
