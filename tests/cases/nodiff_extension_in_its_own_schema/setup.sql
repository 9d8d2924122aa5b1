-- The Supabase layout: extensions in a schema of their own, used qualified.
CREATE SCHEMA extensions;
CREATE EXTENSION citext WITH SCHEMA extensions;
CREATE EXTENSION "uuid-ossp" WITH SCHEMA extensions;
CREATE TABLE some_table (
  id uuid NOT NULL DEFAULT extensions.uuid_generate_v4() PRIMARY KEY,
  handle extensions.citext NOT NULL UNIQUE
);
