CREATE DOMAIN us_zip AS varchar(10) COLLATE "C";
