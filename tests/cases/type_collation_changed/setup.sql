CREATE COLLATION german (provider = icu, locale = 'de');
CREATE COLLATION other_c (provider = libc, locale = 'C');
