CREATE TYPE status AS ENUM ('pending', 'done');
