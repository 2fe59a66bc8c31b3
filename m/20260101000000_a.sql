-- migrate:up
CREATE TABLE t (id bigint primary key, x int, c text);
CREATE TABLE u (id bigint primary key);
-- migrate:down
DROP TABLE t;
