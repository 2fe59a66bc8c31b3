CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE SEQUENCE invoice_numbers START 1000;
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL UNIQUE, feeling mood DEFAULT 'ok', tags text[] DEFAULT '{}');
COMMENT ON TABLE authors IS 'people who write';
COMMENT ON COLUMN authors.name IS 'full name';
CREATE TABLE books (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  author_id integer REFERENCES authors(id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
  title varchar(200) NOT NULL,
  pages posint,
  price numeric(8,2) CHECK (price >= 0),
  title_lower text GENERATED ALWAYS AS (lower(title)) STORED,
  CONSTRAINT title_unique UNIQUE (author_id, title)
);
ALTER TABLE books ADD CONSTRAINT pages_small CHECK (pages < 10000) NOT VALID;
CREATE INDEX books_lower ON books (lower(title) DESC) WHERE pages > 10;
CREATE INDEX books_tags ON authors USING gin (tags);
CREATE INDEX books_cover ON books (author_id) INCLUDE (title);
CREATE VIEW long_books AS SELECT id, title FROM books WHERE pages > 500;
CREATE MATERIALIZED VIEW counts AS SELECT author_id, count(*) AS n FROM books GROUP BY author_id;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER books_touch BEFORE UPDATE ON books FOR EACH ROW EXECUTE FUNCTION touch();
